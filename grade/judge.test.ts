import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  judgeAccess,
  judgeAccount,
  judgeAddress,
  judgeDovecot,
  judgeGreeting,
  judgeHostname,
  judgeLocalDomain,
  judgeNamedConf,
  judgeNamedConfLink,
  judgeRoundTrip,
  judgeZoneFile,
  parseClassW,
} from "./judge";

// Outputs below are what BIND 9.18, Sendmail 8.17 and Dovecot 2.3 of Debian 12 print.
const CHECKCONF_P = `options {
\tdirectory "/var/cache/bind";
\tdnssec-validation no;
};
zone "naver.com" IN {
\ttype master;
\tfile "naver.com.db";
\tallow-update {
\t\t"none";
\t};
};
zone "daum.net" {
\ttype primary;
\tfile "/etc/bind/zones/db.daum.net";
};
`;

describe("named.conf", () => {
  it("passes with a master (or primary) zone and file for every domain, and reads the directory", () => {
    const verdict = judgeNamedConf(0, CHECKCONF_P, ["naver.com", "daum.net"]);
    assert.equal(verdict.pass, true);
    assert.equal(verdict.directory, "/var/cache/bind");
    assert.deepEqual(
      verdict.zones.map((zone) => [zone.name, zone.file]),
      [
        ["naver.com", "naver.com.db"],
        ["daum.net", "/etc/bind/zones/db.daum.net"],
      ],
    );
  });

  it("fails naming the missing zone, with the course's zone block as the hint", () => {
    const verdict = judgeNamedConf(0, CHECKCONF_P, ["naver.com", "daum.net", "kakao.com"]);
    assert.equal(verdict.pass, false);
    assert.match(verdict.hint!.ko, /zone "kakao\.com" IN \{ type master; file "kakao\.com\.db";/);
  });

  it("fails a /etc/named.conf that is no longer the link to the file named reads", () => {
    assert.equal(judgeNamedConfLink(true), undefined);
    const copy = judgeNamedConfLink(false)!;
    assert.equal(copy.pass, false);
    assert.match(copy.hint!.en, /ln -sf bind\/named\.conf \/etc\/named\.conf/);
  });

  it("reports named-checkconf's own message for a file that does not parse", () => {
    const verdict = judgeNamedConf(1, "/etc/named.conf:52: missing ';' before 'allow-update'\n", ["naver.com"]);
    assert.equal(verdict.pass, false);
    assert.equal(verdict.observed, "named-checkconf: /etc/named.conf:52: missing ';' before 'allow-update'");
    assert.match(verdict.hint!.en, /missing ";"/);
  });
});

describe("zone files", () => {
  it("passes on named-checkzone's OK and fails with its complaint", () => {
    assert.equal(judgeZoneFile("naver.com", "naver.com.db", 0, "zone naver.com/IN: loaded serial 2\nOK\n").pass, true);
    const bad = judgeZoneFile(
      "naver.com",
      "naver.com.db",
      1,
      "dns_rdata_fromtext: naver.com.db:4: near '10.0.2.100.': bad dotted quad\nzone naver.com/IN: loading from master file naver.com.db failed: bad dotted quad\nzone naver.com/IN: not loaded due to errors.\n",
    );
    assert.equal(bad.pass, false);
    assert.match(bad.observed, /bad dotted quad \/ zone naver\.com\/IN: not loaded due to errors\./);
    assert.match(bad.hint!.ko, /\/var\/named\/naver\.com\.db/);
  });
});

describe("name resolution", () => {
  it("passes on the one expected address", () => {
    assert.equal(judgeAddress("lee-pc", "mail.daum.net", "10.0.2.200", 0, "10.0.2.200\n").pass, true);
  });

  it("points at the zone's mail record when the answer is another address (the course's typo)", () => {
    const verdict = judgeAddress("lee-pc", "mail.daum.net", "10.0.2.200", 0, "10.0.2.100\n");
    assert.equal(verdict.pass, false);
    assert.equal(verdict.observed, "mail.daum.net -> 10.0.2.100");
    assert.match(verdict.hint!.ko, /\/var\/named\/daum\.net\.db 의 'mail IN A' 행이 10\.0\.2\.200/);
  });

  it("points at resolv.conf and named when nothing answers", () => {
    const verdict = judgeAddress(
      "kim-pc",
      "mail.naver.com",
      "10.0.2.100",
      9,
      ";; connection timed out; no servers could be reached\n",
    );
    assert.equal(verdict.pass, false);
    assert.match(verdict.hint!.en, /resolv\.conf/);
    const none = judgeAddress("kim-pc", "mail.naver.com", "10.0.2.100", 0, "");
    assert.equal(none.observed, "mail.naver.com -> no answer");
    // A name server without the lab's zone (an exercise lab before 실습 1 step 3).
    assert.match(none.hint!.en, /no address for mail\.naver\.com: check zone "naver\.com" in \/etc\/named\.conf/);
  });
});

describe("Sendmail", () => {
  it("takes the 220 greeting as listening, and anything else as not, pointing at DaemonPortOptions", () => {
    assert.equal(
      judgeGreeting("mail.naver.com", 0, "220 mail.naver.com ESMTP Sendmail 8.17.1.9/8.17.1.9/Debian-2+deb12u2; ...\n")
        .pass,
      true,
    );
    const refused = judgeGreeting(
      "mail.naver.com",
      1,
      "greeting: connect: Connection refused\ngreeting: line 1: /dev/tcp/mail.naver.com/25: Connection refused\n",
    );
    assert.equal(refused.pass, false);
    const limited = judgeGreeting("mail.naver.com", 0, "421 4.3.2 Connection rate limit exceeded.\n");
    assert.equal(limited.pass, false);
    const unresolved = judgeGreeting(
      "mail.naver.com",
      1,
      "greeting: line 1: mail.naver.com: Temporary failure in name resolution\n",
    );
    assert.match(unresolved.hint!.ko, /이름 해석 행부터/);
    assert.equal(limited.observed, "421 4.3.2 Connection rate limit exceeded.");
    assert.match(limited.hint!.en, /ClientRate:<the PC's address> 0/);
    // The course's CentOS line and the lab's Debian one (Name=MTA-v4 ... Addr=127.0.0.1 last).
    assert.match(refused.hint!.ko, /'Addr=127\.0\.0\.1' 을 지우고/);
    assert.match(
      refused.hint!.en,
      /267 on the course's CentOS, 271 on the lab's Debian: 'Name=MTA-v4, Port=smtp, Addr=127\.0\.0\.1'/,
    );
  });

  const CLASS_W = `WARNING: local host name (vm) is not qualified; see cf/README: WHO AM I?
ADDRESS TEST MODE (ruleset 3 NOT automatically invoked)
Enter <ruleset> <address>
> mail.naver.com
naver.com
localhost
[10.0.2.100]
> `;

  it("reads class w from sendmail -bt, the first name on the prompt's line", () => {
    assert.deepEqual(parseClassW(CLASS_W), ["mail.naver.com", "naver.com", "localhost", "[10.0.2.100]"]);
    assert.equal(judgeLocalDomain("naver.com", "mail.naver.com", 0, CLASS_W).pass, true);
    const missing = judgeLocalDomain("daum.net", "mail.daum.net", 0, CLASS_W.replace("naver.com\n", ""));
    assert.equal(missing.pass, false);
    const rejected = judgeLocalDomain(
      "naver.com",
      "mail.naver.com",
      70,
      `/etc/mail/sendmail.cf: line 2047: unknown configuration line "Zbogus"\n${CLASS_W}`,
    );
    assert.equal(rejected.pass, false);
    assert.equal(
      rejected.observed,
      'sendmail -bt: /etc/mail/sendmail.cf: line 2047: unknown configuration line "Zbogus"',
    );
    assert.match(rejected.hint!.en, /cannot read that line of \/etc\/mail\/sendmail\.cf/);
    assert.match(missing.hint!.ko, /'Cwlocalhost' 행 \(CentOS 85행쯤, Debian 98행쯤\) 를 'Cwdaum\.net'/);
  });

  const DUMP = "connect:127.0.0.1\tRELAY\nnaver.com\tRELAY\ndaum.net\tRELAY\nconnect:10.0.2\tRELAY\n";
  const expected = [
    { key: "naver.com", action: "RELAY" },
    { key: "daum.net", action: "RELAY" },
    { key: "10.0.2", action: "RELAY" },
  ];

  it("finds the course's RELAY keys in access.db, tagged or not", () => {
    const verdict = judgeAccess("mail.naver.com", expected, { code: 0, output: DUMP }, false);
    assert.equal(verdict.pass, true, verdict.observed);
  });

  it("does not take another rule of the same key (ClientConn:10.0.2 0) for the RELAY rule", () => {
    // makemap -u prints in hash order: here the lab's exemptions come before the relay rule.
    const dump = "clientconn:10.0.2\t0\nclientrate:10.0.2\t0\nnaver.com\tRELAY\ndaum.net\tRELAY\n10.0.2\tRELAY\n";
    assert.equal(judgeAccess("mail.naver.com", expected, { code: 0, output: dump }, false).pass, true);
    const withoutRelay = "clientconn:10.0.2\t0\nnaver.com\tRELAY\ndaum.net\tRELAY\n";
    assert.equal(judgeAccess("mail.naver.com", expected, { code: 0, output: withoutRelay }, false).pass, false);
  });

  it("fails a missing key, and an access file edited after its last makemap", () => {
    const missing = judgeAccess(
      "mail.naver.com",
      expected,
      { code: 0, output: DUMP.replace("daum.net\tRELAY\n", "") },
      false,
    );
    assert.equal(missing.pass, false);
    assert.match(missing.observed, /missing daum\.net RELAY/);
    const stale = judgeAccess("mail.naver.com", expected, { code: 0, output: DUMP }, true);
    assert.equal(stale.pass, false);
    assert.match(stale.observed, /access is newer than access\.db/);
    assert.match(stale.hint!.ko, /makemap hash \/etc\/mail\/access < \/etc\/mail\/access/);
    const none = judgeAccess(
      "mail.naver.com",
      expected,
      { code: 1, output: "makemap: error opening type hash map /etc/mail/access.db: No such file or directory\n" },
      false,
    );
    assert.equal(none.pass, false);
  });
});

describe("accounts and Dovecot", () => {
  it("reads getent passwd", () => {
    assert.equal(
      judgeAccount("lee", "mail.naver.com", 0, "lee:x:1000:1000::/home/lee:/bin/bash\n").observed,
      "lee: uid 1000, home /home/lee",
    );
    assert.match(judgeAccount("lee", "mail.naver.com", 2, "").hint!.ko, /useradd lee/);
  });

  it("passes the course's settings and names each one that is off", () => {
    assert.equal(judgeDovecot("mail.naver.com", 0, " imap pop3\nyes\nmbox:~/mail:INBOX=/var/mail/%u\n").pass, true);
    const off = judgeDovecot("mail.naver.com", 0, " imap\nno\n\n");
    assert.equal(off.pass, false);
    assert.match(off.hint!.en, /protocols = imap pop3 lmtp.*ssl = yes.*mail_location/);
    const broken = judgeDovecot(
      "mail.naver.com",
      89,
      "doveconf: Fatal: Error in configuration file /etc/dovecot/conf.d/10-ssl.conf line 8: Unknown setting: SSL\n",
    );
    assert.equal(broken.pass, false);
    assert.match(broken.observed, /10-ssl\.conf line 8: Unknown setting: SSL/);
  });

  it("keeps a host name as it is shown, and says what it must be", () => {
    assert.equal(judgeHostname("mail.naver.com\n", "mail.naver.com").pass, true);
    assert.match(judgeHostname("localhost.localdomain\n", "mail.naver.com").hint!.ko, /\/etc\/hostname/);
  });
});

describe("the round trip's rows", () => {
  it("keeps a passing row's detail, and sends a wrong-server failure to the name resolution rows", () => {
    assert.equal(
      judgeRoundTrip({ check: "relay kim@daum.net -> lee@naver.com", result: "pass", detail: "accepted" }).pass,
      true,
    );
    const wrongServer = judgeRoundTrip({
      check: "pop3s kim@daum.net <- lee@naver.com",
      result: "fail",
      detail: "curl: (60) SSL: no alternative certificate subject name matches target host name 'mail.daum.net'",
    });
    assert.match(wrongServer.hint!.ko, /이름 해석/);
    const login = judgeRoundTrip({
      check: "pop3s lee@naver.com <- kim@daum.net",
      result: "fail",
      detail: "curl: (67) Login denied",
    });
    assert.match(login.hint!.ko, /passwd 로 정한 암호/);
    const relay = judgeRoundTrip({
      check: "relay lee@naver.com -> kim@daum.net",
      result: "fail",
      detail: "550 5.7.1 Relaying denied",
    });
    assert.match(relay.hint!.en, /access RELAY/);
  });
});
