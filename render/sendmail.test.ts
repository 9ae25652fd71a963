/**
 * The Sendmail renderer, checked with Sendmail's own tools: m4 with the cf macros (sendmail-cf)
 * builds each rendered .mc, the sendmail binary (sendmail-bin) reads class w and the access map
 * through the built .cf, makemap and newaliases accept the rendered maps. Missing tools fail the
 * test with the Debian package to install.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { readStackFile } from "../config/load";
import { type LabPlan, type MailHostPlan, resolvePlan } from "../plan/plan";
import { accessKeyOf } from "../config/schema";
import { PATHS } from "./files";
import {
  QUEUE_DIRECTORY,
  renderAccess,
  renderAliases,
  renderLocalHostNames,
  renderSendmailFiles,
  renderSendmailMc,
  SENDMAIL_CF_M4,
  STANDARD_ALIASES,
  TLS_DIRECTORY,
} from "./sendmail";
import { formatSendmailTime, planMailQueue, sendmailTimeSeconds } from "../plan/queue";

const devFile = readStackFile(path.join(__dirname, "../stacks/Pulumi.dev.yaml"));
const devPlan = resolvePlan(devFile.config, { project: "mail-lab", stack: devFile.stack });

/** A host unlike the course's: other size, tagged rules, ERROR replies, aliases, a /23 (two prefixes). */
const customConfig = {
  network: { subnet: "172.20.0.0/23" },
  domains: [
    {
      name: "example.test",
      mailHost: { hostName: "mx", address: "172.20.1.25" },
      users: [
        { login: "hong", password: "pw", aliases: ["gildong", "info"] },
        { login: "park", password: "pw", aliases: ["sales"] },
      ],
      access: [
        { match: "172.20.0", action: "RELAY" },
        { tag: "To", match: "daum.net", action: "RELAY" },
        { tag: "From", match: "babo@", action: "DISCARD" },
        { tag: "From", match: "@spam.test", action: "REJECT" },
        { tag: "From", match: "kim@daum.net", action: "ERROR", message: "550 We do not accept mail from you" },
        { tag: "Connect", match: "172.20.1.99", action: "ERROR", message: "451 Try again later" },
      ],
      maxMessageSize: "512KB",
    },
  ],
};
const customPlan = resolvePlan(customConfig, { project: "mail-lab", stack: "custom" });
const customHost = customPlan.mailHosts[0]!;

const cases: { name: string; plan: LabPlan; host: MailHostPlan }[] = [
  ...devPlan.mailHosts.map((host) => ({ name: `dev ${host.fqdn}`, plan: devPlan, host })),
  { name: `custom ${customHost.fqdn}`, plan: customPlan, host: customHost },
];

// ---------------------------------------------------------------------------------------------
// Tools

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-sendmail-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));
let scratchCount = 0;
/** A fresh 0700 directory; Sendmail's safe-file checks refuse files in group- or world-writable ones. */
function scratchDir(): string {
  const dir = path.join(scratch, String(scratchCount++));
  fs.mkdirSync(dir, { mode: 0o700 });
  return dir;
}

/** The absolute path of a program, looking in sbin too (test runners often lack it in PATH). */
function requireTool(name: string, debianPackage: string): string {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter), "/usr/sbin", "/sbin"];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here; try the next directory
    }
  }
  assert.fail(`${name} not found; install the Debian package ${debianPackage} (apt-get install ${debianPackage})`);
}

function run(program: string, args: string[], input = "") {
  const result = spawnSync(program, args, { input, encoding: "utf8" });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs m4 over a .mc as Debian's Makefile does; returns the raw outcome, asserting nothing. */
function m4Build(mc: string) {
  const m4 = requireTool("m4", "m4");
  assert.ok(fs.existsSync(SENDMAIL_CF_M4), `${SENDMAIL_CF_M4} not found; install the Debian package sendmail-cf`);
  const file = path.join(scratchDir(), "sendmail.mc");
  fs.writeFileSync(file, mc);
  return run(m4, [file]);
}

/** The .cf built from a .mc; fails unless m4 exits 0 with nothing on stderr (cf.m4 reports errors via errprint). */
function buildCf(mc: string): string {
  const result = m4Build(mc);
  assert.equal(result.stderr, "", `m4 wrote to stderr:\n${result.stderr}`);
  assert.equal(result.status, 0, `m4 exited ${result.status}`);
  return result.stdout;
}

/** Replaces the one cf line starting with `prefix`, so the real binary reads a temp file instead of /etc/mail. */
function repoint(cf: string, prefix: string, replacement: string): string {
  const lines = cf.split("\n").filter((line) => line.startsWith(prefix));
  assert.equal(lines.length, 1, `expected one cf line starting with ${JSON.stringify(prefix)}, found ${lines.length}`);
  return cf.replace(prefix, replacement);
}

/** A qualified host name that is none of the lab's, so class w gets the lab's names only from the file. */
const TEST_HOST_NAME = "sendmail-test.invalid";

/**
 * Runs the sendmail binary in its own UTS namespace whose host name is TEST_HOST_NAME. Before it
 * reads any .cf, sendmail qualifies the machine's host name and, when that has no dot and does not
 * resolve, sleeps 60 s ("My unqualified host name ... sleeping for retry"): on a build machine named
 * `vm` every call would take a minute. The lab's containers carry their FQDN, so they never sleep.
 */
function runSendmail(args: string[], input = "") {
  const sendmail = requireTool("sendmail", "sendmail-bin");
  const unshare = requireTool("unshare", "util-linux");
  const namespace = process.getuid?.() === 0 ? ["--uts"] : ["--user", "--map-root-user", "--uts"];
  const result = run(
    unshare,
    [...namespace, "sh", "-c", 'hostname "$0" && exec "$@"', TEST_HOST_NAME, sendmail, ...args],
    input,
  );
  assert.doesNotMatch(
    result.stderr,
    /unshare:|hostname:/,
    `could not give sendmail its own host name:\n${result.stderr}`,
  );
  return result;
}

/** Feeds `input` to `sendmail -C <cf> -bt` (address test mode: reads the cf, its classes and maps; sends nothing). */
function sendmailTest(cf: string, input: string): string {
  const file = path.join(scratchDir(), "sendmail.cf");
  fs.writeFileSync(file, cf);
  const result = runSendmail(["-C", file, "-bt"], input);
  assert.equal(result.status, 0, `sendmail -bt exited ${result.status}:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** What `sendmail -d37.1` prints while it reads the .cf: each option as set, each daemon's flags. */
function sendmailOptions(cf: string): string {
  const file = path.join(scratchDir(), "sendmail.cf");
  fs.writeFileSync(file, cf);
  const result = runSendmail(["-C", file, "-d37.1", "-bt"], "");
  assert.equal(result.status, 0, `sendmail -bt exited ${result.status}:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** The words sendmail holds in class w when it reads this class file through the .cf. */
function classW(cf: string, localHostNames: string): string[] {
  const names = path.join(scratchDir(), "local-host-names");
  fs.writeFileSync(names, localHostNames);
  const variant = repoint(cf, "Fw/etc/mail/local-host-names", `Fw${names}`);
  const output = sendmailTest(variant, "$=w\n");
  const words = output.split("\n").map((line) => line.replace(/^> /, "").trim());
  assert.ok(words.includes(TEST_HOST_NAME), `sendmail -bt printed no class w:\n${output}`);
  return words;
}

/** The keys and values makemap stored, read back with `makemap -u` (keys come back lower-cased). */
function makemapRoundTrip(text: string): Map<string, string> {
  const makemap = requireTool("makemap", "sendmail-bin");
  const db = path.join(scratchDir(), "access");
  const built = run(makemap, ["hash", db], text);
  assert.equal(built.status, 0, `makemap hash rejected the access file:\n${built.stderr}`);
  const dumped = run(makemap, ["-u", "hash", db]);
  assert.equal(dumped.status, 0, `makemap -u failed:\n${dumped.stderr}`);
  return new Map(
    dumped.stdout
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => {
        const tab = line.indexOf("\t");
        return [line.slice(0, tab), line.slice(tab + 1)] as [string, string];
      }),
  );
}

/** Key and value of each non-comment line, split as makemap splits them (first run of white space). */
function entriesOf(text: string): [string, string][] {
  return text
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const match = /^(\S+)\s+(.*)$/.exec(line);
      assert.ok(match, `not a key/value line: ${JSON.stringify(line)}`);
      return [match[1]!, match[2]!];
    });
}

// ---------------------------------------------------------------------------------------------

for (const { name, plan, host } of cases) {
  describe(`sendmail files of ${name}`, () => {
    const files = renderSendmailFiles(plan, host);
    const cf = buildCf(renderSendmailMc(plan, host));

    test("are the four files at the paths the image reads, each starting with the generated header", () => {
      assert.deepEqual(
        files.map((file) => file.path),
        [PATHS.sendmailMc, PATHS.localHostNames, PATHS.access, PATHS.aliases],
      );
      const [mc, ...others] = files;
      assert.match(mc!.content, /^dnl Generated by mail-lab for stack "[^"]+"; do not edit/);
      for (const file of others)
        assert.match(file.content, /^# Generated by mail-lab for stack "[^"]+"; do not edit/, file.path);
      for (const file of files) assert.ok(file.content.endsWith("\n") && !file.content.endsWith("\n\n"), file.path);
    });

    test("sendmail.mc keeps Debian's layout: cf.m4, OSTYPE, DOMAIN, FEATUREs, MAILERs last, no dialup/provider", () => {
      const mc = renderSendmailMc(plan, host);
      const order = [
        "include(`/usr/share/sendmail/cf/m4/cf.m4')",
        "VERSIONID(",
        "OSTYPE(`debian')",
        "DOMAIN(`debian-mta')",
        "FEATURE(`use_cw_file')",
        "MAILER(`local')",
        "MAILER(`smtp')",
      ];
      const positions = order.map((needle) => mc.indexOf(needle));
      positions.forEach((position, index) => assert.ok(position >= 0, `missing ${order[index]}`));
      assert.deepEqual(
        [...positions].sort((a, b) => a - b),
        positions,
        "out of Debian's order",
      );
      assert.match(mc.trimEnd(), /MAILER\(`smtp'\)dnl$/, "MAILERs must come last");
      assert.doesNotMatch(mc, /dialup\.m4|provider\.m4|Addr=127\.0\.0\.1'\)/);
    });

    test("sendmail.cf listens on every address: the MTA on 25 without SMTP AUTH, the MSA on 587 requiring it", () => {
      const daemons = cf.split("\n").filter((line) => line.startsWith("O DaemonPortOptions="));
      assert.deepEqual(daemons, [
        "O DaemonPortOptions=Family=inet, Name=MTA-v4, Port=smtp, M=A, Listen=256",
        "O DaemonPortOptions=Family=inet, Name=MSA-v4, Port=submission, M=Ea, Listen=256",
      ]);
      // Sendmail's own reading of the modifiers: A = no AUTH; a = AUTH required, E = no ETRN.
      const options = sendmailOptions(cf);
      // An unknown key (a misspelt Listen) is ignored with this warning.
      assert.doesNotMatch(options, /unknown parameter/, options);
      assert.match(options, /^Daemon MTA-v4 flags: <NOAUTH>$/m, options);
      assert.match(options, /^Daemon MSA-v4 flags: <AUTHREQ,NOETRN>$/m, options);
    });

    test("SMTP AUTH: PLAIN and LOGIN, offered only inside TLS (AuthOptions p), both trusted for relaying", () => {
      assert.match(cf, /^O AuthMechanisms=PLAIN LOGIN$/m);
      assert.match(cf, /^O AuthOptions=p,y$/m);
      assert.match(cf, /^C\{TrustAuthMech\}PLAIN LOGIN$/m);
      const options = sendmailOptions(cf);
      assert.match(options, /^setoption AuthMechanisms \(0x[0-9a-f]+\)=PLAIN LOGIN$/m, options);
      assert.match(options, /^setoption AuthOptions \(0x[0-9a-f]+\)=p,y$/m, options);
      const trusted = sendmailTest(cf, "$={TrustAuthMech}\n")
        .split("\n")
        .map((line) => line.replace(/^> /, "").trim())
        .filter((word) => /^[A-Z0-9-]+$/.test(word));
      assert.deepEqual(trusted.sort(), ["LOGIN", "PLAIN"]);
    });

    test("check_rcpt relays to a foreign domain for a client outside the rules only after AUTH PLAIN or LOGIN", () => {
      const makemap = requireTool("makemap", "sendmail-bin");
      const db = path.join(scratchDir(), "access");
      assert.equal(run(makemap, ["hash", db], renderAccess(plan, host)).status, 0);
      const variant = repoint(cf, "Kaccess hash -T<TMPF> /etc/mail/access", `Kaccess hash -T<TMPF> ${db}`);
      // 192.0.2.1 (TEST-NET-1) is in no rule of any case here; macros only, nothing is sent.
      const probe = (authType: string | undefined) =>
        [
          ".D{client_addr}192.0.2.1",
          ".D{client_name}outsider.invalid",
          ...(authType === undefined ? [] : [`.D{auth_type}${authType}`]),
          "check_rcpt <someone@foreign.test>",
          "",
        ].join("\n");
      const verdict = (authType: string | undefined) => {
        const output = sendmailTest(variant, probe(authType));
        const line = output.split("\n").find((candidate) => /^check_rcpt +returns:/.test(candidate));
        assert.ok(line, `no check_rcpt verdict:\n${output}`);
        return line.replace(/^check_rcpt +returns: /, "");
      };
      const denied = '$# error $@ 5 . 7 . 1 $: "550 Relaying denied. Proper authentication required."';
      assert.equal(verdict(undefined), denied, "no AUTH");
      assert.equal(verdict("CRAM-MD5"), denied, "a mechanism that is not trusted");
      assert.equal(verdict("PLAIN"), "$# RELAY");
      assert.equal(verdict("LOGIN"), "$# RELAY");
    });

    test("sendmail.cf reads class w from local-host-names and the access map from /etc/mail/access", () => {
      // Debian's OSTYPE writes the class file without -o (the file is mandatory) and with a scanf
      // pattern that stops at '#', so comment lines add nothing to class w.
      assert.match(cf, /^Fw\/etc\/mail\/local-host-names %\[\^\\#\]$/m);
      assert.match(cf, /^Kaccess hash -T<TMPF> \/etc\/mail\/access$/m);
    });

    test("sendmail.cf has the message size, queue, host status timeout and TLS files of the plan", () => {
      assert.match(cf, new RegExp(`^O MaxMessageSize=${host.maxMessageSize}$`, "m"));
      assert.match(cf, new RegExp(`^O QueueDirectory=${QUEUE_DIRECTORY}$`, "m"));
      assert.match(cf, /^O Timeout\.hoststatus=1m$/m);
      assert.match(cf, new RegExp(`^O Timeout\\.queuereturn=${plan.mailQueue.lifetime}$`, "m"));
      const tls: [string, string][] = [
        ["CACertPath", TLS_DIRECTORY],
        ["CACertFile", PATHS.tlsCa],
        ["ServerCertFile", PATHS.tlsCert],
        ["ServerKeyFile", PATHS.tlsKey],
        ["ClientCertFile", PATHS.tlsCert],
        ["ClientKeyFile", PATHS.tlsKey],
        ["TLSSrvOptions", "V"],
      ];
      for (const [option, value] of tls)
        assert.ok(cf.split("\n").includes(`O ${option}=${value}`), `missing O ${option}=${value}`);
      assert.match(cf, /^O DontBlameSendmail=.*,GroupReadableKeyFile$/m);
    });

    test("local-host-names lists the domain and the FQDN, one per line", () => {
      const body = renderLocalHostNames(plan, host)
        .split("\n")
        .filter((line) => line !== "" && !line.startsWith("#"));
      assert.deepEqual(body, [host.domain, host.fqdn]);
    });

    test("sendmail puts the domain and the FQDN in class w from the rendered local-host-names", () => {
      const words = classW(cf, renderLocalHostNames(plan, host));
      assert.ok(words.includes(host.domain), `${host.domain} not in class w: ${words.join(" ")}`);
      assert.ok(words.includes(host.fqdn), `${host.fqdn} not in class w: ${words.join(" ")}`);
      assert.ok(
        !words.some((word) => /Generated|mail-lab|stacks/.test(word)),
        `the header leaked into class w: ${words.join(" ")}`,
      );
      // Control: with an empty file neither name is in class w, so they came from the rendered file.
      const without = classW(cf, "");
      assert.ok(
        !without.includes(host.domain) && !without.includes(host.fqdn),
        `class w has the names without the file: ${without.join(" ")}`,
      );
    });

    test("access: Debian's localhost entries, the rules in order, then the lab exemptions", () => {
      const entries = entriesOf(renderAccess(plan, host));
      const expectedRules = host.accessRules.map(accessKeyOf);
      const exemptions = host.labAccessPrefixes.flatMap((prefix) => [
        `GreetPause:${prefix}`,
        `ClientRate:${prefix}`,
        `ClientConn:${prefix}`,
      ]);
      assert.deepEqual(
        entries.map(([key]) => key),
        ["Connect:localhost.localdomain", "Connect:localhost", "Connect:127.0.0.1", ...expectedRules, ...exemptions],
      );
      assert.deepEqual(
        entries.slice(0, 3).map(([, value]) => value),
        ["RELAY", "RELAY", "RELAY"],
      );
      assert.deepEqual(
        entries.slice(3 + expectedRules.length).map(([, value]) => value),
        exemptions.map(() => "0"),
      );
      const columns = new Set(
        renderAccess(plan, host)
          .split("\n")
          .filter((line) => line !== "" && !line.startsWith("#"))
          .map((line) => /\s+/.exec(line)!.index + /\s+/.exec(line)![0].length),
      );
      assert.equal(columns.size, 1, "values are not aligned in one column");
    });

    test("makemap hash accepts the access file and stores every entry as written", () => {
      const text = renderAccess(plan, host);
      const stored = makemapRoundTrip(text);
      const expected = new Map(entriesOf(text).map(([key, value]) => [key.toLowerCase(), value]));
      assert.deepEqual(stored, expected);
    });

    test("sendmail looks the rules up in the access map the .cf declares", () => {
      const makemap = requireTool("makemap", "sendmail-bin");
      const db = path.join(scratchDir(), "access");
      assert.equal(run(makemap, ["hash", db], renderAccess(plan, host)).status, 0);
      const variant = repoint(cf, "Kaccess hash -T<TMPF> /etc/mail/access", `Kaccess hash -T<TMPF> ${db}`);
      const probes = entriesOf(renderAccess(plan, host));
      const output = sendmailTest(variant, probes.map(([key]) => `/map access ${key}\n`).join(""));
      for (const [key, value] of probes) {
        assert.ok(
          output.includes(`map_lookup: access (${key}) returns ${value} (0)`),
          `${key} does not return ${value}:\n${output}`,
        );
      }
    });

    test("aliases: Debian's standard aliases, then alias: login for every user alias", () => {
      const entries = entriesOf(renderAliases(plan, host));
      assert.deepEqual(entries, [
        ...STANDARD_ALIASES.map(([alias, target]): [string, string] => [`${alias}:`, target]),
        ...host.users.flatMap((user) => user.aliases.map((alias): [string, string] => [`${alias}:`, user.login])),
      ]);
    });

    test("newaliases accepts /etc/aliases and counts every alias", () => {
      const dir = scratchDir();
      const aliases = path.join(dir, "aliases");
      fs.writeFileSync(aliases, renderAliases(plan, host));
      const cfFile = path.join(dir, "sendmail.cf");
      fs.writeFileSync(cfFile, cf);
      const result = runSendmail(["-C", cfFile, `-OAliasFile=${aliases}`, "-bi"]);
      const expected = STANDARD_ALIASES.length + host.users.reduce((sum, user) => sum + user.aliases.length, 0);
      assert.equal(result.status, 0, `newaliases failed:\n${result.stdout}${result.stderr}`);
      assert.match(result.stdout + result.stderr, new RegExp(`: ${expected} aliases,`));
      assert.doesNotMatch(result.stdout + result.stderr, /duplicate|missing value|line \d+:/);
    });

    test("rendering is deterministic", () => {
      assert.deepEqual(renderSendmailFiles(plan, host), renderSendmailFiles(plan, host));
      const again = renderSendmailFiles(structuredClone(plan), structuredClone(host));
      files.forEach((file, index) => assert.equal(again[index]!.content, file.content, file.path));
    });
  });
}

describe("the course's access entries and the custom rules", () => {
  test("dev hosts carry the course's lines `naver.com RELAY`, `daum.net RELAY`, `10.0.2 RELAY`", () => {
    for (const host of devPlan.mailHosts) {
      const access = renderAccess(devPlan, host);
      for (const key of ["naver.com", "daum.net", "10.0.2"])
        assert.match(access, new RegExp(`^${key.replace(/\./g, "\\.")} +RELAY$`, "m"));
      assert.match(access, /^GreetPause:10\.0\.2 +0$/m);
    }
  });

  test("ERROR replies are quoted; a 4xx reply gets a 4.0.0 status code", () => {
    const access = renderAccess(customPlan, customHost);
    assert.match(access, /^From:kim@daum\.net +ERROR:"550 We do not accept mail from you"$/m);
    assert.match(access, /^Connect:172\.20\.1\.99 +ERROR:4\.0\.0:"451 Try again later"$/m);
    assert.match(access, /^From:babo@ +DISCARD$/m);
    assert.match(access, /^To:daum\.net +RELAY$/m);
  });

  test("the course's sender domain `@spam.test` is written From:spam.test, the key Sendmail looks up", () => {
    const access = renderAccess(customPlan, customHost);
    assert.match(access, /^From:spam\.test +REJECT$/m);
    assert.doesNotMatch(access, /^From:@spam\.test/m);
    assert.match(
      access,
      /^# From:@spam\.test is written From:spam\.test: Sendmail looks up no key of the form @domain\.$/m,
    );
  });

  test("each sender rule gets its verdict from Sendmail's own check of MAIL FROM", () => {
    const makemap = requireTool("makemap", "sendmail-bin");
    const db = path.join(scratchDir(), "access");
    assert.equal(run(makemap, ["hash", db], renderAccess(customPlan, customHost)).status, 0);
    const cf = repoint(
      buildCf(renderSendmailMc(customPlan, customHost)),
      "Kaccess hash -T<TMPF> /etc/mail/access",
      `Kaccess hash -T<TMPF> ${db}`,
    );
    // Basic_check_mail is the sender check (delay_checks runs it at RCPT); the verdict comes from
    // the access map before the sender domain's DNS, which this machine may not even reach.
    const verdict = (sender: string) => {
      const output = sendmailTest(cf, `.D{client_addr}192.0.2.1\nBasic_check_mail <${sender}>\n`);
      const line = output.split("\n").find((candidate) => /^Basic_check_mail +returns:/.test(candidate));
      assert.ok(line, `no Basic_check_mail verdict:\n${output}`);
      return line.replace(/^Basic_check_mail +returns: /, "");
    };
    assert.equal(verdict("x@spam.test"), '$# error $@ 5 . 7 . 1 $: "550 Access denied"');
    assert.equal(verdict("x@mail.spam.test"), '$# error $@ 5 . 7 . 1 $: "550 Access denied"', "subdomains too");
    assert.equal(verdict("babo@example.org"), "$# discard $: discard");
    assert.equal(verdict("kim@daum.net"), '$# error $: "550 We do not accept mail from you"');
  });

  test("a /23 lab subnet is exempted prefix by prefix", () => {
    assert.deepEqual(customHost.labAccessPrefixes, ["172.20.0", "172.20.1"]);
    const access = renderAccess(customPlan, customHost);
    for (const prefix of ["172\\.20\\.0", "172\\.20\\.1"]) {
      for (const tag of ["GreetPause", "ClientRate", "ClientConn"])
        assert.match(access, new RegExp(`^${tag}:${prefix} +0$`, "m"));
    }
  });

  test("custom message size reaches sendmail.cf in bytes", () => {
    assert.equal(customHost.maxMessageSize, 512 * 1024);
    assert.match(buildCf(renderSendmailMc(customPlan, customHost)), /^O MaxMessageSize=524288$/m);
  });

  test("user aliases point at the login", () => {
    const aliases = renderAliases(customPlan, customHost);
    assert.match(aliases, /^gildong: +hong$/m);
    assert.match(aliases, /^info: +hong$/m);
    assert.match(aliases, /^sales: +park$/m);
  });
});

describe("the queue lifetime", () => {
  // runInterval, lifetime, and the warning expected: a quarter of the lifetime, at most 4h, left
  // out (0) when no queue run could fall between the warning and the return.
  const table: [runInterval: string, lifetime: string, warn: string][] = [
    ["1m", "1h", "15m"],
    ["1m", "1d", "4h"],
    ["1m", "5d", "4h"],
    ["15m", "2h", "30m"],
    ["10s", "1m", "15s"],
    ["1m", "2m", "30s"],
    ["1m", "1m", "0"],
    ["30m", "40m", "0"],
    ["1h", "1h", "0"],
    ["45m", "1h", "0"],
  ];

  test("the defaults are a 1m queue run and a 1h lifetime, so the warning comes after 15m", () => {
    assert.deepEqual(devPlan.mailQueue, {
      runInterval: "1m",
      lifetime: "1h",
      runIntervalSeconds: 60,
      lifetimeSeconds: 3600,
      warnSeconds: 15 * 60,
    });
  });

  for (const [runInterval, lifetime, warn] of table) {
    test(`run every ${runInterval}, return after ${lifetime}: Sendmail reads queuereturn=${lifetime}, queuewarn=${warn}`, () => {
      const plan = { ...devPlan, mailQueue: planMailQueue({ runInterval, lifetime }) };
      const expectedWarn = warn === "0" ? undefined : sendmailTimeSeconds(warn, "table");
      assert.equal(plan.mailQueue.warnSeconds, expectedWarn);
      const cf = buildCf(renderSendmailMc(plan, plan.mailHosts[0]!));
      assert.match(cf, new RegExp(`^O Timeout\\.queuereturn=${lifetime}$`, "m"));
      assert.match(cf, new RegExp(`^O Timeout\\.queuewarn=${warn}$`, "m"));
      if (expectedWarn !== undefined) {
        assert.ok(expectedWarn < sendmailTimeSeconds(lifetime, "table"), "the warning comes before the return");
      }
      const options = sendmailOptions(cf);
      assert.match(options, new RegExp(`^setoption Timeout \\(r\\)\\.queuereturn=${lifetime}$`, "m"), options);
      assert.match(options, new RegExp(`^setoption Timeout \\(r\\)\\.queuewarn=${warn}$`, "m"), options);
    });
  }

  test("Sendmail time values: seconds of each unit, and back in the largest unit that divides them", () => {
    assert.equal(sendmailTimeSeconds("90s", "k"), 90);
    assert.equal(sendmailTimeSeconds("2w", "k"), 14 * 24 * 3600);
    assert.equal(formatSendmailTime(900), "15m");
    assert.equal(formatSendmailTime(90), "90s");
    assert.equal(formatSendmailTime(4 * 3600), "4h");
    assert.equal(formatSendmailTime(7 * 24 * 3600), "1w");
  });
});

describe("refusals", () => {
  test("a queue time the schema would refuse is refused when the plan resolves it, naming the key", () => {
    assert.throws(
      () => planMailQueue({ runInterval: "1m", lifetime: "90" }),
      /mail-lab:mailQueue\.lifetime: "90" is not a positive Sendmail time/,
    );
    assert.throws(() => planMailQueue({ runInterval: "0m", lifetime: "1h" }), /mail-lab:mailQueue\.runInterval: "0m"/);
  });

  test("the m4 check fails on a broken .mc", () => {
    const mc = renderSendmailMc(devPlan, devPlan.mailHosts[0]!);
    // A FEATURE that does not exist: m4 cannot include its file.
    const unknownFeature = mc.replace("FEATURE(`use_cw_file')", "FEATURE(`use_cw_flie')");
    assert.throws(() => buildCf(unknownFeature), /m4 wrote to stderr/);
    // No OSTYPE: cf.m4 complains through errprint while still exiting 0, which the check catches.
    const noOstype = mc.replace("OSTYPE(`debian')dnl\n", "");
    assert.equal(m4Build(noOstype).status, 0, "m4 is expected to exit 0 here; the stderr check must catch it");
    assert.throws(() => buildCf(noOstype), /No system type defined/);
  });

  test("makemap's check fails on an access line without a value", () => {
    assert.throws(
      () => makemapRoundTrip(`${renderAccess(devPlan, devPlan.mailHosts[0]!)}naver.org\n`),
      /makemap hash rejected/,
    );
  });

  test("a duplicate access key is refused by the plan (makemap would reject the whole file)", () => {
    const config = structuredClone(customConfig);
    config.domains[0]!.access.push({ tag: "To", match: "DAUM.net", action: "REJECT" });
    assert.throws(
      () => resolvePlan(config, { project: "mail-lab", stack: "custom" }),
      /mail-lab:domains\[0\]\.access\[6\]\.match: "DAUM\.net" repeats the access key of mail-lab:domains\[0\]\.access\[1\]/,
    );
    const localhost = structuredClone(customConfig);
    localhost.domains[0]!.access = [{ tag: "Connect", match: "127.0.0.1", action: "RELAY" }];
    assert.throws(
      () => resolvePlan(localhost, { project: "mail-lab", stack: "custom" }),
      /access\[0\]\.match: "127\.0\.0\.1" repeats the access key of the built-in localhost entries/,
    );
  });

  test("a user alias that is a standard alias is refused by the plan (newaliases would keep it once)", () => {
    const config = structuredClone(customConfig);
    config.domains[0]!.users[1]!.aliases.push("spam");
    assert.throws(
      () => resolvePlan(config, { project: "mail-lab", stack: "custom" }),
      /"spam" is a system account or reserved mail alias/,
    );
  });
});
