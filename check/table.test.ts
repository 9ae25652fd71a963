import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderTable, wrap } from "./table";

describe("wrap", () => {
  it("breaks at spaces within the width, mid-word only when a word is longer", () => {
    assert.deepEqual(wrap("one two three", 7), ["one two", "three"]);
    assert.deepEqual(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
    assert.deepEqual(wrap("", 5), [""]);
    assert.throws(() => wrap("x", 0), /width must be at least 1/);
  });

  it("turns line breaks and tabs into single spaces", () => {
    assert.deepEqual(wrap("a\r\n\tb", 10), ["a b"]);
  });
});

describe("renderTable", () => {
  it("aligns check | result | detail under a header and ends with a summary", () => {
    const text = renderTable([
      { check: "dns lee-pc: A naver.com", result: "pass", detail: "A naver.com -> 10.0.8.100 (aa, from 10.0.8.53)" },
      { check: "relay kim@daum.net -> lee@naver.com", result: "fail", detail: "t via mail.daum.net: refused" },
    ]);
    assert.equal(
      text,
      [
        "check                               | result | detail",
        "------------------------------------+--------+-----------------------------------------------",
        "dns lee-pc: A naver.com             | pass   | A naver.com -> 10.0.8.100 (aa, from 10.0.8.53)",
        "relay kim@daum.net -> lee@naver.com | fail   | t via mail.daum.net: refused",
        "2 checks: 1 passed, 1 failed",
        "",
      ].join("\n"),
    );
  });

  it("wraps a long detail onto continuation rows with empty check and result cells", () => {
    const text = renderTable(
      [{ check: "pop3s", result: "fail", detail: "token at pop3s://mail.daum.net/: not found after 10s" }],
      { detailWidth: 20 },
    );
    assert.deepEqual(text.split("\n"), [
      "check | result | detail",
      "------+--------+---------------------",
      "pop3s | fail   | token at",
      "      |        | pop3s://mail.daum.ne",
      "      |        | t/: not found after",
      "      |        | 10s",
      "1 checks: 0 passed, 1 failed",
      "",
    ]);
  });

  it("keeps every row on one line whatever the detail holds", () => {
    const text = renderTable([{ check: "x\ny", result: "pass", detail: "a\nb" }]);
    assert.equal(text.split("\n")[2], "x y   | pass   | a b");
  });

  it("says so when there is nothing to check", () => {
    assert.equal(
      renderTable([]),
      "check | result | detail\n------+--------+-------\nno checks: the lab has no client to run them from\n",
    );
  });
});
