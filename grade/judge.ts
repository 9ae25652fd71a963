/**
 * Pure readers of what the daemons' own tools print on a lab's hosts (named-checkconf -p,
 * named-checkzone, dig +short, an SMTP greeting, `sendmail -bt`'s class w, makemap's dump,
 * doveconf), and the grader's verdicts drawn from it. grade/steps.ts runs the tools; every
 * decision is made here, so each is unit-tested on real output.
 */
import type { CheckResult } from "../check/judge";

/** One bilingual text: Korean (the course's language, the default) and English. */
export interface Text {
  readonly ko: string;
  readonly en: string;
}

/** A verdict: what was observed, and for a failure which file and line to look at. */
export interface Verdict {
  readonly pass: boolean;
  /** What the host showed, short (a tool's own message when it failed). */
  readonly observed: string;
  readonly hint?: Text;
}

export const pass = (observed: string): Verdict => ({ pass: true, observed });
export const fail = (observed: string, hint: Text): Verdict => ({ pass: false, observed, hint });

/** The last non-empty lines of a tool's output, joined: what a student would read first. */
export function lastLines(text: string, count = 2): string {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .slice(-count)
    .join(" / ");
}

export function judgeHostname(shown: string, fqdn: string): Verdict {
  const name = shown.trim();
  if (name === fqdn) return pass(name);
  return fail(name === "" ? "(empty)" : name, {
    ko: `호스트 이름이 ${fqdn}이어야 한다: /etc/hostname 파일에 '${fqdn}' 한 줄을 쓰고 /etc/hosts 맨 아래에 주소와 '${fqdn}'을 추가`,
    en: `the host name must be ${fqdn}: write '${fqdn}' in /etc/hostname and add the address and '${fqdn}' at the end of /etc/hosts`,
  });
}

/** A zone statement as `named-checkconf -p` prints it. */
export interface ConfiguredZone {
  readonly name: string;
  readonly type: string;
  readonly file: string | undefined;
}

/**
 * The zones and the `directory` option of `named-checkconf -p` (the canonical form: every
 * statement on lines of its own, `zone "naver.com" IN {` ... `};`).
 */
export function parseCheckconf(printed: string): { directory: string | undefined; zones: ConfiguredZone[] } {
  const directory = /^\s*directory\s+"([^"]+)";/m.exec(printed)?.[1];
  const zones: ConfiguredZone[] = [];
  const zone = /^zone\s+"([^"]+)"(?:\s+IN)?\s*\{([\s\S]*?)^\};/gm;
  for (const match of printed.matchAll(zone)) {
    const body = match[2] ?? "";
    zones.push({
      name: match[1]!.replace(/\.$/, "").toLowerCase(),
      type: /^\s*type\s+(\S+);/m.exec(body)?.[1] ?? "",
      file: /^\s*file\s+"([^"]+)";/m.exec(body)?.[1],
    });
  }
  return { directory, zones };
}

/** named.conf: it parses, and each lab domain has a master (primary) zone with a file. */
export function judgeNamedConf(
  code: number,
  output: string,
  domains: readonly string[],
): Verdict & { zones: ConfiguredZone[]; directory: string | undefined } {
  const none = { zones: [], directory: undefined };
  if (code !== 0) {
    return {
      ...none,
      ...fail(`named-checkconf: ${lastLines(output)}`, {
        ko: "named-checkconf가 알려 준 파일과 행을 고친다 (/etc/named.conf: 세미콜론 ';', 중괄호, 따옴표). 예: file \"daum.net.db\"; 의 ';'",
        en: 'fix the file and line named-checkconf names (/etc/named.conf: a missing ";", brace or quote), e.g. the ";" after file "daum.net.db"',
      }),
    };
  }
  const { zones, directory } = parseCheckconf(output);
  const missing = domains.filter(
    (domain) => !zones.some((zone) => zone.name === domain && /^(master|primary)$/.test(zone.type) && zone.file),
  );
  const found = zones.filter((zone) => domains.includes(zone.name)).map((zone) => `${zone.name} (${zone.type})`);
  const observed = `zones: ${found.length > 0 ? found.join(", ") : "none of the lab's"}`;
  if (missing.length === 0) return { zones, directory, ...pass(observed) };
  return {
    zones,
    directory,
    ...fail(observed, {
      ko: `/etc/named.conf 맨 아래에 zone "${missing[0]}" IN { type master; file "${missing[0]}.db"; allow-update { none; }; }; 를 추가`,
      en: `add zone "${missing[0]}" IN { type master; file "${missing[0]}.db"; allow-update { none; }; }; at the end of /etc/named.conf`,
    }),
  };
}

/**
 * The course's /etc/named.conf is a link to /etc/bind/named.conf, the file named reads. `sed -i`
 * (and some editors) replace a link with a copy: the student's edits then go where named never
 * looks. `linked` is whether both names are still one file.
 */
export function judgeNamedConfLink(linked: boolean): Verdict | undefined {
  if (linked) return undefined;
  return fail("/etc/named.conf is a copy, not /etc/bind/named.conf, which named reads", {
    ko: "/etc/named.conf 가 링크가 아닌 복사본이 되었다 (sed -i 등): 고친 내용을 /etc/bind/named.conf 에 옮기고 ln -sf bind/named.conf /etc/named.conf (sed 는 --follow-symlinks 와 함께)",
    en: "/etc/named.conf became a copy instead of the link (sed -i does that): move your changes into /etc/bind/named.conf and run ln -sf bind/named.conf /etc/named.conf (use sed with --follow-symlinks)",
  });
}

/** `named-checkzone <zone> <file>`: its "OK" line, or its complaint. */
export function judgeZoneFile(zone: string, file: string, code: number, output: string): Verdict {
  if (code === 0 && /^OK$/m.test(output)) return pass(`named-checkzone ${zone} ${file}: ${lastLines(output)}`);
  return fail(`named-checkzone ${zone} ${file}: ${lastLines(output)}`, {
    ko: `/var/named/${zone}.db (${file}) 를 고친다: 주소 끝에는 '.'을 찍지 않고, 이름 끝에는 '.'을 찍는다 (mail.${zone}.)`,
    en: `fix /var/named/${zone}.db (${file}): no "." after an address, a "." after a full name (mail.${zone}.)`,
  });
}

/** `dig +short <name> A` from a host: the address the lab's name server gives. */
export function judgeAddress(host: string, name: string, expected: string, code: number, output: string): Verdict {
  const answers = output
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  const observed = `${name} -> ${answers.length > 0 ? answers.join(", ") : code === 0 ? "no answer" : lastLines(output) || "no reply"}`;
  if (answers.length === 1 && answers[0] === expected) return pass(observed);
  if (code !== 0 || answers.some((answer) => answer.startsWith(";;"))) {
    return fail(observed, {
      ko: `${host}의 /etc/resolv.conf 의 nameserver 가 네임 서버 주소인지, 네임 서버에서 named 가 동작하는지 (systemctl status named) 확인`,
      en: `check that ${host}'s /etc/resolv.conf names the lab's name server and that named runs there (systemctl status named)`,
    });
  }
  const zone = name.split(".").slice(1).join(".");
  if (answers.length === 0) {
    // The name server replied, but with no address (SERVFAIL or NXDOMAIN): it serves no such zone
    // or record yet.
    return fail(observed, {
      ko: `네임 서버가 ${name} 에 답하지 않는다: /etc/named.conf 의 zone "${zone}" 과 /var/named/${zone}.db 의 'mail IN A' 행을 확인하고 systemctl restart named`,
      en: `the name server gives no address for ${name}: check zone "${zone}" in /etc/named.conf and the 'mail IN A' line of /var/named/${zone}.db, then systemctl restart named`,
    });
  }
  return fail(observed, {
    ko: `/var/named/${zone}.db 의 'mail IN A' 행이 ${expected} 이어야 한다 (고친 뒤 systemctl restart named)`,
    en: `the 'mail IN A' line of /var/named/${zone}.db must give ${expected} (then systemctl restart named)`,
  });
}

/** The first line a client got from port 25: Sendmail's 220 greeting, or why there was none. */
export function judgeGreeting(fqdn: string, code: number, output: string): Verdict {
  const greeting = output.split("\n").find((line) => /^220[ -]/.test(line));
  if (code === 0 && greeting) return pass(greeting.trim());
  // Sendmail's ratecontrol/conncontrol (ClientRate:, ClientConn: in the access map) refused the
  // connection: it listens, but not for this client now.
  if (/Temporary failure in name resolution|Name or service not known/.test(output)) {
    return fail(lastLines(output), {
      ko: `${fqdn} 의 이름을 찾지 못했다: 위의 이름 해석 행부터 고친다`,
      en: `${fqdn} does not resolve: fix the name resolution rows above first`,
    });
  }
  const limited = output.split("\n").find((line) => /^421 .*(rate limit|too many)/i.test(line));
  if (limited) {
    return fail(limited.trim(), {
      ko: `${fqdn}의 /etc/mail/access 의 ClientRate:/ClientConn: 제한에 걸렸다: 잠시 기다리거나 'ClientRate:<PC의 주소> 0' 을 추가하고 makemap hash /etc/mail/access < /etc/mail/access`,
      en: `the ClientRate:/ClientConn: limits of ${fqdn}'s /etc/mail/access refused this client: wait, or add 'ClientRate:<the PC's address> 0' and run makemap hash /etc/mail/access < /etc/mail/access`,
    });
  }
  return fail(lastLines(output) || "no greeting", {
    ko: `${fqdn}의 /etc/mail/sendmail.cf 'O DaemonPortOptions=... Name=MTA...' 행 (코스의 CentOS는 267행쯤, 이 랩의 Debian은 271행쯤 'Name=MTA-v4, Port=smtp, Addr=127.0.0.1') 에서 'Addr=127.0.0.1' 을 지우고 systemctl restart sendmail`,
    en: `in ${fqdn}'s /etc/mail/sendmail.cf delete "Addr=127.0.0.1" from the 'O DaemonPortOptions=... Name=MTA...' line (around line 267 on the course's CentOS, 271 on the lab's Debian: 'Name=MTA-v4, Port=smtp, Addr=127.0.0.1'), then systemctl restart sendmail`,
  });
}

/**
 * Class w as `sendmail -bt` prints it for `$=w`: after its banner, the prompt `> ` and then one
 * name a line, the first on the prompt's line.
 */
export function parseClassW(output: string): string[] {
  return output
    .split("\n")
    .map((line) => line.replace(/^>\s*/, "").trim().toLowerCase())
    .filter((line) => line !== "" && !/^(warning:|address test mode|enter <ruleset>)/.test(line));
}

export function judgeLocalDomain(domain: string, fqdn: string, code: number, output: string): Verdict {
  // A sendmail.cf line Sendmail cannot read: it names the line, and -bt exits 70 after class w.
  const complaint = output
    .split("\n")
    .map((line) => line.trim())
    .find((line) => /sendmail\.cf: line \d+: /.test(line));
  if (code !== 0 && complaint) {
    return fail(`sendmail -bt: ${complaint}`, {
      ko: `${fqdn}의 Sendmail 이 /etc/mail/sendmail.cf 의 그 행을 읽지 못한다: 그 행을 고치고 (sendmail.mc 에서 만들었다면 m4 sendmail.mc > sendmail.cf) systemctl restart sendmail`,
      en: `Sendmail on ${fqdn} cannot read that line of /etc/mail/sendmail.cf: fix it (or rebuild it with m4 sendmail.mc > sendmail.cf), then systemctl restart sendmail`,
    });
  }
  const names = parseClassW(output);
  const observed = code === 0 ? `class w: ${names.join(" ")}` : `sendmail -bt: ${lastLines(output)}`;
  if (code === 0 && names.includes(domain)) return pass(observed);
  return fail(observed, {
    ko: `${fqdn}의 /etc/mail/sendmail.cf 'Cwlocalhost' 행 (CentOS 85행쯤, Debian 98행쯤) 를 'Cw${domain}' 로 고치거나 /etc/mail/local-host-names 에 '${domain}' 을 추가하고 systemctl restart sendmail`,
    en: `in ${fqdn}'s /etc/mail/sendmail.cf change the 'Cwlocalhost' line (around line 85 on CentOS, 98 on Debian) to 'Cw${domain}', or add '${domain}' to /etc/mail/local-host-names, then systemctl restart sendmail`,
  });
}

/** `makemap -u hash /etc/mail/access`: key, tab or spaces, value; keys as stored (lower case). */
export function parseAccessDump(output: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of output.split("\n")) {
    const match = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (match) entries.set(match[1]!.toLowerCase(), match[2]!.trim());
  }
  return entries;
}

/**
 * The RELAY rules the course adds are in the access map Sendmail reads (access.db, built by
 * makemap), and access.db is not older than the access file (else the last edit is not in it).
 * A key may carry the tag `Connect:` or `To:` where the untagged one is expected.
 */
export function judgeAccess(
  fqdn: string,
  expected: readonly { key: string; action: string }[],
  dump: { code: number; output: string },
  stale: boolean,
): Verdict {
  const hint: Text = {
    ko: `${fqdn}의 /etc/mail/access 에 'naver.com RELAY', 'daum.net RELAY', 서브넷 'RELAY' 를 쓰고 makemap hash /etc/mail/access < /etc/mail/access 후 systemctl restart sendmail`,
    en: `write 'naver.com RELAY', 'daum.net RELAY' and the subnet's 'RELAY' in ${fqdn}'s /etc/mail/access, run makemap hash /etc/mail/access < /etc/mail/access, then systemctl restart sendmail`,
  };
  if (dump.code !== 0) return fail(`access.db: ${lastLines(dump.output)}`, hint);
  const entries = parseAccessDump(dump.output);
  // A relay rule may be written untagged (the course's `10.0.2 RELAY`) or for connections or
  // recipients only (`Connect:10.0.2`, `To:naver.com`); other tags (`ClientConn:10.0.2 0`) are
  // other rules that share the key.
  const bare = (key: string) => key.toLowerCase().replace(/^(connect|to):/, "");
  const valueOf = (key: string) =>
    entries.get(key.toLowerCase()) ?? [...entries].find(([stored]) => bare(stored) === bare(key))?.[1];
  const missing = expected.filter(({ key, action }) => valueOf(key)?.toUpperCase() !== action);
  const relays = [...entries].filter(([, value]) => /^RELAY$/i.test(value)).map(([key]) => key);
  const observed = `access.db RELAY: ${relays.length > 0 ? relays.join(", ") : "none"}${stale ? "; access is newer than access.db" : ""}`;
  if (missing.length > 0) {
    return fail(`${observed}; missing ${missing.map(({ key, action }) => `${key} ${action}`).join(", ")}`, hint);
  }
  if (stale) return fail(observed, hint);
  return pass(observed);
}

export function judgeAccount(login: string, fqdn: string, code: number, output: string): Verdict {
  const entry = output.split("\n").find((line) => line.startsWith(`${login}:`));
  if (code === 0 && entry) {
    const fields = entry.split(":");
    return pass(`${login}: uid ${fields[2]}, home ${fields[5]}`);
  }
  return fail(`no account ${login}`, {
    ko: `${fqdn} 에서 useradd ${login} 으로 계정을 만들고 passwd ${login} 으로 암호를 정한다`,
    en: `on ${fqdn}, create the account with useradd ${login} and set its password with passwd ${login}`,
  });
}

/** `doveconf -h protocols ssl mail_location` (one value a line), or doveconf's complaint. */
export function judgeDovecot(fqdn: string, code: number, output: string): Verdict {
  if (code !== 0) {
    return fail(`doveconf: ${lastLines(output)}`, {
      ko: `${fqdn}: doveconf 가 알려 준 /etc/dovecot/ 파일과 행을 고치고 systemctl restart dovecot`,
      en: `${fqdn}: fix the file under /etc/dovecot/ and the line doveconf names, then systemctl restart dovecot`,
    });
  }
  const [protocols = "", ssl = "", mailLocation = ""] = output.split("\n").map((line) => line.trim());
  const observed = `protocols = ${protocols}; ssl = ${ssl}; mail_location = ${mailLocation}`;
  const problems: Text[] = [];
  if (!/\bpop3\b/.test(protocols) || !/\bimap\b/.test(protocols)) {
    problems.push({
      ko: "/etc/dovecot/dovecot.conf 24행쯤 'protocols = imap pop3 lmtp' 의 주석(#) 제거",
      en: "uncomment 'protocols = imap pop3 lmtp' in /etc/dovecot/dovecot.conf (around line 24)",
    });
  }
  if (ssl !== "yes" && ssl !== "required") {
    problems.push({
      ko: "/etc/dovecot/conf.d/10-ssl.conf 8행쯤 'ssl = yes'",
      en: "'ssl = yes' in /etc/dovecot/conf.d/10-ssl.conf (around line 8)",
    });
  }
  if (!/^mbox:.*INBOX=\/var\/mail\/%u/.test(mailLocation)) {
    problems.push({
      ko: "/etc/dovecot/conf.d/10-mail.conf 25행쯤 'mail_location = mbox:~/mail:INBOX=/var/mail/%u' 의 주석(#) 제거",
      en: "uncomment 'mail_location = mbox:~/mail:INBOX=/var/mail/%u' in /etc/dovecot/conf.d/10-mail.conf (around line 25)",
    });
  }
  if (problems.length === 0) return pass(observed);
  return fail(observed, {
    ko: `${problems.map((problem) => problem.ko).join("; ")}; 그 뒤 systemctl restart dovecot`,
    en: `${problems.map((problem) => problem.en).join("; ")}; then systemctl restart dovecot`,
  });
}

/** A row of the lab's round trip (check/run.ts): relay, POP3S or IMAP, with a hint for a failure. */
export function judgeRoundTrip(result: CheckResult): Verdict {
  if (result.result === "pass") return pass(result.detail);
  if (result.check.startsWith("relay ")) {
    return fail(result.detail, {
      ko: "보내는 쪽 메일 서버의 /etc/mail/access RELAY 와 makemap, 받는 쪽의 Cw 와 25번 포트, 존 파일의 MX 를 확인 (위의 행들)",
      en: "check the sender's /etc/mail/access RELAY rules and makemap, the recipient's Cw and port 25, and the zone's MX (rows above)",
    });
  }
  // A certificate for another name, or a message that came by another way: the mail went to the
  // wrong server, which is a name resolution mistake, not Dovecot's.
  if (/certificate subject name|has no "Received/.test(result.detail)) {
    return fail(result.detail, {
      ko: "메일이 다른 서버로 갔다: 위의 이름 해석 행과 /var/named/ 존 파일의 mail A, MX 레코드를 먼저 고친다",
      en: "the mail went to another server: fix the name resolution rows above and the mail A and MX records of the zone files under /var/named/ first",
    });
  }
  return fail(result.detail, {
    ko: "systemctl status dovecot, /etc/dovecot/conf.d/10-ssl.conf 의 ssl, 10-mail.conf 의 mail_location, passwd 로 정한 암호를 확인",
    en: "check systemctl status dovecot, ssl in /etc/dovecot/conf.d/10-ssl.conf, mail_location in 10-mail.conf and the password set with passwd",
  });
}
