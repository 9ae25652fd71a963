/**
 * The verdicts on real client output. Every fixture under fixtures/ was captured from dig, swaks
 * and curl inside a deployed lab (stack `checked`, 10.0.8.0/24), not written by hand.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { judgeDns, judgeMessage, judgeRelay, parseDig, parseImapSearch, parsePop3List, parseSwaks } from "./judge";

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, "fixtures", name), "utf8");
const ok = (stdout: string) => ({ code: 0, stdout, stderr: "" });

describe("dig", () => {
  it("reads status, flags, the answering server and the answer section", () => {
    const reply = parseDig(fixture("dig-mx-daum.txt"));
    assert.equal(reply.status, "NOERROR");
    assert.deepEqual(reply.flags, ["qr", "aa", "rd"]);
    assert.equal(reply.server, "10.0.8.53");
    assert.deepEqual(reply.answers, [{ name: "daum.net.", type: "MX", data: "10 mail.daum.net." }]);
    assert.equal(reply.error, undefined);
  });

  it("reads why no server answered", () => {
    const reply = parseDig(fixture("dig-unreachable.txt"));
    assert.equal(reply.status, undefined);
    assert.match(reply.error ?? "", /communications error to 10\.0\.8\.99#53: timed out|no servers could be reached/);
  });

  const mx = { name: "daum.net", type: "MX" as const, expected: "10 mail.daum.net.", nameServer: "10.0.8.53" };

  it("passes an authoritative answer from the lab's name server with the expected data", () => {
    const result = judgeDns("dns lee-pc: MX daum.net", mx, ok(fixture("dig-mx-daum.txt")));
    assert.deepEqual(result, {
      check: "dns lee-pc: MX daum.net",
      result: "pass",
      detail: "MX daum.net -> 10 mail.daum.net. (aa, from 10.0.8.53)",
    });
    const a = judgeDns(
      "dns lee-pc: A naver.com",
      { name: "naver.com", type: "A", expected: "10.0.8.100", nameServer: "10.0.8.53" },
      ok(fixture("dig-a-naver.txt")),
    );
    assert.equal(a.result, "pass", a.detail);
  });

  it("fails other data, another server, a non-authoritative answer, NXDOMAIN and no answer at all", () => {
    const wrongData = judgeDns("c", { ...mx, expected: "10 mx.daum.net." }, ok(fixture("dig-mx-daum.txt")));
    assert.equal(wrongData.result, "fail");
    assert.match(wrongData.detail, /expected 10 mx\.daum\.net\.; got 10 mail\.daum\.net\./);

    const otherServer = judgeDns("c", { ...mx, nameServer: "10.0.8.54" }, ok(fixture("dig-mx-daum.txt")));
    assert.equal(otherServer.result, "fail");
    assert.match(otherServer.detail, /answered by 10\.0\.8\.53, not the lab's 10\.0\.8\.54/);

    const notAuthoritative = judgeDns(
      "c",
      mx,
      ok(fixture("dig-mx-daum.txt").replace(";; flags: qr aa rd;", ";; flags: qr rd ra;")),
    );
    assert.equal(notAuthoritative.result, "fail");
    assert.match(notAuthoritative.detail, /not authoritative/);

    const nxdomain = judgeDns(
      "c",
      { name: "nosuch.daum.net", type: "A", expected: "10.0.8.200", nameServer: "10.0.8.53" },
      ok(fixture("dig-nxdomain.txt")),
    );
    assert.equal(nxdomain.result, "fail");
    assert.match(nxdomain.detail, /status NXDOMAIN; got no A record/);

    const unreachable = judgeDns("c", mx, { code: 9, stdout: fixture("dig-unreachable.txt"), stderr: "" });
    assert.equal(unreachable.result, "fail");
    assert.match(unreachable.detail, /^MX daum\.net: expected 10 mail\.daum\.net\.; (communications error|no servers)/);

    const stopped = judgeDns("c", mx, {
      code: 1,
      stdout: "",
      stderr: "Error response from daemon: Container 0123 is not running\n",
    });
    assert.match(stopped.detail, /Container 0123 is not running/);
  });
});

describe("swaks", () => {
  it("sees STARTTLS and the 250 for the message's data", () => {
    const transcript = parseSwaks(fixture("swaks-accepted.txt"));
    assert.equal(transcript.tlsStarted, true);
    assert.match(transcript.accepted ?? "", /^250 2\.0\.0 \w+ Message accepted for delivery$/);
    assert.equal(transcript.error, undefined);
  });

  it("passes a message accepted over verified STARTTLS, naming the token and the queue id", () => {
    const result = judgeRelay(
      "relay",
      { token: "mail-lab-check-0123456789ab", server: "mail.naver.com" },
      ok(fixture("swaks-accepted.txt")),
    );
    assert.equal(result.result, "pass");
    assert.match(
      result.detail,
      /^mail-lab-check-0123456789ab via mail\.naver\.com, STARTTLS verified, accepted: 250 2\.0\.0 \w+$/,
    );
  });

  it("fails a refused recipient with the server's reply", () => {
    const result = judgeRelay(
      "r",
      { token: "t", server: "mail.naver.com" },
      {
        code: 24,
        stdout: fixture("swaks-user-unknown.txt"),
        stderr: "",
      },
    );
    assert.equal(result.result, "fail");
    assert.equal(result.detail, "t via mail.naver.com: 550 5.1.1 <nosuchuser@naver.com>... User unknown");
  });

  it("fails an unreachable server with swaks's whole error", () => {
    const result = judgeRelay(
      "r",
      { token: "t", server: "10.0.8.250" },
      {
        code: 2,
        stdout: "",
        stderr: fixture("swaks-no-route.txt"),
      },
    );
    assert.equal(result.result, "fail");
    assert.equal(
      result.detail,
      "t via 10.0.8.250: Error connecting to 10.0.8.250:25: IO::Socket::INET: connect: No route to host",
    );
  });

  it("fails a message accepted without STARTTLS", () => {
    const transcript = parseSwaks(fixture("swaks-no-tls.txt"));
    assert.equal(transcript.tlsStarted, false);
    assert.ok(transcript.accepted);
    const result = judgeRelay("r", { token: "t", server: "mail.naver.com" }, ok(fixture("swaks-no-tls.txt")));
    assert.deepEqual(result, { check: "r", result: "fail", detail: "t via mail.naver.com: accepted without STARTTLS" });
  });

  it("passes it on an exercise lab, whose Sendmail offers no STARTTLS, and says so", () => {
    const sent = { token: "t", server: "mail.naver.com", starttls: "if-offered" as const };
    const result = judgeRelay("r", sent, ok(fixture("swaks-no-tls.txt")));
    assert.equal(result.result, "pass");
    assert.match(result.detail, /^t via mail\.naver\.com, no STARTTLS offered, accepted: 250 /);
    // A refusal is still a refusal.
    const refused = judgeRelay("r", sent, { code: 24, stdout: fixture("swaks-user-unknown.txt"), stderr: "" });
    assert.equal(refused.result, "fail");
  });
});

describe("mailbox listings", () => {
  it("reads POP3 LIST and IMAP SEARCH (CRLF lines)", () => {
    assert.deepEqual(parsePop3List(fixture("pop3-list.txt")), [1, 2, 3, 4]);
    assert.deepEqual(parseImapSearch(fixture("imap-search.txt")), [3]);
    assert.deepEqual(parseImapSearch("* SEARCH\r\n"), []);
    assert.deepEqual(parseImapSearch("* SEARCH 2 7\r\n"), [2, 7]);
  });
});

describe("a fetched message", () => {
  const expected = { relayedBy: "mail.naver.com", receivedBy: "mail.daum.net" };

  it("passes when it carries the token and came from the sender's mail host by MX relay", () => {
    assert.deepEqual(
      judgeMessage(fixture("message-relayed.txt"), { token: "mail-lab-check-0123456789ab", ...expected }),
      {
        ok: true,
        why: "relayed by mail.naver.com",
      },
    );
  });

  it("fails without the token", () => {
    const verdict = judgeMessage(fixture("message-relayed.txt"), { token: "mail-lab-check-ffffffffffff", ...expected });
    assert.equal(verdict.ok, false);
    assert.match(verdict.why, /no message with mail-lab-check-ffffffffffff/);
  });

  it("fails a message handed to the recipient's host directly, not relayed by the sender's", () => {
    const verdict = judgeMessage(fixture("message-direct.txt"), { token: "mail-lab-check-direct000000", ...expected });
    assert.equal(verdict.ok, false);
    assert.match(verdict.why, /has no "Received: from mail\.naver\.com \.\.\. by mail\.daum\.net"/);
  });
});
