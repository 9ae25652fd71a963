/**
 * `npm run grade`, end to end on a configured lab: the dev topology moved to 10.0.17.0/24
 * (`graded`, written to the test's folder, no self-check: the grader runs the round trip itself).
 *
 * 1. every step of 실습 1 and 실습 2 passes, in Korean and with `--lang en`, exit 0;
 * 2. a student's broken files are failed rows with the checker's own message and a hint, not a
 *    crash: named.conf without the `;` after `file "...daum.net"` (the course's own typo), a zone
 *    file with an address ending in ".", an unknown Dovecot setting, an access file edited after
 *    makemap, a wrong password; each is put back afterwards and the grade passes again.
 *
 * The edits are what a student does in `docker exec -it <host> bash`: sed on the hosts' files.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { failed, grade as gradeStack, sh } from "./grading";
import { labPerSuite, root } from "./lab";

const STACK = "graded";
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-graded-"));
const stackFile = path.join(dir, `Pulumi.${STACK}.yaml`);
const wrongPasswordFile = path.join(dir, "wrong", `Pulumi.${STACK}.yaml`);
const dev = fs.readFileSync(path.join(root, "stacks", "Pulumi.dev.yaml"), "utf8").replace(/10\.0\.2\./g, "10.0.17.");
fs.writeFileSync(stackFile, `${dev}\n  mail-lab:verify: false\n`);
fs.mkdirSync(path.dirname(wrongPasswordFile));
fs.writeFileSync(
  wrongPasswordFile,
  `${dev.replace("password: lee", "password: not-lees")}\n  mail-lab:verify: false\n`,
);

const grade = (file = stackFile, ...args: string[]) => gradeStack(file, ...args);
const NS = `mail-lab-${STACK}-ns`;
const NAVER = `mail-lab-${STACK}-mail-naver-com`;

describe("npm run grade on a configured lab", { timeout: 20 * 60_000 }, () => {
  labPerSuite(stackFile, dir);

  it("passes every step of 실습 1 and 실습 2, in Korean and in English", () => {
    const korean = grade();
    assert.equal(korean.code, 0, korean.stdout);
    assert.deepEqual(failed(korean), []);
    for (const row of [
      "호스트 이름 mail.naver.com",
      "named.conf 의 zone ns.naver.com",
      "존 파일 daum.net ns.naver.com",
    ]) {
      assert.ok(korean.rows.includes(`통과 ${row}`), `${row}\n${korean.stdout}`);
    }
    assert.ok(korean.rows.includes("통과 이름 해석 (nslookup) lee-pc"), korean.stdout);
    assert.ok(korean.rows.includes("통과 메일 보내기 (SMTP 릴레이) kim@daum.net -> lee@naver.com"), korean.stdout);
    assert.ok(korean.rows.includes("통과 메일 받기 (POP3, TLS) lee@naver.com <- kim@daum.net"), korean.stdout);
    assert.match(
      korean.stdout,
      new RegExp(`^${korean.rows.length} 통과, 0 실패 \\(${korean.rows.length} passed, 0 failed\\)$`, "m"),
    );

    const english = grade(stackFile, "--lang", "en");
    assert.equal(english.code, 0, english.stdout);
    assert.equal(english.rows.length, korean.rows.length);
    assert.match(english.stdout, new RegExp(`^${english.rows.length} passed, 0 failed$`, "m"));
  });

  it("fails named.conf without the ; after file, with named-checkconf's message, and passes once it is back", async () => {
    await sh(
      NS,
      "cp /etc/bind/named.conf /tmp/named.conf.good && sed -i 's|db.daum.net\";|db.daum.net\"|' /etc/bind/named.conf",
    );
    try {
      const result = grade();
      assert.equal(result.code, 1);
      assert.deepEqual(failed(result), [
        "실패 named.conf 의 zone ns.naver.com",
        "실패 존 파일 naver.com ns.naver.com",
        "실패 존 파일 daum.net ns.naver.com",
      ]);
      assert.match(result.stdout, /named-checkconf: \/etc\/bind\/named\.conf:\d+: missing ';' before/);
      assert.match(result.stdout, /-> 힌트: named-checkconf가 알려 준 파일과 행을 고친다/);
    } finally {
      await sh(NS, "cp /tmp/named.conf.good /etc/bind/named.conf");
    }
  });

  it("fails a zone file with an address ending in a dot, with named-checkzone's message", async () => {
    await sh(
      NS,
      "cp /etc/bind/zones/db.daum.net /tmp/db.good && printf 'bad IN A 10.0.17.200.\\n' >> /etc/bind/zones/db.daum.net",
    );
    try {
      const result = grade(stackFile, "--lang", "en");
      assert.deepEqual(failed(result), ["FAIL zone file of daum.net ns.naver.com"]);
      assert.match(result.stdout, /bad dotted quad/);
      assert.match(result.stdout, /-> hint: fix \/var\/named\/daum\.net\.db/);
    } finally {
      await sh(NS, "cp /tmp/db.good /etc/bind/zones/db.daum.net");
    }
  });

  it("fails an unknown Dovecot setting and an access file edited after makemap", async () => {
    await sh(
      NAVER,
      "cp /etc/dovecot/dovecot.conf /tmp/dovecot.good && printf 'SSL = required\\n' >> /etc/dovecot/dovecot.conf",
    );
    await sh(NAVER, "touch -d '+1 hour' /etc/mail/access");
    try {
      const result = grade();
      assert.deepEqual(failed(result), [
        "실패 access RELAY 와 makemap mail.naver.com",
        "실패 Dovecot 설정 (ssl, mail_location) mail.naver.com",
      ]);
      assert.match(result.stdout, /access is newer than access\.db/);
      assert.match(result.stdout, /Unknown setting: SSL/);
    } finally {
      await sh(
        NAVER,
        "cp /tmp/dovecot.good /etc/dovecot/dovecot.conf && touch -r /etc/mail/access.db /etc/mail/access",
      );
    }
    assert.equal(grade().code, 0, "the grade passes again once the files are back");
  });

  it("fails reading mail with a wrong password, pointing at passwd", () => {
    const result = grade(wrongPasswordFile);
    assert.equal(result.code, 1);
    assert.ok(failed(result).length > 0);
    assert.ok(
      failed(result).every((row) => /메일 받기/.test(row) && row.includes("lee@naver.com <-")),
      failed(result).join("\n"),
    );
    assert.match(result.stdout, /passwd 로 정한 암호/);
  });
});
