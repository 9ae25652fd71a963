/**
 * "No message lost", end to end on the `durable` stack (test/e2e/stacks/Pulumi.durable.yaml:
 * 10.0.9.0/24, queue run every 30 s, queue lifetime 3 min): a second deploy changes nothing; mail
 * for a stopped receiver waits in the sender's queue and arrives once it is back; 200 messages
 * survive the receiver being stopped and replaced by a redeploy with a changed config; after the
 * queue lifetime the sender gets a bounce, and a bounce is never bounced back.
 *
 * Every deploy runs in its own process through the harness (harness/deploy-cli.ts); mail is
 * sent with swaks on kim's PC and read with curl (IMAPS) on the users' PCs. Figures are printed.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { run } from "../../docker/cli";
import type { ResourceChange } from "../../harness/docker-mocks";
import { destroyStack, labelledObjects } from "../../harness/stack";
import { deployInProcess, docker, execIn, type LabOutputs, seconds, waitFor, waitHealthy } from "./lab";

const STACK = "durable";
const stackFile = path.join(__dirname, "stacks", `Pulumi.${STACK}.yaml`);
const RUN_INTERVAL_S = 30;
const LIFETIME_S = 180;
const MESSAGES = 200;
const SENDERS = 4;

let lab: LabOutputs;
let naver: string;
let daum: string;
let leePc: string;
let kimPc: string;
const suiteStart = Date.now();

function report(t: TestContext, line: string): void {
  t.diagnostic(line);
  console.log(`[durability] ${line}`);
}

/** Deploys (or with `update`, updates) the stack file in a fresh process; progress goes to stderr. */
const deploy = deployInProcess;

/** Queue IDs in a mail host's MTA queue (`mailq`, i.e. `sendmail -bp`). */
async function queueIds(mailHost: string): Promise<string[]> {
  const result = await execIn(mailHost, ["mailq"]);
  assert.equal(result.code, 0, `mailq on ${mailHost}: ${result.stderr}`);
  return [...result.stdout.matchAll(/^([0-9A-Za-z]{14})[*X-]?\s/gm)].map((match) => match[1]!);
}

/** Sendmail's log lines (syslog on the container's stdout) for one queue ID. */
async function logLines(mailHost: string, queueId: string): Promise<string[]> {
  const logs = await run("docker", ["logs", mailHost]);
  return `${logs.stdout}${logs.stderr}`.split("\n").filter((line) => line.includes(`${queueId}:`));
}

interface Submission {
  readonly accepted: boolean;
  readonly queueId?: string;
  /** The server's last reply line (or swaks's error) as swaks printed it. */
  readonly reply: string;
}

/** kim sends with swaks on kim's PC through mail.daum.net (~/.swaksrc: STARTTLS, verified). */
async function send(subject: string, extra: readonly string[] = []): Promise<Submission> {
  const result = await execIn(kimPc, ["swaks", "--to", "lee@naver.com", "--header", `Subject: ${subject}`, ...extra]);
  const accepted = /^<~ {2}250 2\.0\.0 (\S+) Message accepted for delivery/m.exec(result.stdout);
  if (result.code === 0 && accepted) return { accepted: true, queueId: accepted[1]!, reply: accepted[0] };
  const replies = `${result.stdout}\n${result.stderr}`.split("\n").filter((line) => /^(<~?\*+|\*\*\*)/.test(line));
  return { accepted: false, reply: replies.at(-1) ?? `swaks exit ${result.code}: ${result.stderr.trim()}` };
}

/** An IMAP command on INBOX with curl over IMAPS; curl prints the untagged responses. */
async function imap(client: string, login: string, host: string, command: string) {
  const result = await execIn(client, [
    "curl",
    "-sS",
    "-u",
    `${login}:${login}`,
    `imaps://${host}/INBOX`,
    "-X",
    command,
  ]);
  assert.equal(result.code, 0, `IMAPS ${command} on ${host} as ${login}: ${result.stderr}`);
  return result.stdout.replace(/\r/g, "");
}

/**
 * Sequence number and subject of every message in a mailbox: FETCH ENVELOPE with curl over IMAPS,
 * 25 messages at a time (curl holds a custom command's whole response in a 300 kB header buffer).
 */
async function subjects(client: string, login: string, host: string): Promise<{ seq: number; subject: string }[]> {
  const all = await imap(client, login, host, "SEARCH ALL");
  const count = Math.max(0, ...(/^\* SEARCH([\d ]*)$/m.exec(all)?.[1] ?? "").trim().split(/\s+/).map(Number));
  const found: { seq: number; subject: string }[] = [];
  for (let first = 1; first <= count; first += 25) {
    const text = await imap(client, login, host, `FETCH ${first}:${Math.min(count, first + 24)} (ENVELOPE)`);
    for (const match of text.matchAll(
      /^\* (\d+) FETCH \(ENVELOPE \((?:"(?:[^"\\]|\\.)*"|NIL) (?:"((?:[^"\\]|\\.)*)"|NIL)/gm,
    )) {
      found.push({ seq: Number(match[1]), subject: match[2] ?? "" });
    }
  }
  assert.equal(found.length, count, `FETCH ENVELOPE parsed ${found.length} of ${count} messages`);
  return found;
}

/** The whole message `seq` of a mailbox over IMAPS. */
async function message(client: string, login: string, host: string, seq: number): Promise<string> {
  const result = await execIn(client, [
    "curl",
    "-sS",
    "-u",
    `${login}:${login}`,
    `imaps://${host}/INBOX;MAILINDEX=${seq}`,
  ]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout;
}

/** Sequence numbers of the messages whose text contains `text` (IMAP SEARCH TEXT). */
async function search(client: string, login: string, host: string, text: string): Promise<number[]> {
  const result = await execIn(client, [
    "curl",
    "-sS",
    "-u",
    `${login}:${login}`,
    `imaps://${host}/INBOX`,
    "-X",
    `SEARCH TEXT "${text}"`,
  ]);
  assert.equal(result.code, 0, result.stderr);
  const line = /^\* SEARCH([\d ]*)$/m.exec(result.stdout.replace(/\r/g, ""));
  return (line?.[1] ?? "").trim().split(/\s+/).filter(Boolean).map(Number);
}

describe("no message lost (stack durable)", { timeout: 25 * 60_000 }, () => {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-durable-"));

  before(async () => {
    const started = Date.now();
    ({ outputs: lab } = await deploy(stackFile, false));
    naver = lab.mailHosts["naver.com"]!.container;
    daum = lab.mailHosts["daum.net"]!.container;
    leePc = lab.clients["lee-pc"]!.container;
    kimPc = lab.clients["kim-pc"]!.container;
    console.log(`[durability] first deploy (images, CA, 5 containers): ${seconds(Date.now() - started)}`);
  });

  after(async () => {
    // Whatever happened, bring nothing of the stack back: remove it by label.
    const removed = await destroyStack(STACK);
    fs.rmSync(workDir, { recursive: true, force: true });
    console.log(`[durability] removed ${removed.length} object(s); whole file ${seconds(Date.now() - suiteStart)}`);
  });

  it("a second deploy with the same config changes nothing", async (t) => {
    const started = Date.now();
    const { changes, outputs } = await deploy(stackFile, true);
    report(t, `second deploy: ${changes.length} resources, ${seconds(Date.now() - started)}`);
    assert.ok(changes.length >= 18, `expected every resource in the report, got ${changes.length}`);
    assert.deepEqual(
      changes.filter((change) => change.action !== "same"),
      [],
    );
    assert.deepEqual(outputs, lab);
  });

  it("a message for a stopped receiver waits in the sender's queue and arrives within two queue runs of its return", async (t) => {
    const token = `outage-${randomUUID()}`;
    await docker("stop", naver);
    const sent = await send(token, ["--body", `queued while mail.naver.com is down ${token}`]);
    assert.ok(sent.accepted, `mail.daum.net refused the message: ${sent.reply}`);
    const queueId = sent.queueId!;
    assert.ok((await queueIds(daum)).includes(queueId), `mailq on mail.daum.net lacks ${queueId}`);
    // The first delivery attempt fails and is deferred, not bounced.
    const deferred = await waitFor(`a deferred attempt of ${queueId}`, 120_000, async () =>
      (await logLines(daum, queueId)).find((line) => /stat=Deferred/.test(line)),
    );
    report(t, `deferred: ${deferred.replace(/^.*?stat=/, "stat=")}`);
    assert.ok((await queueIds(daum)).includes(queueId), `${queueId} left the queue while the receiver was down`);

    const restarted = Date.now();
    await docker("start", naver);
    await waitHealthy(naver);
    const healthy = Date.now();
    const bound = (2 * RUN_INTERVAL_S + 30) * 1000;
    await waitFor(`${token} in lee's mailbox`, bound, async () =>
      (await search(leePc, "lee", "mail.naver.com", token)).length > 0 ? true : undefined,
    );
    const delay = Date.now() - healthy;
    report(
      t,
      `delivered ${seconds(delay)} after mail.naver.com was healthy again, ${seconds(Date.now() - restarted)} after ` +
        `docker start (healthy after ${seconds(healthy - restarted)}; queue run every ${RUN_INTERVAL_S} s)`,
    );
    assert.equal((await search(leePc, "lee", "mail.naver.com", token)).length, 1, "delivered exactly once");
    assert.ok(!(await queueIds(daum)).includes(queueId));
    assert.ok((await logLines(daum, queueId)).some((line) => /stat=Sent/.test(line)));
  });

  it(`${MESSAGES} messages survive the receiver being stopped and replaced by a redeploy with a changed config`, async (t) => {
    const runId = randomUUID().slice(0, 8);
    const subjectOf = (n: number) => `durable-${runId} #${n}`;
    const modified = path.join(workDir, `Pulumi.${STACK}.yaml`);
    const document = parseYaml(fs.readFileSync(stackFile, "utf8")) as {
      config: { "mail-lab:domains": { name: string; maxMessageSize?: string }[] };
    };
    const naverDomain = document.config["mail-lab:domains"].find((domain) => domain.name === "naver.com")!;
    naverDomain.maxMessageSize = "20MB";
    fs.writeFileSync(modified, stringifyYaml(document));

    const results = new Map<number, Submission>();
    let next = 1;
    let outage: Promise<ResourceChange[]> | undefined;
    let outageStarted = 0;
    let redeployed = 0;
    const started = Date.now();
    const sender = async () => {
      for (let n = next++; n <= MESSAGES; n = next++) {
        results.set(n, await send(subjectOf(n), ["--body", `message ${n} of ${MESSAGES}, run ${runId}`]));
        const accepted = [...results.values()].filter((result) => result.accepted).length;
        if (!outage && accepted >= MESSAGES / 2) {
          outageStarted = Date.now();
          outage = (async () => {
            await docker("stop", naver);
            const { changes } = await deploy(modified, true);
            redeployed = Date.now();
            return changes;
          })();
        }
      }
    };
    await Promise.all(Array.from({ length: SENDERS }, sender));
    const sentAll = Date.now();
    assert.ok(outage, "the outage never started");
    const changes = await outage;
    await waitHealthy(naver);

    // The redeploy replaced exactly mail.naver.com's container (its sendmail.mc changed) and ran
    // the wait for it again (the container's id is its trigger).
    const changed = changes.filter((change) => change.action !== "same");
    assert.deepEqual(
      changed
        .filter((change) => change.type === "command:local:Command")
        .map(({ name, action, changedInputs }) => ({ name, action, changedInputs })),
      [{ name: `${STACK}-mail-naver-com-ready`, action: "replaced", changedInputs: ["triggers"] }],
    );
    assert.deepEqual(
      changed.filter((change) => change.type !== "command:local:Command"),
      [
        {
          type: "docker:index/container:Container",
          name: `${STACK}-mail-naver-com-container`,
          action: "replaced",
          objects: [`container ${naver}`],
          changedInputs: ["uploads"],
        },
      ],
    );
    const size = await execIn(naver, ["grep", "-c", "confMAX_MESSAGE_SIZE', `20971520'", "/etc/mail/sendmail.mc"]);
    assert.equal(size.stdout.trim(), "1", "the new container has the changed config");

    const queued = await queueIds(daum);
    report(t, `after sending: ${queued.length} message(s) in mail.daum.net's queue`);
    await waitFor("mail.daum.net's and mail.naver.com's queues to be empty", 4 * 60_000, async () =>
      (await queueIds(daum)).length === 0 && (await queueIds(naver)).length === 0 ? true : undefined,
    );
    const drained = Date.now();

    const delivered = new Map<number, number>();
    const pattern = new RegExp(`^durable-${runId} #(\\d+)$`);
    for (const { subject } of await subjects(leePc, "lee", "mail.naver.com")) {
      const match = pattern.exec(subject);
      if (match) delivered.set(Number(match[1]), (delivered.get(Number(match[1])) ?? 0) + 1);
    }
    const accepted = [...results].filter(([, result]) => result.accepted).map(([n]) => n);
    const refused = [...results].filter(([, result]) => !result.accepted);
    const duplicates = [...delivered].filter(([, count]) => count > 1).map(([n, count]) => `#${n} x${count}`);
    const missing = accepted.filter((n) => !delivered.has(n));
    const unexpected = [...delivered.keys()].filter((n) => !results.get(n)?.accepted);
    report(
      t,
      `${MESSAGES} sent with ${SENDERS} swaks at a time: accepted ${accepted.length}, refused ${refused.length}, ` +
        `delivered ${delivered.size}, duplicates ${duplicates.length}, missing ${missing.length}`,
    );
    report(
      t,
      `timing: sending ${seconds(sentAll - started)}; receiver down ${seconds(redeployed - outageStarted)} ` +
        `(stop + redeploy); queues empty ${seconds(drained - sentAll)} after the last send; total ${seconds(drained - started)}`,
    );
    for (const [n, result] of refused) report(t, `refused #${n}: ${result.reply}`);
    assert.equal(results.size, MESSAGES);
    // A refusal is explained by the server's reply; anything else (no reply at all) is not.
    for (const [n, result] of refused) assert.match(result.reply, /\d{3}/, `#${n} failed without an SMTP reply`);
    assert.deepEqual(duplicates, [], "delivered more than once");
    assert.deepEqual(missing, [], "accepted but never delivered");
    assert.deepEqual(unexpected, [], "delivered though refused at submission");
  });

  it("after the queue lifetime kim gets a bounce, and a bounce is never bounced", async (t) => {
    const bounced = `lifetime-${randomUUID()}`;
    const nullSender = `null-sender-${randomUUID()}`;
    const cf = await execIn(daum, ["grep", "^O Timeout.queuereturn=", "/etc/mail/sendmail.cf"]);
    assert.equal(cf.stdout.trim(), "O Timeout.queuereturn=3m", "mailQueue.lifetime reaches sendmail.cf");

    await docker("stop", naver);
    try {
      const started = Date.now();
      const normal = await send(bounced, ["--body", `returned after the lifetime ${bounced}`]);
      assert.ok(normal.accepted, normal.reply);
      // A message with the null reverse-path, as a bounce itself has (RFC 5321 4.5.5).
      const dsnLike = await send(nullSender, ["--from", "<>", "--body", `must not be bounced ${nullSender}`]);
      assert.ok(dsnLike.accepted, dsnLike.reply);
      assert.ok(dsnLike.reply.length > 0);
      const queue = await queueIds(daum);
      assert.ok(queue.includes(normal.queueId!) && queue.includes(dsnLike.queueId!), `mailq: ${queue.join(" ")}`);

      // Sendmail returns a message on the first queue run after the lifetime.
      const bound = (LIFETIME_S + 2 * RUN_INTERVAL_S + 60) * 1000;
      await waitFor(
        "both messages to leave mail.daum.net's queue",
        bound,
        async () => {
          const ids = await queueIds(daum);
          return ids.includes(normal.queueId!) || ids.includes(dsnLike.queueId!) ? undefined : true;
        },
        5000,
      );
      report(
        t,
        `both returned from the queue ${seconds(Date.now() - started)} after sending (lifetime ${LIFETIME_S} s)`,
      );

      const normalLog = await logLines(daum, normal.queueId!);
      const nullLog = await logLines(daum, dsnLike.queueId!);
      const returned = (log: string[], kind: string) =>
        log.find((line) => line.includes(`: ${kind}: Cannot send message for 3 minutes`));
      report(t, `kim's message: ${returned(normalLog, "sender notify")?.replace(/^.*?sendmail\[\d+\]: /, "")}`);
      report(t, `null-sender message: ${returned(nullLog, "postmaster notify")?.replace(/^.*?sendmail\[\d+\]: /, "")}`);

      // kim's bounce: one failure DSN from MAILER-DAEMON naming the message. (kim also got a
      // delay warning after Timeout.queuewarn; that one says "auto-generated (warning-timeout)".)
      assert.ok(returned(normalLog, "sender notify"), `no return to the sender logged:\n${normalLog.join("\n")}`);
      const failures: string[] = [];
      for (const seq of await search(kimPc, "kim", "mail.daum.net", bounced)) {
        const text = await message(kimPc, "kim", "mail.daum.net", seq);
        if (/^Auto-Submitted: auto-generated \(failure\)/im.test(text)) failures.push(text);
      }
      assert.equal(failures.length, 1, `failure DSNs for ${bounced} in kim's mailbox: ${failures.length}`);
      const dsn = failures[0]!;
      // A bounce goes out with the null reverse-path (RFC 5321 4.5.5); Sendmail's local delivery
      // writes that sender as MAILER-DAEMON ($n), in the Return-Path header and the mbox From line.
      assert.match(dsn, /^Return-Path: <MAILER-DAEMON>/m);
      assert.match(dsn, /^From: Mail Delivery Subsystem <MAILER-DAEMON>/m);
      assert.match(dsn, /^Subject: Returned mail: see transcript for details/m);
      assert.match(dsn, /report-type=delivery-status/);
      assert.match(dsn, /^Action: failed/m);
      assert.match(dsn, /^Final-Recipient: RFC822; lee@naver\.com/im);
      assert.match(dsn, new RegExp(`^Subject: ${bounced}`, "m"), "the DSN carries the returned message's headers");

      // No bounce for a bounce: a message with the null sender is never returned to a sender;
      // Sendmail sends its "double bounce" to DoubleBounceAddress (default postmaster; an alias of
      // root here) as a "Postmaster notify" without the body (savemail.c, ESM_POSTMASTER).
      const notice = returned(nullLog, "postmaster notify");
      assert.ok(notice, `no postmaster notice logged:\n${nullLog.join("\n")}`);
      assert.equal(returned(nullLog, "sender notify"), undefined, "the null-sender message was returned to a sender");
      assert.deepEqual(await search(kimPc, "kim", "mail.daum.net", nullSender), [], "bounced to kim");
      const noticeId = /: (\w{14}): postmaster notify:/.exec(notice)![1]!;
      assert.ok(
        (await logLines(daum, noticeId)).some((line) => /to=root, .*mailer=local, .*stat=Sent/.test(line)),
        "the postmaster notice was delivered locally to root",
      );
      const postmaster = await execIn(daum, ["cat", "/var/mail/root"]);
      assert.match(postmaster.stdout, /^Subject: Postmaster notify: see transcript for details/m);
      assert.match(postmaster.stdout, new RegExp(`^with id ${dsnLike.queueId!}$`, "m"));
      assert.deepEqual(await queueIds(daum), [], "nothing left in mail.daum.net's queue");
    } finally {
      await docker("start", naver);
      await waitHealthy(naver);
    }
  });
});

describe("after the durable lab", () => {
  it("nothing of the stack remains", async () => {
    assert.deepEqual(await labelledObjects(STACK), []);
  });
});
