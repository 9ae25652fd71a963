/**
 * An exercise lab (`mail-lab:exercise: true`), end to end: the dev topology on 10.0.18.0/24, its
 * hosts booted as the course starts them, then configured the way a student does it, by the
 * course's commands in `docker exec` (sed and printf on the course's files, useradd, passwd,
 * makemap, m4, named-checkconf, named-checkzone, nslookup, systemctl, reboot), never by copying
 * the lab's rendered files. `npm run grade` runs after each group of steps: it fails what is not
 * done yet, reports the course's own two typos (the `;` after `file "daum.net.db"`, daum.net's
 * `mail` record with naver's address) with the checkers' messages, and passes every step at the
 * end, when mail goes both ways between the students' own accounts.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { failed, grade as gradeStack, passed, sh } from "./grading";
import { docker, eventually, execIn, labPerSuite, passesHealthcheck, pop3sMessages, root, sleep, waitFor } from "./lab";

const STACK = "exercise";
const NET = "10.0.18";
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-exercise-"));
const stackFile = path.join(dir, `Pulumi.${STACK}.yaml`);
const dev = fs.readFileSync(path.join(root, "stacks", "Pulumi.dev.yaml"), "utf8").replace(/10\.0\.2\b/g, NET);
fs.writeFileSync(stackFile, `${dev}\n  mail-lab:exercise: true\n`);

const grade = (...args: string[]) => gradeStack(stackFile, ...args);
const NS = `mail-lab-${STACK}-ns`;
const NAVER = `mail-lab-${STACK}-mail-naver-com`;
const DAUM = `mail-lab-${STACK}-mail-daum-net`;
const LEE_PC = `mail-lab-${STACK}-lee-pc`;
const KIM_PC = `mail-lab-${STACK}-kim-pc`;

/** Rows of 실습 1 (the name server and name resolution) in a grade. */
const lab1 = (rows: string[]) => rows.filter((row) => /(호스트 이름|named\.conf|존 파일|이름 해석)/.test(row));

/** The course's zone file (실습 1 step 3), for `domain` with `mail` at `mailAddress`. */
function courseZone(domain: string, serverAddress: string, mailAddress: string): string {
  return [
    "$TTL    3H",
    "@       SOA    @      root.   ( 2  1D  1H  1W  1H )",
    "          IN       NS    @",
    `          IN       A      ${serverAddress}`,
    `          IN       MX    10   mail.${domain}.`,
    "",
    `mail    IN        A      ${mailAddress}`,
    "",
  ].join("\n");
}

/** A shell word in single quotes. */
const quoted = (text: string) => `'${text.replace(/'/g, "'\\''")}'`;

/** 실습 2 step 1 (or 3) on one mail server, as the course does it after sendmail.cf. */
async function configureMailServer(container: string, login: string): Promise<void> {
  // /etc/mail/access: the course's three RELAY lines (10.0.2 is this lab's 10.0.18), then makemap.
  await sh(
    container,
    `printf 'naver.com\\tRELAY\\ndaum.net\\tRELAY\\n${NET}\\tRELAY\\n' >> /etc/mail/access && makemap hash /etc/mail/access < /etc/mail/access`,
  );
  // Dovecot: protocols (Debian includes them from protocols.d; the course's line is added after
  // that include), listen, base_dir; ssl = yes (Debian's default already); mail_location
  // (Debian's default already), mail_access_groups, lock_method.
  await sh(
    container,
    [
      "sed -i 's|^!include_try /usr/share/dovecot/protocols.d/\\*.protocol$|&\\nprotocols = imap pop3 lmtp|' /etc/dovecot/dovecot.conf",
      "sed -i 's/^#listen = \\*, ::$/listen = *, ::/; s|^#base_dir = /var/run/dovecot/$|base_dir = /var/run/dovecot/|' /etc/dovecot/dovecot.conf",
      "sed -i 's/^ssl = required$/ssl = yes/' /etc/dovecot/conf.d/10-ssl.conf",
      "sed -i 's|^#mail_location = mbox:~/mail:INBOX=/var/mail/%u$|mail_location = mbox:~/mail:INBOX=/var/mail/%u|' /etc/dovecot/conf.d/10-mail.conf",
      "sed -i 's/^#mail_access_groups =.*/mail_access_groups = mail/; s/^#lock_method = fcntl$/lock_method = fcntl/' /etc/dovecot/conf.d/10-mail.conf",
    ].join(" && "),
  );
  // The user, with the course's password (the login itself), typed twice at passwd's prompts.
  await sh(container, `useradd ${login} && printf '${login}\\n${login}\\n' | passwd ${login}`);
  await sh(
    container,
    "systemctl restart sendmail && systemctl enable sendmail && systemctl restart dovecot && systemctl enable dovecot",
  );
}

/** The message on `login`'s POP3S mailbox (curl from the user's PC, certificate verified) holding `token`. */
function readOverPop3s(pc: string, login: string, host: string, token: string): Promise<string> {
  return eventually(`${token} in ${login}@${host}`, async () =>
    (await pop3sMessages(pc, login, login, host).catch(() => [])).find((message) => message.includes(token)),
  );
}

describe("an exercise lab, configured by a student following the course", { timeout: 30 * 60_000 }, () => {
  labPerSuite(stackFile, dir);

  it("boots the hosts as the course starts them, and the grader fails every step not done yet", async () => {
    // Stock configuration: Sendmail on 127.0.0.1 only, BIND with no lab zone, no lab account.
    assert.match(
      await sh(NAVER, "grep '^O DaemonPortOptions=.*Name=MTA-v4' /etc/mail/sendmail.cf"),
      /Addr=127\.0\.0\.1/,
    );
    assert.doesNotMatch(await sh(NS, "named-checkconf -p /etc/named.conf"), /naver\.com/);
    assert.equal((await execIn(NAVER, ["id", "lee"])).code, 1, "the course creates lee with useradd");
    assert.match(await sh(NS, "systemctl status named"), /Active: active \(running\)/);
    assert.match(await sh(NAVER, "systemctl status sendmail dovecot"), /dovecot\.service[\s\S]*Active: active/);
    assert.equal(await sh(NS, "readlink -f /var/named"), "/var/cache/bind\n");

    const fresh = grade();
    console.log(fresh.stdout);
    assert.equal(fresh.code, 1);
    // What the hosts already have: their names (the lab sets them) and Debian's Dovecot defaults.
    assert.deepEqual(passed(fresh).sort(), [
      "통과 Dovecot 설정 (ssl, mail_location) mail.daum.net",
      "통과 Dovecot 설정 (ssl, mail_location) mail.naver.com",
      "통과 호스트 이름 mail.daum.net",
      "통과 호스트 이름 mail.naver.com",
    ]);
    for (const row of [
      "실패 named.conf 의 zone ns.naver.com",
      "실패 이름 해석 (nslookup) lee-pc",
      "실패 Sendmail 수신 주소 (25번 포트) mail.naver.com",
      "실패 로컬 도메인 (Cw, local-host-names) mail.daum.net",
      "실패 access RELAY 와 makemap mail.naver.com",
      "실패 메일 계정 kim@daum.net",
      "실패 메일 보내기 (SMTP 릴레이) kim@daum.net -> lee@naver.com",
    ]) {
      assert.ok(fresh.rows.includes(row), `${row}\n${fresh.stdout}`);
    }
  });

  it("실습 1: named.conf and the zone files as the course writes them; its two typos are reported, then fixed", async () => {
    // Steps 1 and 2: each mail server's names.
    for (const [container, fqdn, address] of [
      [NAVER, "mail.naver.com", `${NET}.100`],
      [DAUM, "mail.daum.net", `${NET}.200`],
    ] as const) {
      await sh(
        container,
        `printf '${address}   ${fqdn}\\n' >> /etc/hosts && printf '${fqdn}\\n' >> /etc/mail/local-host-names`,
      );
      assert.equal(await sh(container, "hostname"), `${fqdn}\n`);
    }

    // Step 3: named.conf (Debian's options have no listen-on or allow-query line to change, and
    // allow any already; dnssec-validation is there), then the zones at the end, verbatim: with
    // the course's missing ";" after file "daum.net.db".
    await sh(NS, "sed -i 's/dnssec-validation auto;/dnssec-validation no;/' /etc/bind/named.conf.options");
    const zones = [
      'zone "naver.com" IN {',
      "        type master;",
      '        file "naver.com.db";',
      "        allow-update { none; };",
      "};",
      'zone "daum.net" IN {',
      "        type master;",
      '        file "daum.net.db"',
      "        allow-update { none; };",
      "};",
      "",
    ].join("\n");
    await sh(NS, `printf '%s' ${quoted(zones)} >> /etc/named.conf`);
    await sh(
      NS,
      `cd /var/named && touch naver.com.db daum.net.db && printf '%s' ${quoted(courseZone("naver.com", `${NET}.100`, `${NET}.100`))} > naver.com.db` +
        // daum.net's file as the course prints it: its `mail` record gives naver's address.
        ` && printf '%s' ${quoted(courseZone("daum.net", `${NET}.200`, `${NET}.100`))} > daum.net.db`,
    );

    const check = await execIn(NS, ["named-checkconf"]);
    assert.notEqual(check.code, 0);
    assert.match(check.stdout + check.stderr, /missing ';' before 'allow-update'/);
    // A daemon the student broke: restart fails as systemd's does, the host keeps running.
    const restart = await execIn(NS, ["systemctl", "restart", "named"]);
    assert.equal(restart.code, 1, restart.stdout + restart.stderr);
    assert.match(restart.stderr, /Job for named\.service failed/);
    assert.equal((await execIn(NS, ["systemctl", "status", "named"])).code, 3);
    // What the failure message points at: named's own complaint, in the host's syslog.
    const journal = await execIn(NS, ["journalctl", "-xeu", "named.service"]);
    assert.match(journal.stdout, /named\[\d+\]: .*missing ';' before 'allow-update'/, journal.stdout + journal.stderr);
    assert.equal((await docker("inspect", "-f", "{{.State.Running}}", NS)).trim(), "true");
    const broken = grade();
    assert.ok(broken.rows.includes("실패 named.conf 의 zone ns.naver.com"), broken.stdout);
    assert.match(broken.stdout, /named-checkconf: \/etc\/bind\/named\.conf:\d+: missing ';' before 'allow-update'/);

    // The fix, then the course's checks and systemctl restart/enable/status.
    // The fix with plain `sed -i`: it replaces the link /etc/named.conf with a fixed copy, and
    // named still reads the broken /etc/bind/named.conf. The grader says so; the student puts the
    // fixed file in place and the link back (or uses sed --follow-symlinks).
    await sh(NS, `sed -i 's|file "daum.net.db"$|file "daum.net.db";|' /etc/named.conf`);
    const copied = grade();
    assert.ok(copied.rows.includes("실패 named.conf 의 zone ns.naver.com"), copied.stdout);
    assert.match(copied.stdout, /\/etc\/named\.conf is a copy, not \/etc\/bind\/named\.conf/);
    await sh(NS, "cp /etc/named.conf /etc/bind/named.conf && ln -sf bind/named.conf /etc/named.conf");
    await sh(NS, "named-checkconf");
    assert.match(
      await sh(NS, "cd /var/named && named-checkzone naver.com naver.com.db && named-checkzone daum.net daum.net.db"),
      /OK[\s\S]*OK/,
    );
    await sh(NS, "systemctl restart named && systemctl enable named");
    assert.match(await sh(NS, "systemctl status named"), /Active: active \(running\)/);
    await sh(NS, "systemctl stop firewalld && systemctl disable firewalld");

    // Steps 4 to 7: nslookup on every host; mail.daum.net still answers with naver's address.
    const lookup = await execIn(LEE_PC, ["nslookup", "mail.daum.net"]);
    assert.match(lookup.stdout, new RegExp(`Address: ${NET}\\.100\\b`));
    const typo = grade();
    assert.deepEqual(
      failed(typo).filter((row) => row.includes("이름 해석")).length,
      4,
      "all four hosts resolve mail.daum.net wrongly",
    );
    assert.match(typo.stdout, /mail\.daum\.net -> 10\.0\.18\.100/);
    assert.match(typo.stdout, /\/var\/named\/daum\.net\.db 의 'mail IN A' 행이 10\.0\.18\.200 이어야 한다/);

    await sh(
      NS,
      `sed -i 's/^mail    IN        A      ${NET}\\.100$/mail    IN        A      ${NET}.200/' /var/named/daum.net.db`,
    );
    await sh(NS, "systemctl restart named");
    for (const pc of [LEE_PC, KIM_PC, NAVER, DAUM]) {
      const answer = await sh(pc, "nslookup mail.naver.com && nslookup mail.daum.net");
      assert.match(answer, new RegExp(`Address: ${NET}\\.100[\\s\\S]*Address: ${NET}\\.200`), pc);
    }
    const done = grade();
    assert.deepEqual(failed({ ...done, rows: lab1(done.rows) }), [], done.stdout);
    assert.equal(lab1(done.rows).length, 2 + 1 + 2 + 4);
  });

  it("실습 2, mail.naver.com: sendmail.cf, access, Dovecot and lee, then lee's own mail", async () => {
    await sh(
      NAVER,
      "sed -i 's/^Cwlocalhost$/Cwnaver.com/' /etc/mail/sendmail.cf && sed -i '/^O DaemonPortOptions=.*Name=MTA-v4/s/, Addr=127.0.0.1//' /etc/mail/sendmail.cf",
    );
    await configureMailServer(NAVER, "lee");

    // 실습 2 step 2: lee writes to lee (the PC's own swaks presets) and reads it over POP3 with TLS.
    const token = `exercise-self-${Date.now()}`;
    await sh(LEE_PC, `swaks --to lee@naver.com --header 'Subject: ${token}' --body '${token}'`);
    await readOverPop3s(LEE_PC, "lee", "mail.naver.com", token);

    // kim has no account yet: the grader need not wait a minute for mail kim cannot read.
    const graded = grade("--timeout", "10");
    // mail.naver.com's own rows of 실습 2 step 1; the relay rows need mail.daum.net too.
    const naverRows = graded.rows.filter(
      (row) => / (mail\.naver\.com|lee@naver\.com)$/.test(row) && !/(->|<-|이름 해석|호스트 이름)/.test(row),
    );
    assert.equal(naverRows.length, 5, graded.stdout);
    assert.deepEqual(failed({ ...graded, rows: naverRows }), [], graded.stdout);
  });

  it("실습 2, mail.daum.net: sendmail.mc and m4 this time, a reboot, then every step passes and mail goes both ways", async () => {
    // Debian builds sendmail.cf from sendmail.mc: the listening address there, `m4` as the course
    // names it, then the course's Cw line in the result.
    await sh(
      DAUM,
      "cd /etc/mail && sed -i '/Name=MTA-v4/s/, Addr=127.0.0.1//' sendmail.mc && m4 sendmail.mc > sendmail.cf && sed -i 's/^Cwlocalhost$/Cwdaum.net/' sendmail.cf",
    );
    await configureMailServer(DAUM, "kim");

    // The course reboots; the host comes back with its files and its enabled services.
    const before = Number((await docker("inspect", "-f", "{{.RestartCount}}", DAUM)).trim());
    await execIn(DAUM, ["reboot"]);
    await waitFor("mail.daum.net back from reboot", 60_000, async () => {
      const count = Number((await docker("inspect", "-f", "{{.RestartCount}}", DAUM)).trim());
      return count > before && (await passesHealthcheck(DAUM)) ? true : undefined;
    });
    assert.match(await sh(DAUM, "systemctl status sendmail"), /Active: active \(running\)/);
    await sleep(1000);

    const final = grade();
    console.log(final.stdout);
    assert.equal(final.code, 0, final.stdout);
    assert.deepEqual(failed(final), []);
    assert.match(final.stdout, new RegExp(`^${final.rows.length} 통과, 0 실패`, "m"));
    assert.equal(grade("--lang", "en").code, 0);

    // Both ways between the students' own accounts, from their PCs with the PCs' presets.
    const toLee = `exercise-kim-to-lee-${Date.now()}`;
    const toKim = `exercise-lee-to-kim-${Date.now()}`;
    await sh(KIM_PC, `swaks --to lee@naver.com --header 'Subject: ${toLee}' --body '${toLee}'`);
    await sh(LEE_PC, `swaks --to kim@daum.net --header 'Subject: ${toKim}' --body '${toKim}'`);
    assert.match(await readOverPop3s(LEE_PC, "lee", "mail.naver.com", toLee), /^Received: from mail\.daum\.net /m);
    assert.match(await readOverPop3s(KIM_PC, "kim", "mail.daum.net", toKim), /^Received: from mail\.naver\.com /m);

    // A sendmail.cf that Sendmail rejects, and so a stopped daemon: failed rows with Sendmail's
    // own message, on a host that keeps running until the student restores the file.
    await sh(DAUM, "cp /etc/mail/sendmail.cf /root/sendmail.cf.good && printf 'Zbogus\\n' >> /etc/mail/sendmail.cf");
    assert.equal((await execIn(DAUM, ["systemctl", "restart", "sendmail"])).code, 1);
    assert.equal((await execIn(DAUM, ["systemctl", "is-active", "sendmail"])).stdout, "inactive\n");
    const broken = grade("--timeout", "10");
    assert.ok(broken.rows.includes("실패 Sendmail 수신 주소 (25번 포트) mail.daum.net"), broken.stdout);
    assert.ok(broken.rows.includes("실패 로컬 도메인 (Cw, local-host-names) mail.daum.net"), broken.stdout);
    assert.match(
      broken.stdout,
      /sendmail -bt: \/etc\/mail\/sendmail\.cf: line \d+: unknown configuration line "Zbogus"/,
    );
    await sh(DAUM, "cp /root/sendmail.cf.good /etc/mail/sendmail.cf && systemctl restart sendmail");
    assert.deepEqual(failed(grade()), []);
  });
});
