import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { displayWidth, renderGrade } from "./report";
import type { GradeRow } from "./steps";

const rows: GradeRow[] = [
  {
    exercise: 1,
    step: 1,
    title: { ko: "호스트 이름", en: "host name" },
    host: "mail.naver.com",
    verdict: { pass: true, observed: "mail.naver.com" },
  },
  {
    exercise: 1,
    step: 3,
    title: { ko: "존 파일 daum.net", en: "zone file of daum.net" },
    host: "ns.naver.com",
    verdict: {
      pass: false,
      observed: "named-checkzone daum.net daum.net.db: bad dotted quad\nnot loaded",
      hint: { ko: "/var/named/daum.net.db 를 고친다", en: "fix /var/named/daum.net.db" },
    },
  },
];

describe("the grade's text", () => {
  it("counts a Hangul syllable as two cells", () => {
    assert.equal(displayWidth("통과"), 4);
    assert.equal(displayWidth("step 1"), 6);
  });

  it("lines up Korean columns by display width, with a hint under the failure and the summary", () => {
    const text = renderGrade(rows, "ko");
    const lines = text.trimEnd().split("\n");
    assert.equal(lines.length, 6);
    // Every " | " separator sits at the same display column on the heading and on each row.
    const columns = (line: string) => {
      const at: number[] = [];
      let width = 0;
      for (let index = 0; index < line.length; index++) {
        if (line.startsWith(" | ", index)) at.push(width);
        width += displayWidth(line[index]!);
      }
      return at;
    };
    assert.deepEqual(columns(lines[2]!), columns(lines[0]!));
    assert.deepEqual(columns(lines[3]!), columns(lines[0]!));
    assert.match(lines[2]!, /^실습 1 \| step 1 \| 호스트 이름\s+\| mail\.naver\.com \| 통과 \| mail\.naver\.com$/);
    assert.match(lines[3]!, /\| 실패 \| named-checkzone daum\.net daum\.net\.db: bad dotted quad not loaded$/);
    assert.equal(lines[4], "    -> 힌트: /var/named/daum.net.db 를 고친다");
    assert.equal(lines[5], "1 통과, 1 실패 (1 passed, 1 failed)");
  });

  it("speaks English with --lang en", () => {
    const text = renderGrade(rows, "en");
    assert.match(text, /^Lab 1 \| step 3 \| zone file of daum\.net \| ns\.naver\.com +\| FAIL +\|/m);
    assert.match(text, /^ {4}-> hint: fix \/var\/named\/daum\.net\.db$/m);
    assert.match(text, /^1 passed, 1 failed$/m);
  });
});
