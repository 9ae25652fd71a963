/**
 * The lab checks itself, end to end on the `checked` stack (10.0.8.0/24, test/e2e/stacks/):
 * the deploy runs the round trip (components/LabVerification.ts -> scripts/check.ts) after every
 * host and succeeds with a passing table; a second deploy does not run it again, a replaced mail
 * host does; `npm run check` passes on the running lab and fails, naming the checks, once a mail
 * host is stopped; a deploy whose relay rules refuse relay fails with the report and is removed.
 *
 * Deploys go through the harness in their own processes (harness/deploy-cli.ts, which keeps
 * state for updates, and scripts/e2e-up.ts). Every probe is a real client inside the lab.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { docker, run, type RunResult } from "../../docker/cli";
import type { ResourceChange } from "../../harness/docker-mocks";
import { destroy, leftovers, root } from "./lab";

const STACK = "checked";
const stackFile = path.join(root, "test", "e2e", "stacks", `Pulumi.${STACK}.yaml`);
const CHECK_RESOURCE = `${STACK}-verification-check`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-checked-"));
const stateDir = path.join(dir, "state");

/** Every check of the stack: DNS A and MX of both domains from both PCs, one message each way, read twice. */
const ALL_CHECKS = [
  ...["lee-pc", "kim-pc"].flatMap((pc) =>
    ["naver.com", "daum.net"].flatMap((domain) => [`dns ${pc}: A ${domain}`, `dns ${pc}: MX ${domain}`]),
  ),
  "relay lee@naver.com -> kim@daum.net",
  "relay kim@daum.net -> lee@naver.com",
  "pop3s kim@daum.net <- lee@naver.com",
  "imap+starttls kim@daum.net <- lee@naver.com",
  "pop3s lee@naver.com <- kim@daum.net",
  "imap+starttls lee@naver.com <- kim@daum.net",
].sort();

interface Row {
  readonly check: string;
  readonly result: string;
  readonly detail: string;
}

/**
 * The rows of the report table (check/table.ts) in `text`, continuation lines joined to their
 * detail. The harness prefixes a command's log lines with `[<resource>] `, so that is dropped.
 */
function tableRows(text: string): Row[] {
  const rows: { check: string; result: string; detail: string }[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/^\[[^\]]+\] /, "");
    const row = /^(\S.*?) +\| (pass|fail) +\| (.*)$/.exec(line);
    if (row) {
      rows.push({ check: row[1]!, result: row[2]!, detail: row[3]! });
      continue;
    }
    const continuation = /^ +\| +\| (.*)$/.exec(line);
    if (continuation && rows.length > 0) rows[rows.length - 1]!.detail += ` ${continuation[1]}`;
  }
  return rows;
}

const checksOf = (rows: readonly Row[]) => rows.map((row) => row.check).sort();
const rowOf = (rows: readonly Row[], check: string) => rows.find((row) => row.check === check)!;

function node(args: readonly string[]): Promise<RunResult> {
  return run(process.execPath, ["--import", "tsx", ...args], { cwd: root });
}

/** A deploy with harness/deploy-cli.ts; stdout is `{ outputs, changes }` on success. */
async function deploy(update: boolean, file = stackFile): Promise<RunResult & { changes: ResourceChange[] }> {
  const result = await node([
    path.join(root, "harness", "deploy-cli.ts"),
    "--state-dir",
    stateDir,
    ...(update ? ["--update"] : []),
    file,
  ]);
  const changes = result.code === 0 ? (JSON.parse(result.stdout) as { changes: ResourceChange[] }).changes : [];
  return { ...result, changes };
}

/** A variant of the stack file, as `Pulumi.checked.yaml` in its own folder (same stack, same names). */
function variant(folder: string, text: string): string {
  fs.mkdirSync(path.join(dir, folder));
  const file = path.join(dir, folder, `Pulumi.${STACK}.yaml`);
  fs.writeFileSync(file, text);
  return file;
}

/** `npm run check -- <stack-file> [args]`, i.e. `tsx scripts/check.ts`. */
const check = (file: string, ...args: string[]) => node([path.join(root, "scripts", "check.ts"), file, ...args]);

describe("the lab checks itself (stack checked)", { timeout: 20 * 60_000 }, () => {
  const original = fs.readFileSync(stackFile, "utf8");

  before(() => destroy(stackFile));

  after(() => {
    destroy(stackFile);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the deploy runs the checks after every host and succeeds with a table of passes", async () => {
    const deployed = await deploy(false);
    assert.equal(deployed.code, 0, deployed.stderr);
    const verification = deployed.changes.find((change) => change.name === CHECK_RESOURCE);
    assert.equal(verification?.action, "created");
    const logged = deployed.stderr.slice(deployed.stderr.indexOf(`[${CHECK_RESOURCE}]`));
    const rows = tableRows(logged);
    assert.deepEqual(checksOf(rows), ALL_CHECKS, logged);
    for (const row of rows) assert.equal(row.result, "pass", `${row.check}: ${row.detail}`);
    assert.match(logged, /^14 checks: 14 passed, 0 failed$/m);
    // The checks ran after the last client was healthy (the log is in order).
    assert.ok(
      deployed.stderr.indexOf("created container mail-lab-checked-kim-pc") < deployed.stderr.indexOf(CHECK_RESOURCE),
    );
    assert.match(
      rowOf(rows, "dns kim-pc: MX naver.com").detail,
      /^MX naver\.com -> 10 mail\.naver\.com\. \(aa, from 10\.0\.8\.53\)$/,
    );
    assert.match(
      rowOf(rows, "relay lee@naver.com -> kim@daum.net").detail,
      /^mail-lab-check-[0-9a-f]{12} via mail\.naver\.com, STARTTLS verified, accepted: 250 2\.0\.0 \w+$/,
    );
    assert.match(
      rowOf(rows, "pop3s lee@naver.com <- kim@daum.net").detail,
      /in pop3s:\/\/mail\.naver\.com\/\d+, relayed by mail\.daum\.net$/,
    );
  });

  it("a second deploy of the same config does not run them again", async () => {
    const again = await deploy(true);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.changes.find((change) => change.name === CHECK_RESOURCE)?.action, "same");
    assert.deepEqual(tableRows(again.stderr), []);
  });

  it("a replaced mail host runs them again, against the new container", async () => {
    // daum.net's size limit is in its sendmail.mc: the mail host is replaced, its id is a trigger.
    const bigger = original.replace(/(address: 10\.0\.8\.200[\s\S]*?)maxMessageSize: 10MB/, "$1maxMessageSize: 20MB");
    assert.notEqual(bigger, original);
    const changed = await deploy(true, variant("bigger", bigger));
    assert.equal(changed.code, 0, changed.stderr);
    const actions = Object.fromEntries(changed.changes.map((change) => [change.name, change.action]));
    assert.equal(actions[`${STACK}-mail-daum-net-container`], "replaced");
    assert.equal(actions[`${STACK}-mail-naver-com-container`], "same");
    assert.equal(actions[CHECK_RESOURCE], "replaced");
    const rows = tableRows(changed.stderr.slice(changed.stderr.indexOf(`[${CHECK_RESOURCE}]`)));
    assert.deepEqual(checksOf(rows), ALL_CHECKS);
    for (const row of rows) assert.equal(row.result, "pass", `${row.check}: ${row.detail}`);
  });

  it("npm run check on the running lab prints a table of passes and exits 0", async () => {
    const result = await check(stackFile);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const rows = tableRows(result.stdout);
    assert.deepEqual(checksOf(rows), ALL_CHECKS);
    for (const row of rows) assert.equal(row.result, "pass", `${row.check}: ${row.detail}`);
    assert.match(result.stdout, /^check +\| result \| detail$/m);
    assert.match(result.stdout, /^14 checks: 14 passed, 0 failed$/m);
  });

  it("with mail.daum.net stopped, npm run check exits 1 and names each failing check with what came back", async () => {
    await docker(["stop", "-t", "5", "mail-lab-checked-mail-daum-net"]);
    const result = await check(stackFile, "--timeout", "15");
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const rows = tableRows(result.stdout);
    assert.deepEqual(checksOf(rows), ALL_CHECKS);
    const failed = rows.filter((row) => row.result === "fail");
    assert.deepEqual(checksOf(failed), [
      "imap+starttls kim@daum.net <- lee@naver.com",
      "imap+starttls lee@naver.com <- kim@daum.net",
      "pop3s kim@daum.net <- lee@naver.com",
      "pop3s lee@naver.com <- kim@daum.net",
      "relay kim@daum.net -> lee@naver.com",
    ]);
    // mail.naver.com still takes lee's message for kim (it waits in its queue); DNS still answers.
    assert.equal(rowOf(rows, "relay lee@naver.com -> kim@daum.net").result, "pass");
    assert.match(
      rowOf(rows, "relay kim@daum.net -> lee@naver.com").detail,
      /^mail-lab-check-[0-9a-f]{12} via mail\.daum\.net: Error connecting to mail\.daum\.net:25: .*(No route to host|refused|timeout|timed out)/,
    );
    assert.match(
      rowOf(rows, "pop3s kim@daum.net <- lee@naver.com").detail,
      /at pop3s:\/\/mail\.daum\.net\/: not found after \d+s; last: curl: \(\d+\) .*mail\.daum\.net port 995/,
    );
    assert.match(rowOf(rows, "imap+starttls kim@daum.net <- lee@naver.com").detail, /mail\.daum\.net port 143/);
    assert.match(
      rowOf(rows, "pop3s lee@naver.com <- kim@daum.net").detail,
      /^nothing to fetch: sending mail-lab-check-[0-9a-f]{12} failed$/,
    );
    assert.match(result.stdout, /^14 checks: 9 passed, 5 failed$/m);
  });

  it("destroy removes every container, network and volume of the stack", () => {
    destroy(stackFile);
    assert.deepEqual(leftovers(STACK), { containers: [], networks: [], volumes: [] });
  });

  it("a deploy whose mail host refuses the check's messages fails with the report, and the harness removes what it made", async () => {
    // mail.naver.com takes messages of at most 100 bytes: lee's message is refused (552), and
    // kim's, relayed by mail.daum.net, never reaches lee.
    const refusing = original.replace("maxMessageSize: 10MB", "maxMessageSize: 100");
    assert.equal((refusing.match(/maxMessageSize: 100\n/g) ?? []).length, 1, "only naver.com refuses");
    const result = await node([path.join(root, "scripts", "e2e-up.ts"), variant("refusing", refusing)]);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, "", "no outputs: the deploy failed");
    // The failure names the command and carries the whole report.
    const failure = result.stderr.slice(result.stderr.indexOf("e2e-up: "));
    assert.match(failure, new RegExp(`command:local:Command "${CHECK_RESOURCE}".*exit status 1`));
    const rows = tableRows(failure);
    assert.deepEqual(checksOf(rows), ALL_CHECKS, failure);
    assert.deepEqual(checksOf(rows.filter((row) => row.result === "fail")), [
      "imap+starttls kim@daum.net <- lee@naver.com",
      "imap+starttls lee@naver.com <- kim@daum.net",
      "pop3s kim@daum.net <- lee@naver.com",
      "pop3s lee@naver.com <- kim@daum.net",
      "relay lee@naver.com -> kim@daum.net",
    ]);
    assert.match(
      rowOf(rows, "relay lee@naver.com -> kim@daum.net").detail,
      /via mail\.naver\.com: 552 5\.2\.3 Message exceeds/,
    );
    assert.match(rowOf(rows, "pop3s lee@naver.com <- kim@daum.net").detail, /not found after \d+s/);
    assert.match(failure, /^14 checks: 9 passed, 5 failed$/m);
    assert.deepEqual(leftovers(STACK), { containers: [], networks: [], volumes: [] });
  });
});

describe("after the checked lab", () => {
  it("no container, network or volume of the stack remains", () => {
    assert.deepEqual(leftovers(STACK), { containers: [], networks: [], volumes: [] });
  });
});
