/**
 * Load and faults, end to end on the `faults` stack (test/e2e/stacks/Pulumi.faults.yaml:
 * 10.0.11.0/24, queue run every 30 s). Every message is counted, none is assumed:
 *
 * 1. Load: 1,000 messages of 5 KB at 10 SMTP sessions into mail.daum.net for lee@naver.com
 *    (relayed by MX to mail.naver.com), sent with Postfix's smtp-source from the load generator
 *    (images/load-generator, a container on the lab network at 10.0.11.250, inside the lab's
 *    `10.0.11 RELAY` rule). No refusal; every accepted message delivered once.
 * 2. `kill -9` of mail.daum.net's Sendmail daemon in the middle of a 200-message burst (swaks on
 *    kim's PC, 4 at a time): every message swaks saw accepted is delivered exactly once.
 * 3. `docker restart` of mail.naver.com while a burst is being delivered to it: nothing accepted
 *    is lost; a message caught mid-transfer may arrive twice (SMTP is at least once), counted.
 * 4. The Docker daemon restarted: the lab comes back by itself, healthy, and mail flows both ways.
 * 5. A full volume: a full queue gives a 4xx at SMTP and loses nothing it had accepted; mail for a
 *    full mailbox waits in the queue and is delivered once there is space again.
 *
 * Counting: smtp-source's own counter and exit status (accepted, client side), Sendmail's log on
 * mail.daum.net (`from=<load-RUN@daum.net>` lines: accepted, server side, with queue IDs), and lee's
 * mbox on mail.naver.com (`/var/mail/lee` via `docker exec`), where every message carries the
 * queue ID mail.daum.net gave it in its Received header, so a message delivered twice shows up as
 * a repeated ID. swaks messages carry a unique subject each. Figures are printed.
 *
 * Traffic stays on the lab's own network (and loopback). The test removes everything it made (the
 * stack, the load generator's container and image, both labelled with the stack) in `after`.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { run } from "../../docker/cli";
import { destroyStack, labelledObjects, stackLabels } from "../../harness/stack";
import { smtpSourceCommand, smtpSourceCompleted } from "../load-generator";
import {
  deployInProcess,
  docker,
  execIn,
  passesHealthcheck,
  type LabOutputs,
  root,
  seconds,
  sleep,
  waitFor,
  waitHealthy,
} from "./lab";

const STACK = "faults";
const stackFile = path.join(__dirname, "stacks", `Pulumi.${STACK}.yaml`);
const RUN_INTERVAL_S = 30;
const LOAD_MESSAGES = 1000;
const LOAD_SESSIONS = 10;
const LOAD_BYTES = 5000;
const BURST = 200;
const SENDERS = 4;
const LOAD_IMAGE = "mail-lab-load-generator:test";
const LOAD_CONTAINER = `mail-lab-${STACK}-load-generator`;
const LOAD_ADDRESS = "10.0.11.250";
const NAME_SERVER = "10.0.11.53";

let lab: LabOutputs;
let naver: string;
let daum: string;
let leePc: string;
let kimPc: string;
let network: string;
const suiteStart = Date.now();
/** Host paths of volumes this test put on a small tmpfs (test 5); unmounted in `after` at the latest. */
const mounted = new Set<string>();

const rate = (count: number, ms: number) => `${(count / (ms / 1000)).toFixed(1)} msg/s`;

function report(t: TestContext, line: string): void {
  t.diagnostic(line);
  console.log(`[faults] ${line}`);
}

/** Deploys the stack file in a fresh process (harness/deploy-cli.ts); progress goes to stderr. */
async function deploy(file: string): Promise<LabOutputs> {
  return (await deployInProcess(file)).outputs;
}

/** Runs a host command; fails with its stderr. */
async function host(file: string, ...argv: string[]): Promise<string> {
  const result = await run(file, argv);
  if (result.code !== 0) throw new Error(`${file} ${argv.join(" ")}: exit ${result.code}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

/** Queue IDs in a mail host's MTA queue (`mailq`); undefined while the host cannot answer. */
async function queueIds(mailHost: string): Promise<string[] | undefined> {
  const result = await execIn(mailHost, ["mailq"]);
  if (result.code !== 0) return undefined;
  return [...result.stdout.matchAll(/^([0-9A-Za-z]{14})[*X-]?\s/gm)].map((match) => match[1]!);
}

async function waitQueuesEmpty(timeoutMs: number): Promise<number> {
  const started = Date.now();
  await waitFor(
    "mail.daum.net's and mail.naver.com's queues to be empty",
    timeoutMs,
    async () => ((await queueIds(daum))?.length === 0 && (await queueIds(naver))?.length === 0 ? true : undefined),
    2000,
  );
  return Date.now() - started;
}

/** The container's log (busybox syslogd writes Sendmail's syslog to stdout), since a Unix time. */
async function logs(container: string, since?: number): Promise<string[]> {
  const result = await run("docker", ["logs", ...(since === undefined ? [] : ["--since", String(since)]), container]);
  return `${result.stdout}${result.stderr}`.split("\n");
}

/**
 * Prints what both mail hosts logged of one message that mail.daum.net accepted: its lines on
 * mail.daum.net, then those of the queue ID mail.naver.com answered with ("Sent (<id> Message
 * accepted for delivery)"), so that a lost message says where it was lost.
 */
async function reportTrail(t: TestContext, daumId: string): Promise<void> {
  const daumLines = (await logs(daum)).filter((line) => line.includes(daumId));
  const naverIds = new Set(daumLines.flatMap((line) => [...line.matchAll(/Sent \((\w{14}) /g)].map((m) => m[1]!)));
  const naverLines = (await logs(naver)).filter((line) => [...naverIds].some((id) => line.includes(id)));
  for (const line of [...daumLines, ...naverLines]) report(t, `trail of ${daumId}: ${line.trim()}`);
}

const unixNow = () => Math.floor(Date.now() / 1000) - 1;

interface Delivered {
  readonly subject: string;
  /** The queue ID mail.daum.net gave the message (its Received header on mail.naver.com). */
  readonly daumId: string | undefined;
  /**
   * Bytes after the header's blank line up to the next separator. The messages of one
   * smtp-source run have the same body, so a different size is a message cut short by a killed
   * delivery, or one with the next message glued to it (the next "From " not at a line's start).
   */
  readonly bodyBytes: number;
}

/** Every message of a user's mbox on a mail host, read with `docker exec ... cat`. */
async function mailbox(mailHost: string, login: string): Promise<Delivered[]> {
  const result = await execIn(mailHost, ["cat", `/var/mail/${login}`], 120_000);
  assert.equal(result.code, 0, `cat /var/mail/${login} on ${mailHost}: ${result.stderr}`);
  // mail.local writes body lines that begin with "From " as ">From ": only separators match.
  return result.stdout
    .split(/^From /m)
    .slice(1)
    .map((text) => {
      const blank = text.indexOf("\n\n");
      const headers = text.slice(0, blank < 0 ? text.length : blank).replace(/\n[ \t]+/g, " ");
      return {
        subject: /^Subject: (.*)$/m.exec(headers)?.[1] ?? "",
        daumId: /by mail\.daum\.net \([^)]*\) with E?SMTPS?A? id (\w{14})/.exec(headers)?.[1],
        bodyBytes: blank < 0 ? -1 : Buffer.byteLength(text.slice(blank + 2)),
      };
    });
}

/** Occurrences of each key: how many keys, and which came more than once. */
function tally(keys: readonly string[]): { distinct: Set<string>; duplicates: string[] } {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return {
    distinct: new Set(counts.keys()),
    duplicates: [...counts].filter(([, count]) => count > 1).map(([key, count]) => `${key} x${count}`),
  };
}

/** Queue IDs of the messages mail.daum.net logged as received from `sender`. */
async function acceptedIds(sender: string): Promise<Set<string>> {
  const pattern = new RegExp(`: (\\w{14}): from=<${sender.replace(/[.]/g, "\\.")}>`);
  const ids = new Set<string>();
  for (const line of await logs(daum)) {
    const match = pattern.exec(line);
    if (match) ids.add(match[1]!);
  }
  return ids;
}

interface SmtpSource {
  readonly code: number;
  /** smtp-source's running counter (-c): DATA commands completed with a 2xx reply. */
  readonly completed: number;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * Postfix's smtp-source in the load generator, on the lab network at 10.0.11.250 with the lab's
 * name server as resolver (test/load-generator.ts: exit 0 means every reply was positive).
 */
async function smtpSource(sender: string, subject: string, messages: number, sessions: number): Promise<SmtpSource> {
  await run("docker", ["rm", "-f", LOAD_CONTAINER]);
  const labels = Object.entries(stackLabels(STACK)).flatMap(([label, value]) => ["--label", `${label}=${value}`]);
  const started = Date.now();
  const result = await run("docker", [
    "run",
    "--name",
    LOAD_CONTAINER,
    ...labels,
    "--network",
    network,
    "--ip",
    LOAD_ADDRESS,
    "--dns",
    NAME_SERVER,
    "--hostname",
    "load.daum.net",
    LOAD_IMAGE,
    ...smtpSourceCommand({
      sessions,
      messages,
      bytes: LOAD_BYTES,
      sender,
      subject,
      target: "mail.daum.net:25",
      timeoutSeconds: 300,
    }),
  ]);
  const ms = Date.now() - started;
  await run("docker", ["rm", "-f", LOAD_CONTAINER]);
  const completed = smtpSourceCompleted(result.stdout);
  return { code: result.code, completed, stderr: result.stderr.trim(), ms };
}

interface Submission {
  readonly accepted: boolean;
  /** The server's last reply line (or swaks's error) as swaks printed it. */
  readonly reply: string;
}

/** swaks on a PC (its ~/.swaksrc: its mail host, its user as sender, STARTTLS verified). */
async function send(pc: string, to: string, subject: string, extra: readonly string[] = []): Promise<Submission> {
  const result = await execIn(pc, ["swaks", "--to", to, "--header", `Subject: ${subject}`, ...extra], 90_000);
  const accepted = /^<~ {2}250 2\.0\.0 \S+ Message accepted for delivery/m.exec(result.stdout);
  if (result.code === 0 && accepted) return { accepted: true, reply: accepted[0] };
  // The server's last error reply if there was one, else swaks's own error (no connection ...).
  const lines = `${result.stdout}\n${result.stderr}`.split("\n");
  const reply =
    lines.filter((line) => /^<~?\*+ /.test(line)).at(-1) ?? lines.filter((line) => /^\*\*\*/.test(line)).at(-1);
  return { accepted: false, reply: reply ?? `swaks exit ${result.code}: ${result.stderr.trim()}` };
}

/** How many messages in lee's mbox have exactly this subject (grep -c on mail.naver.com). */
async function countSubject(mailHost: string, login: string, subject: string): Promise<number | undefined> {
  const result = await execIn(mailHost, ["grep", "-c", "-x", "-F", `Subject: ${subject}`, `/var/mail/${login}`]);
  return result.code <= 1 ? Number(result.stdout.trim() || "0") : undefined;
}

// --- the Docker daemon ----------------------------------------------------------------------

type DockerdRestart = { readonly how: string } | { readonly skip: string };

async function dockerInfoOk(): Promise<boolean> {
  return (await run("docker", ["info", "--format", "{{.ServerVersion}}"])).code === 0;
}

/**
 * Restarts the Docker daemon the way it runs here: `systemctl restart docker` under systemd;
 * otherwise (a plain `dockerd` process, as .ci/run starts it) SIGTERM, wait until it is gone and
 * `docker info` fails, then start the same binary with the same arguments detached, appending to
 * the log file it wrote before (as `nohup dockerd > log 2>&1 &` does), and wait for `docker info`.
 */
async function restartDockerd(): Promise<DockerdRestart> {
  const systemd = await run("systemctl", ["is-active", "docker"]).catch(() => undefined);
  if (systemd?.code === 0) {
    const result = await run("systemctl", ["restart", "docker"]);
    if (result.code !== 0) throw new Error(`systemctl restart docker: ${result.stderr}`);
    await waitFor("docker info after systemctl restart", 120_000, async () =>
      (await dockerInfoOk()) ? true : undefined,
    );
    return { how: "systemctl restart docker" };
  }
  if (process.getuid?.() !== 0) return { skip: "not root: the test cannot signal or start dockerd" };
  const pids = (await run("pgrep", ["-x", "dockerd"])).stdout.split("\n").filter(Boolean).map(Number);
  if (pids.length !== 1) return { skip: `expected one dockerd process, found ${pids.length}: ${pids.join(" ")}` };
  const pid = pids[0]!;
  const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  const binary = fs.readlinkSync(`/proc/${pid}/exe`);
  let logFile = "/tmp/dockerd.log";
  try {
    const target = fs.readlinkSync(`/proc/${pid}/fd/2`);
    if (target.startsWith("/") && !target.startsWith("/dev/") && fs.statSync(target).isFile()) logFile = target;
  } catch {
    // No readable stderr: keep the default log file.
  }
  process.kill(pid, "SIGTERM");
  // dockerd stops its containers first (up to 15 s each, in parallel), then exits.
  await waitFor(`dockerd ${pid} to exit`, 120_000, async () => (fs.existsSync(`/proc/${pid}`) ? undefined : true), 500);
  await waitFor("docker info to fail", 30_000, async () => ((await dockerInfoOk()) ? undefined : true), 500);
  const log = fs.openSync(logFile, "a");
  try {
    const child = spawn(binary, argv.slice(1), { detached: true, stdio: ["ignore", log, log] });
    child.unref();
  } finally {
    fs.closeSync(log);
  }
  await waitFor("docker info after starting dockerd", 120_000, async () => ((await dockerInfoOk()) ? true : undefined));
  return {
    how: `SIGTERM to dockerd ${pid}, then \`${[binary, ...argv.slice(1)].join(" ")}\` detached, log ${logFile}`,
  };
}

// --- small volumes --------------------------------------------------------------------------

/** tmpfs mounts on the stack's volume folders still there (a run that was killed). */
function strayMounts(): string[] {
  return fs
    .readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[1] ?? "")
    .filter((mountpoint) => mountpoint.includes(`/volumes/mail-lab-${STACK}-`));
}

async function unmount(mountpoint: string): Promise<void> {
  const result = await run("umount", [mountpoint]);
  if (result.code !== 0) await host("umount", "-l", mountpoint);
  mounted.delete(mountpoint);
}

/**
 * Puts a mail host's named volume on a small tmpfs of its own, so that filling it fills nothing
 * else: the container is stopped, a tmpfs of the volume's current use plus `spareMb` is mounted on
 * the volume's folder on the Docker host, the volume's files (and the folder's owner and mode) are
 * copied into it, and the container is started again: Docker bind-mounts the volume's folder at
 * start, which is now the tmpfs. (The harness refuses to deploy onto a volume that exists already,
 * so the volume cannot be made small before the deploy.)
 */
async function onSmallTmpfs(container: string, volume: string, spareMb: number): Promise<string> {
  const mountpoint = await docker("volume", "inspect", "-f", "{{.Mountpoint}}", volume);
  await docker("stop", container);
  const [mode, uid, gid] = (await host("stat", "-c", "%a %u %g", mountpoint)).split(" ");
  const usedKb = Number((await host("du", "-sk", mountpoint)).split(/\s/)[0]);
  const saved = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-faults-volume-"));
  try {
    await host("cp", "-a", `${mountpoint}/.`, saved);
    await host("mount", "-t", "tmpfs", "-o", `size=${usedKb + spareMb * 1024}k`, "tmpfs", mountpoint);
    mounted.add(mountpoint);
    await host("cp", "-a", `${saved}/.`, mountpoint);
    await host("chown", `${uid}:${gid}`, mountpoint);
    await host("chmod", mode!, mountpoint);
  } finally {
    fs.rmSync(saved, { recursive: true, force: true });
  }
  await docker("start", container);
  await waitHealthy(container);
  return mountpoint;
}

/** Back to the volume's own files: stop, unmount the tmpfs, start. */
async function offTmpfs(container: string, mountpoint: string): Promise<void> {
  await docker("stop", container);
  await unmount(mountpoint);
  await docker("start", container);
  await waitHealthy(container);
}

/** Fills the filesystem of `folder` in a container to the last block; returns `df` of it. */
async function fill(container: string, folder: string): Promise<string> {
  await execIn(container, ["dd", "if=/dev/zero", `of=${folder}/zz-fill`, "bs=64k"], 120_000);
  return (await execIn(container, ["df", "-k", folder])).stdout.trim().split("\n").at(-1)!;
}

describe("load and faults (stack faults)", { timeout: 30 * 60_000 }, () => {
  before(async () => {
    for (const mountpoint of strayMounts()) await unmount(mountpoint);
    const leftover = await destroyStack(STACK);
    if (leftover.length > 0) console.log(`[faults] removed leftovers of an earlier run: ${leftover.join(", ")}`);
    let started = Date.now();
    lab = await deploy(stackFile);
    naver = lab.mailHosts["naver.com"]!.container;
    daum = lab.mailHosts["daum.net"]!.container;
    leePc = lab.clients["lee-pc"]!.container;
    kimPc = lab.clients["kim-pc"]!.container;
    network = lab.network.name;
    console.log(`[faults] deploy (images, CA, 5 containers): ${seconds(Date.now() - started)}`);
    // After the deploy, which removes whatever carries the stack's labels before it creates anything.
    started = Date.now();
    const labels = Object.entries(stackLabels(STACK)).flatMap(([label, value]) => ["--label", `${label}=${value}`]);
    const build = await run("docker", [
      "build",
      "-q",
      "-f",
      path.join(root, "images", "load-generator", "Dockerfile"),
      ...labels,
      "-t",
      LOAD_IMAGE,
      path.join(root, "images"),
    ]);
    if (build.code !== 0) throw new Error(`docker build of the load generator failed:\n${build.stderr}`);
    console.log(`[faults] load generator image built in ${seconds(Date.now() - started)}`);
  });

  after(async () => {
    // Whatever happened: no tmpfs left on a volume folder, then the stack by its labels (the load
    // generator's container and image carry them too).
    for (const mountpoint of [...mounted, ...strayMounts()]) await unmount(mountpoint).catch(() => undefined);
    if (!(await dockerInfoOk())) console.log("[faults] the Docker daemon does not answer; nothing could be removed");
    const removed = await destroyStack(STACK);
    console.log(`[faults] removed ${removed.length} object(s); whole file ${seconds(Date.now() - suiteStart)}`);
  });

  it(`${LOAD_MESSAGES} messages of ${LOAD_BYTES} bytes at ${LOAD_SESSIONS} sessions: no refusal, each delivered once`, async (t) => {
    const runId = randomUUID().slice(0, 8);
    const sender = `load-${runId}@daum.net`;
    const subject = `load-${runId}`;
    const since = unixNow();
    const source = await smtpSource(sender, subject, LOAD_MESSAGES, LOAD_SESSIONS);
    const sent = Date.now();
    report(
      t,
      `smtp-source -s ${LOAD_SESSIONS} -m ${LOAD_MESSAGES} -l ${LOAD_BYTES}: exit ${source.code}, ` +
        `${source.completed} accepted in ${seconds(source.ms)} (${rate(source.completed, source.ms)})` +
        (source.stderr ? `; stderr: ${source.stderr.split("\n").slice(-3).join(" | ")}` : ""),
    );
    const drained = await waitQueuesEmpty(5 * 60_000);
    const deliveredAt = Date.now();
    const daumLog = await logs(daum, since);
    const rejecting = daumLog.filter((line) => /rejecting connections/.test(line));
    const accepted = await acceptedIds(sender);
    const mine = (await mailbox(naver, "lee")).filter((message) => message.subject === subject);
    const { distinct, duplicates } = tally(mine.map((message) => message.daumId ?? "?"));
    const missing = [...accepted].filter((id) => !distinct.has(id));
    const deliveredMs = deliveredAt - (sent - source.ms);
    report(
      t,
      `accepted ${source.completed} (smtp-source), ${accepted.size} (mail.daum.net's log); refused ${LOAD_MESSAGES - source.completed}; ` +
        `"rejecting connections" ${rejecting.length}; delivered ${mine.length} to lee, distinct ${distinct.size}, ` +
        `duplicates ${duplicates.length}, missing ${missing.length}`,
    );
    report(
      t,
      `rates: accepted ${rate(source.completed, source.ms)}; delivered ${rate(mine.length, deliveredMs)} ` +
        `(all in lee's mbox ${seconds(deliveredMs)} after the first connection, queues empty ${seconds(drained)} after the last message)`,
    );
    for (const line of rejecting.slice(0, 5)) report(t, `mail.daum.net: ${line.replace(/^.*?sendmail\[\d+\]: /, "")}`);
    assert.equal(source.code, 0, `smtp-source failed: ${source.stderr}`);
    assert.equal(source.completed, LOAD_MESSAGES);
    assert.deepEqual(rejecting, [], "mail.daum.net refused connections");
    assert.equal(accepted.size, LOAD_MESSAGES, "mail.daum.net logged every accepted message");
    assert.deepEqual(duplicates, [], "delivered more than once");
    assert.deepEqual(missing, [], "accepted but not delivered");
    assert.equal(mine.length, LOAD_MESSAGES);
  });

  it(`kill -9 of mail.daum.net's Sendmail daemon in the middle of a ${BURST}-message burst`, async (t) => {
    const runId = randomUUID().slice(0, 8);
    const subjectOf = (n: number) => `kill9-${runId} #${n}`;
    const restartsBefore = Number(await docker("inspect", "-f", "{{.RestartCount}}", daum));
    const results = new Map<number, Submission>();
    let next = 1;
    let killed: Promise<string> | undefined;
    let acceptedAtKill = 0;
    const started = Date.now();
    const sender = async () => {
      for (let n = next++; n <= BURST; n = next++) {
        const result = await send(kimPc, "lee@naver.com", subjectOf(n), [
          "--body",
          `message ${n} of ${BURST}, run ${runId}`,
        ]);
        results.set(n, result);
        // A client that got no answer waits a little before its next message, as a real one would.
        if (!result.accepted) await sleep(1000);
        const accepted = [...results.values()].filter((item) => item.accepted).length;
        if (!killed && accepted >= BURST / 2) {
          acceptedAtKill = accepted;
          killed = (async () => {
            const pidFile = await execIn(daum, ["cat", "/run/sendmail/mta/sendmail.pid"]);
            const pid = pidFile.stdout.split("\n")[0]!.trim();
            assert.match(pid, /^\d+$/, `no pid in /run/sendmail/mta/sendmail.pid: ${pidFile.stdout}${pidFile.stderr}`);
            const title = (await execIn(daum, ["ps", "-o", "args=", "-p", pid])).stdout.trim();
            const kill = await execIn(daum, ["kill", "-9", pid]);
            assert.equal(kill.code, 0, `kill -9 ${pid}: ${kill.stderr}`);
            return `${pid} (${title})`;
          })();
        }
      }
    };
    await Promise.all(Array.from({ length: SENDERS }, sender));
    const sentAll = Date.now();
    assert.ok(killed, "the kill never happened");
    const victim = await killed;
    await waitFor("mail.daum.net to be restarted by Docker", 120_000, async () =>
      Number(await docker("inspect", "-f", "{{.RestartCount}}", daum)) > restartsBefore ? true : undefined,
    );
    await waitHealthy(daum);
    const drained = await waitQueuesEmpty(4 * 60_000);

    const accepted = [...results].filter(([, result]) => result.accepted).map(([n]) => n);
    const failed = [...results].filter(([, result]) => !result.accepted);
    const pattern = new RegExp(`^kill9-${runId} #(\\d+)$`);
    const numbers = (await mailbox(naver, "lee"))
      .map((message) => pattern.exec(message.subject)?.[1])
      .filter((n): n is string => n !== undefined);
    const { distinct, duplicates } = tally(numbers);
    const missing = accepted.filter((n) => !distinct.has(String(n)));
    const unexpected = [...distinct].filter((n) => !results.get(Number(n))?.accepted);
    const restarts = Number(await docker("inspect", "-f", "{{.RestartCount}}", daum)) - restartsBefore;
    report(
      t,
      `killed sendmail ${victim} after ${acceptedAtKill} accepted; Docker restarted mail.daum.net ${restarts} time(s)`,
    );
    report(
      t,
      `${BURST} sent with ${SENDERS} swaks at a time: accepted ${accepted.length} (after the kill ${accepted.length - acceptedAtKill}), ` +
        `failed ${failed.length}, delivered ${distinct.size}, duplicates ${duplicates.length}, missing ${missing.length}, ` +
        `delivered though not accepted ${unexpected.length}`,
    );
    report(
      t,
      `timing: sending ${seconds(sentAll - started)}; queues empty ${seconds(drained)} after mail.daum.net was healthy`,
    );
    const replies = tally(failed.map(([, result]) => result.reply.replace(/\s+/g, " ")));
    for (const reply of replies.distinct) {
      report(
        t,
        `failed (${failed.filter(([, result]) => result.reply.replace(/\s+/g, " ") === reply).length}x): ${reply}`,
      );
    }
    assert.ok(restarts >= 1);
    assert.deepEqual(duplicates, [], "delivered more than once");
    assert.deepEqual(missing, [], "accepted but never delivered");
    // A message whose 250 the client never saw may still have been queued (killed after the
    // reply was written, or before it was read); it must then be delivered once, which the
    // duplicate check covers. It is printed, not failed.
    if (unexpected.length > 0)
      report(t, `delivered without a 250 seen by swaks: ${unexpected.map((n) => `#${n}`).join(" ")}`);
  });

  it(`docker restart of mail.naver.com while a ${BURST}-message burst is being delivered`, async (t) => {
    const runId = randomUUID().slice(0, 8);
    const sender = `restart-${runId}@daum.net`;
    const subject = `restart-${runId}`;
    const restartAt = 40;
    const restartsBefore = await docker("inspect", "-f", "{{.State.StartedAt}}", naver);
    const loading = smtpSource(sender, subject, BURST, SENDERS);
    let done = false;
    void loading.finally(() => (done = true));
    // Restart the receiver once some of the burst has reached lee: the rest is in flight.
    const deliveredBefore = await waitFor(
      `${restartAt} messages of the burst in lee's mbox`,
      180_000,
      async () => {
        const count = await countSubject(naver, "lee", subject);
        return count !== undefined && (count >= restartAt || done) ? count : undefined;
      },
      250,
    );
    const restartStarted = Date.now();
    await docker("restart", naver);
    const restarted = { before: deliveredBefore, ms: Date.now() - restartStarted };
    const source = await loading;
    await waitHealthy(naver);
    const healthyAfter = Date.now() - restartStarted;
    const queuedAfter = (await queueIds(daum))?.length ?? -1;
    // Counted and printed even when the queues do not drain in time; the assertion comes after.
    const drained = await waitQueuesEmpty(4 * 60_000).catch(() => Number.NaN);
    const accepted = await acceptedIds(sender);
    const mine = (await mailbox(naver, "lee")).filter((message) => message.subject === subject);
    const { distinct, duplicates } = tally(mine.map((message) => message.daumId ?? "?"));
    const missing = [...accepted].filter((id) => !distinct.has(id));
    const sizeCounts = new Map<number, number>();
    for (const { bodyBytes } of mine) sizeCounts.set(bodyBytes, (sizeCounts.get(bodyBytes) ?? 0) + 1);
    const usualSize = [...sizeCounts].sort((a, b) => b[1] - a[1])[0]?.[0];
    const misshapen = mine.filter((message) => message.bodyBytes !== usualSize);
    report(
      t,
      `docker restart of mail.naver.com after ${restarted.before} of ${BURST} were delivered (took ${seconds(restarted.ms)}, ` +
        `healthy ${seconds(healthyAfter)} after it began; was started ${restartsBefore}); ${queuedAfter} in mail.daum.net's queue then`,
    );
    report(
      t,
      `smtp-source -s ${SENDERS} -m ${BURST}: exit ${source.code}, accepted ${source.completed} (smtp-source), ${accepted.size} (log); ` +
        `delivered ${mine.length}, distinct ${distinct.size}, duplicates ${duplicates.length}, missing ${missing.length}; ` +
        `queues empty ${seconds(drained)} after it was healthy (queue run every ${RUN_INTERVAL_S} s)`,
    );
    report(t, `body sizes in lee's mbox: ${[...sizeCounts.keys()].join(", ")} bytes`);
    for (const message of misshapen) {
      report(t, `misshapen: ${message.daumId ?? "?"} with ${message.bodyBytes} bytes of body`);
      if (message.daumId !== undefined) await reportTrail(t, message.daumId);
    }
    for (const id of missing) await reportTrail(t, id);
    assert.equal(source.code, 0, `smtp-source failed: ${source.stderr}`);
    assert.ok(!Number.isNaN(drained), "the queues did not drain within 4 minutes of the restart");
    assert.ok(restarted.before < BURST, "the restart came after the whole burst was delivered");
    assert.equal(accepted.size, source.completed);
    // Nothing is lost. A message can arrive twice, though: SMTP and local delivery are at least
    // once when the receiver dies mid-transfer (RFC 5321, 6.1). Killed after it stored a message
    // but before its 250 reached the sender, or after procmail appended it but before its queue
    // file was removed, mail.naver.com delivers its own copy after the restart and the sender
    // (which saw no 250) sends it again. The count is printed above.
    assert.deepEqual(missing, [], "accepted but never delivered");
    assert.equal(distinct.size, source.completed);
    assert.deepEqual(
      misshapen.map((message) => `${message.daumId ?? "?"}: ${message.bodyBytes} bytes`),
      [],
      "messages in lee's mbox that are cut short or run into the next",
    );
  });

  it("the Docker daemon restarted: the lab comes back healthy by itself and mail flows both ways", async (t) => {
    // What brings the lab back is the restart policy `unless-stopped` of every lab container
    // (components/container-defaults.ts): dockerd stops the containers when it shuts down, and on
    // start restarts those with `always` or `unless-stopped` that were not stopped by a user.
    const containers = [lab.nameServer.container, naver, daum, leePc, kimPc];
    const policies = await Promise.all(
      containers.map((name) => docker("inspect", "-f", "{{.HostConfig.RestartPolicy.Name}}", name)),
    );
    report(t, `restart policies: ${containers.map((name, i) => `${name}=${policies[i]}`).join(", ")}`);
    assert.deepEqual(
      policies,
      containers.map(() => "unless-stopped"),
    );
    const startedBefore = await Promise.all(
      containers.map((name) => docker("inspect", "-f", "{{.State.StartedAt}}", name)),
    );

    const began = Date.now();
    const restart = await restartDockerd();
    if ("skip" in restart) {
      report(t, `skipped: ${restart.skip}`);
      t.skip(restart.skip);
      return;
    }
    const daemonBack = Date.now() - began;
    for (const name of containers) await waitHealthy(name);
    const healthy = Date.now() - began;
    const startedAfter = await Promise.all(
      containers.map((name) => docker("inspect", "-f", "{{.State.StartedAt}}", name)),
    );
    report(
      t,
      `dockerd restarted (${restart.how}): answering after ${seconds(daemonBack)}, every lab container healthy after ${seconds(healthy)}`,
    );
    for (const [i, name] of containers.entries()) {
      assert.notEqual(startedAfter[i], startedBefore[i], `${name} was not restarted`);
    }

    const token = randomUUID().slice(0, 8);
    const toLee = `after-dockerd-${token} kim to lee`;
    const toKim = `after-dockerd-${token} lee to kim`;
    const sentToLee = await send(kimPc, "lee@naver.com", toLee);
    const sentToKim = await send(leePc, "kim@daum.net", toKim);
    assert.ok(sentToLee.accepted, `kim to lee: ${sentToLee.reply}`);
    assert.ok(sentToKim.accepted, `lee to kim: ${sentToKim.reply}`);
    const atLee = await waitFor("kim's message in lee's mbox", 120_000, async () =>
      (await countSubject(naver, "lee", toLee)) ? await countSubject(naver, "lee", toLee) : undefined,
    );
    const atKim = await waitFor("lee's message in kim's mbox", 120_000, async () =>
      (await countSubject(daum, "kim", toKim)) ? await countSubject(daum, "kim", toKim) : undefined,
    );
    await sleep(2000);
    report(
      t,
      `after the restart: kim to lee accepted (${sentToLee.reply}), delivered ${await countSubject(naver, "lee", toLee)}; ` +
        `lee to kim accepted (${sentToKim.reply}), delivered ${await countSubject(daum, "kim", toKim)}`,
    );
    assert.equal(atLee, 1);
    assert.equal(atKim, 1);
    assert.equal(await countSubject(naver, "lee", toLee), 1);
    assert.equal(await countSubject(daum, "kim", toKim), 1);
  });

  it("a full queue volume: a temporary 4xx at SMTP, and what was accepted before is delivered once there is space", async (t) => {
    if (process.getuid?.() !== 0) {
      t.skip("not root: the test cannot mount a small tmpfs on the queue volume");
      return;
    }
    const runId = randomUUID().slice(0, 8);
    const subject = (what: string) => `queue-full-${runId} ${what}`;
    const mountpoint = await onSmallTmpfs(daum, `${daum}-queue`, 8);
    try {
      const df = (await execIn(daum, ["df", "-k", "/var/spool/mqueue"])).stdout.trim().split("\n").at(-1)!;
      report(t, `mail.daum.net's queue on a tmpfs: ${df}`);
      assert.match(df, /^tmpfs\s/, "the queue volume is not the small tmpfs");
      const minFree = Number(
        /=(\d+)/.exec((await execIn(daum, ["grep", "^O MinFreeBlocks=", "/etc/mail/sendmail.cf"])).stdout)?.[1] ?? 100,
      );

      // mail.naver.com down: what mail.daum.net accepts stays in its queue.
      await docker("stop", naver);
      const before = [1, 2, 3].map((n) => subject(`before #${n}`));
      for (const item of before) {
        const sent = await send(kimPc, "lee@naver.com", item);
        assert.ok(sent.accepted, `${item}: ${sent.reply}`);
      }
      const queuedBefore = (await queueIds(daum)) ?? [];

      // Below MinFreeBlocks (half of it left, in the filesystem's blocks): Sendmail should answer 452.
      const low = subject("below MinFreeBlocks");
      await execIn(daum, [
        "sh",
        "-c",
        `dd if=/dev/zero of=/var/spool/mqueue/zz-fill bs=$(stat -f -c %S /var/spool/mqueue) count=$(( $(stat -f -c %a /var/spool/mqueue) - ${minFree / 2} )) 2>/dev/null`,
      ]);
      const lowDf = (
        await execIn(daum, ["stat", "-f", "-c", "%a free blocks of %S bytes", "/var/spool/mqueue"])
      ).stdout.trim();
      const lowReply = await send(kimPc, "lee@naver.com", low);
      report(
        t,
        `with ${lowDf} (MinFreeBlocks=${minFree}): ${lowReply.accepted ? "accepted" : "refused"}: ${lowReply.reply}`,
      );

      // Full to the last block.
      const filled = await fill(daum, "/var/spool/mqueue");
      const full = subject("while full");
      const refused = await send(kimPc, "lee@naver.com", full);
      const queuedWhileFull = (await queueIds(daum)) ?? [];
      report(t, `full (${filled}): ${refused.accepted ? "accepted" : "refused"}: ${refused.reply}`);
      report(t, `queue while full: ${queuedWhileFull.length} message(s) (before filling: ${queuedBefore.length})`);
      assert.equal(refused.accepted, false, "a message was accepted into a full queue");
      // A temporary failure that names the disk (452 4.4.5 at MAIL, or 421/452 after DATA).
      assert.match(refused.reply, /\b4\d\d 4\.\d+\.\d+ .*disk space/i);

      await execIn(daum, ["rm", "-f", "/var/spool/mqueue/zz-fill"]);
      const afterFree = subject("after freeing");
      const acceptedAgain = await send(kimPc, "lee@naver.com", afterFree);
      report(t, `after freeing the space: ${acceptedAgain.accepted ? "accepted" : "refused"}: ${acceptedAgain.reply}`);
      assert.ok(acceptedAgain.accepted, acceptedAgain.reply);

      await docker("start", naver);
      await waitHealthy(naver);
      const drained = await waitQueuesEmpty(3 * 60_000);
      const all = [...before, low, afterFree, full];
      const counts = await Promise.all(all.map((item) => countSubject(naver, "lee", item)));
      report(
        t,
        `delivered to lee, ${seconds(drained)} after mail.naver.com was back: ` +
          all.map((item, i) => `"${item.replace(`queue-full-${runId} `, "")}" x${counts[i]}`).join(", "),
      );
      // Accepted: exactly once; refused: never.
      assert.deepEqual(counts, [1, 1, 1, lowReply.accepted ? 1 : 0, 1, 0]);
    } finally {
      if (!(await passesHealthcheck(naver))) {
        await docker("start", naver);
        await waitHealthy(naver);
      }
      await offTmpfs(daum, mountpoint);
    }
  });

  it("a full mailbox volume: mail waits in the queue and is delivered once space is freed", async (t) => {
    if (process.getuid?.() !== 0) {
      t.skip("not root: the test cannot mount a small tmpfs on the mailbox volume");
      return;
    }
    const runId = randomUUID().slice(0, 8);
    const mountpoint = await onSmallTmpfs(naver, `${naver}-mail`, 8);
    try {
      const since = unixNow();
      const filled = await fill(naver, "/var/mail");
      report(t, `mail.naver.com's /var/mail on a tmpfs, filled with dd: ${filled}`);
      assert.match(filled, /^tmpfs\s/);
      const subjects = [1, 2, 3].map((n) => `mailbox-full-${runId} #${n}`);
      // 15 KB each: more than the free bytes left in the mbox file's last block.
      const body = `${"x".repeat(75)}\n`.repeat(200);
      for (const subject of subjects) {
        const sent = await send(kimPc, "lee@naver.com", subject, ["--body", body]);
        assert.ok(sent.accepted, `${subject}: ${sent.reply}`);
      }
      // mail.daum.net relays them (mail.naver.com's queue has space); local delivery fails.
      const deferred = await waitFor("3 deferred local deliveries on mail.naver.com", 120_000, async () => {
        const lines = (await logs(naver, since)).filter((line) => /mailer=local.*stat=Deferred/.test(line));
        return lines.length >= subjects.length ? lines : undefined;
      });
      const local = (await logs(naver, since)).filter((line) => /mail\.local|No space/i.test(line));
      report(t, `deferred: ${deferred[0]!.replace(/^.*?stat=/, "stat=")}`);
      for (const line of [...new Set(local.map((item) => item.replace(/^.*?: /, "")))].slice(0, 3)) {
        report(t, `mail.naver.com: ${line}`);
      }
      const queued = (await queueIds(naver)) ?? [];
      const counts = await Promise.all(subjects.map((s) => countSubject(naver, "lee", s)));
      report(t, `while full: ${queued.length} in mail.naver.com's queue, in lee's mbox ${counts.join("/")}`);
      assert.equal(queued.length, subjects.length);
      assert.deepEqual(counts, [0, 0, 0]);

      const freed = Date.now();
      await execIn(naver, ["rm", "-f", "/var/mail/zz-fill"]);
      await waitFor("the queued messages in lee's mbox", (2 * RUN_INTERVAL_S + 30) * 1000, async () => {
        const found = await Promise.all(subjects.map((s) => countSubject(naver, "lee", s)));
        return found.every((count) => count === 1) ? true : undefined;
      });
      await waitQueuesEmpty(60_000);
      const final = await Promise.all(subjects.map((s) => countSubject(naver, "lee", s)));
      report(
        t,
        `after freeing: delivered ${final.join("/")} within ${seconds(Date.now() - freed)} (queue run every ${RUN_INTERVAL_S} s)`,
      );
      assert.deepEqual(final, [1, 1, 1]);
    } finally {
      await offTmpfs(naver, mountpoint);
    }
  });
});

describe("after the faults lab", () => {
  it("nothing of the stack remains", async () => {
    assert.deepEqual(await labelledObjects(STACK), []);
    assert.deepEqual(strayMounts(), []);
  });
});
