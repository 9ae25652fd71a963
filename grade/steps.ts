/**
 * The grader's steps, in the course's order (course-mail-server.ko.md, 실습 1 and 실습 2): each
 * runs the daemons' own tools or real clients on the lab's hosts (`docker exec`) and hands what
 * they printed to grade/judge.ts. The expected values come from the stack's resolved plan: the
 * configured lab is the answer key. Nothing here throws for a student's broken file: a tool
 * that fails gives a failed row with its own message.
 */
import { type CheckResult } from "../check/judge";
import { dockerExec, type Exec, type ExecResult, runChecks } from "../check/run";
import { targetsFromPlan } from "../check/targets";
import { accessKeyOf } from "../config/schema";
import type { LabPlan } from "../plan/plan";
import {
  fail,
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
  pass,
  type Text,
  type Verdict,
} from "./judge";

/** One row of the grade: a course step on one host. */
export interface GradeRow {
  /** 1 or 2: 실습 1 (name server) or 실습 2 (mail servers). */
  readonly exercise: 1 | 2;
  /** The course's step number within its exercise. */
  readonly step: number;
  readonly title: Text;
  /** The host (or user) the row is about. */
  readonly host: string;
  readonly verdict: Verdict;
}

const both = (result: ExecResult) => `${result.stdout}${result.stderr}`;

/** Runs every step against the lab; `exec` defaults to `docker exec`. */
export async function gradeLab(
  plan: LabPlan,
  options: { exec?: Exec; deliveryTimeoutMs?: number } = {},
): Promise<GradeRow[]> {
  const exec = options.exec ?? dockerExec;
  const run = async (container: string, argv: readonly string[], stdin?: string): Promise<ExecResult> => {
    try {
      return await exec(container, argv, { timeoutMs: 30_000, ...(stdin === undefined ? {} : { stdin }) });
    } catch (error) {
      return { code: 127, stdout: "", stderr: error instanceof Error ? error.message : String(error) };
    }
  };
  const rows: GradeRow[] = [];
  const add = (exercise: 1 | 2, step: number, title: Text, host: string, verdict: Verdict) =>
    rows.push({ exercise, step, title, host, verdict });
  const domains = plan.mailHosts.map((mailHost) => mailHost.domain);

  // 실습 1, steps 1 and 2: each mail server's host name.
  for (const [index, mailHost] of plan.mailHosts.entries()) {
    const shown = await run(mailHost.containerName, ["hostname"]);
    add(
      1,
      index + 1,
      { ko: "호스트 이름", en: "host name" },
      mailHost.fqdn,
      judgeHostname(shown.stdout, mailHost.fqdn),
    );
  }

  // 실습 1, step 3: named.conf, then each zone file, with BIND's own checkers.
  const ns = plan.nameServer;
  const printed = await run(ns.containerName, ["named-checkconf", "-p"]);
  const conf = judgeNamedConf(printed.code, both(printed), domains);
  const link = await run(ns.containerName, [
    "sh",
    "-c",
    "test ! -e /etc/named.conf || test /etc/named.conf -ef /etc/bind/named.conf",
  ]);
  add(
    1,
    3,
    { ko: "named.conf 의 zone", en: "zones in named.conf" },
    ns.fqdn,
    judgeNamedConfLink(link.code === 0) ?? conf,
  );
  for (const domain of domains) {
    const zone = conf.zones.find((candidate) => candidate.name === domain);
    const title = { ko: `존 파일 ${domain}`, en: `zone file of ${domain}` };
    if (!zone?.file) {
      add(
        1,
        3,
        title,
        ns.fqdn,
        fail("not in named.conf", conf.hint ?? { ko: "named.conf 를 먼저 고친다", en: "fix named.conf first" }),
      );
      continue;
    }
    const checked = await run(ns.containerName, [
      "sh",
      "-c",
      'cd "$1" && named-checkzone "$2" "$3"',
      "checkzone",
      conf.directory ?? "/",
      domain,
      zone.file,
    ]);
    add(1, 3, title, ns.fqdn, judgeZoneFile(domain, zone.file, checked.code, both(checked)));
  }

  // 실습 1, steps 4 to 7: every host resolves the mail hosts through the lab's name server.
  const resolvers = [
    ...plan.mailHosts.map((mailHost) => ({ container: mailHost.containerName, name: mailHost.fqdn })),
    ...plan.clients.map((client) => ({ container: client.containerName, name: client.key })),
  ];
  for (const [index, resolver] of resolvers.entries()) {
    const verdicts: Verdict[] = [];
    for (const mailHost of plan.mailHosts) {
      const answer = await run(resolver.container, ["dig", "+short", "+time=2", "+tries=2", mailHost.fqdn, "A"]);
      verdicts.push(judgeAddress(resolver.name, mailHost.fqdn, mailHost.address, answer.code, both(answer)));
    }
    const failed = verdicts.find((verdict) => !verdict.pass);
    const observed = verdicts.map((verdict) => verdict.observed).join("; ");
    add(
      1,
      Math.min(4 + index, 7),
      { ko: "이름 해석 (nslookup)", en: "name resolution (nslookup)" },
      resolver.name,
      failed ? fail(observed, failed.hint!) : pass(observed),
    );
  }

  // 실습 2, steps 1 and 3: each mail server, as the course configures it.
  const probe = plan.clients[0]?.containerName ?? ns.containerName;
  for (const [index, mailHost] of plan.mailHosts.entries()) {
    const step = index === 0 ? 1 : 3;
    const container = mailHost.containerName;
    const greeting = await run(probe, [
      "timeout",
      "10",
      "bash",
      "-c",
      'exec 3<>"/dev/tcp/$1/25" && IFS= read -r line <&3 && printf "%s\\n" "${line%$\'\\r\'}" && printf "QUIT\\r\\n" >&3',
      "greeting",
      mailHost.fqdn,
    ]);
    add(
      2,
      step,
      { ko: "Sendmail 수신 주소 (25번 포트)", en: "Sendmail listening (port 25)" },
      mailHost.fqdn,
      judgeGreeting(mailHost.fqdn, greeting.code, both(greeting)),
    );

    const classW = await run(container, ["sendmail", "-bt"], "$=w\n");
    add(
      2,
      step,
      { ko: "로컬 도메인 (Cw, local-host-names)", en: "local domain (Cw, local-host-names)" },
      mailHost.fqdn,
      judgeLocalDomain(mailHost.domain, mailHost.fqdn, classW.code, both(classW)),
    );

    const expected = mailHost.accessRules
      .filter((rule) => rule.action === "RELAY")
      .map((rule) => ({ key: accessKeyOf(rule), action: "RELAY" }));
    const dump = await run(container, ["makemap", "-u", "hash", "/etc/mail/access"]);
    const newer = await run(container, ["find", "/etc/mail/access", "-newer", "/etc/mail/access.db"]);
    add(
      2,
      step,
      { ko: "access RELAY 와 makemap", en: "access RELAY rules and makemap" },
      mailHost.fqdn,
      judgeAccess(
        mailHost.fqdn,
        expected,
        { code: dump.code, output: both(dump) },
        newer.code === 0 && newer.stdout.trim() !== "",
      ),
    );

    for (const user of mailHost.users) {
      const entry = await run(container, ["getent", "passwd", user.login]);
      add(
        2,
        step,
        { ko: "메일 계정", en: "mail account" },
        user.email,
        judgeAccount(user.login, mailHost.fqdn, entry.code, both(entry)),
      );
    }

    const dovecot = await run(container, ["doveconf", "-h", "protocols", "ssl", "mail_location"]);
    add(
      2,
      step,
      { ko: "Dovecot 설정 (ssl, mail_location)", en: "Dovecot settings (ssl, mail_location)" },
      mailHost.fqdn,
      judgeDovecot(mailHost.fqdn, dovecot.code, both(dovecot)),
    );
  }

  // 실습 2, steps 2 and 4: mail both ways between the students' accounts, read over POP3 and IMAP.
  const results = await runChecks(targetsFromPlan(plan), {
    exec,
    ...(options.deliveryTimeoutMs === undefined ? {} : { deliveryTimeoutMs: options.deliveryTimeoutMs }),
  });
  for (const result of results.filter((candidate) => !candidate.check.startsWith("dns "))) {
    add(2, roundTripStep(plan, result), roundTripTitle(result), roundTripHost(result), judgeRoundTrip(result));
  }
  return rows;
}

/** The course tests naver.com's server first (step 2), then both ways once daum.net's is built (step 4). */
function roundTripStep(plan: LabPlan, result: CheckResult): number {
  const first = plan.mailHosts[0]?.domain ?? "";
  const addresses = [...result.check.matchAll(/[^\s@]+@([^\s>]+)/g)].map((match) => match[1]);
  return addresses.length > 0 && addresses.every((domain) => domain === first) ? 2 : 4;
}

function roundTripTitle(result: CheckResult): Text {
  if (result.check.startsWith("relay ")) return { ko: "메일 보내기 (SMTP 릴레이)", en: "sending mail (SMTP relay)" };
  if (result.check.startsWith("pop3s ")) return { ko: "메일 받기 (POP3, TLS)", en: "reading mail (POP3 with TLS)" };
  return { ko: "메일 받기 (IMAP, STARTTLS)", en: "reading mail (IMAP with STARTTLS)" };
}

const roundTripHost = (result: CheckResult) => result.check.replace(/^(relay|pop3s|imap\+starttls) /, "");
