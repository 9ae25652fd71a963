/** The relay measurement: smtp-source through the lab, and into smtp-sink for the floor. */
import { randomUUID } from "node:crypto";
import { run } from "../../docker/cli";
import { type LabOutputs, sleep } from "../e2e/lab";
import { smtpSourceCommand, smtpSourceCompleted } from "../load-generator";
import { deliveries, percentile } from "./figures";
import { log, must } from "./tools";
import { LOAD_IMAGE, LOAD_ADDRESS, SINK_ADDRESS, labelArgs, Options } from "./settings";

export interface Relay {
  accepted: number;
  refused: number;
  acceptedPerSecond: number;
  delivered?: number;
  deliveredPerSecond?: number;
  latencyP50Seconds?: number;
  latencyP95Seconds?: number;
  /** `stat=Deferred` lines in the mail hosts' logs during the relay. */
  deferred?: number;
}

/** Builds Postfix's smtp-source and smtp-sink image (images/load-generator) unless it is there. */
export async function ensureLoadImage(): Promise<void> {
  if ((await run("docker", ["image", "inspect", LOAD_IMAGE])).code === 0) return;
  await must("docker", ["build", "-q", "-t", LOAD_IMAGE, "-f", "images/load-generator/Dockerfile", "images"]);
  log(
    `built ${LOAD_IMAGE}: ${await must("docker", ["image", "inspect", "-f", "{{.Id}} {{json .Config.Labels}}", LOAD_IMAGE])}`,
  );
}

/** smtp-source from the load generator's address; resolves when it exits. */
export async function smtpSource(network: string, target: string, sender: string, subject: string, options: Options) {
  await ensureLoadImage();
  const name = `mail-lab-bench-load-${randomUUID().slice(0, 8)}`;
  const started = Date.now();
  const result = await run("docker", [
    "run",
    "--rm",
    "--pull",
    "never",
    "--name",
    name,
    ...labelArgs,
    "--network",
    network,
    "--ip",
    LOAD_ADDRESS,
    "--hostname",
    "load.daum.net",
    LOAD_IMAGE,
    ...smtpSourceCommand({ ...options, sender, subject, target, timeoutSeconds: 600 }),
  ]);
  const ms = Date.now() - started;
  const accepted = smtpSourceCompleted(result.stdout);
  if (result.code !== 0)
    log(`smtp-source exit ${result.code}: ${result.stderr.trim().split("\n").slice(-3).join(" | ")}`);
  return { accepted, ms, startedAt: started };
}

export async function relayThroughLab(outputs: LabOutputs, options: Options): Promise<Relay> {
  const naver = outputs.mailHosts["naver.com"]?.container;
  if (naver === undefined) throw new Error("the bench stack has no mail host for naver.com");
  const network = (
    await must("docker", ["inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}", naver])
  ).trim();
  const subject = `bench-${randomUUID().slice(0, 8)}`;
  const count = async () => {
    const result = await run("docker", ["exec", naver, "grep", "-c", `^Subject: ${subject}$`, "/var/mail/lee"]);
    return Number(result.stdout.trim()) || 0;
  };
  const source = smtpSource(network, "mail.daum.net:25", `${subject}@daum.net`, subject, options);
  let done: Awaited<typeof source> | undefined;
  void source.then((value) => (done = value));
  const started = Date.now();
  let delivered = 0;
  let lastChange = Date.now();
  // Until everything accepted is delivered, or 60 s without progress.
  for (;;) {
    await sleep(500);
    const now = await count();
    if (now !== delivered) {
      delivered = now;
      lastChange = Date.now();
    }
    if (done !== undefined && delivered >= done.accepted) break;
    if (Date.now() - lastChange > 60_000) break;
  }
  const sent = await source;
  const mbox = await must("docker", ["exec", naver, "cat", "/var/mail/lee"]);
  const timed = deliveries(mbox, subject);
  const latency = timed.map((item) => (item.delivered - item.received) / 1000).sort((a, b) => a - b);
  // End to end: from the first message mail.daum.net received to the last one in lee's mbox
  // (whole seconds, so one is added: all within the same second is one second).
  const span = Math.max(...timed.map((item) => item.delivered)) - Math.min(...timed.map((item) => item.received));
  // Deliveries Sendmail put off to a later queue run (a busy mailbox lock, a refused connection).
  let deferred = 0;
  for (const container of Object.values(outputs.mailHosts).map((host) => host.container)) {
    const logs = await run("docker", ["logs", "--since", String(Math.floor(started / 1000) - 1), container]);
    deferred += `${logs.stdout}${logs.stderr}`.split("\n").filter((line) => line.includes("stat=Deferred")).length;
  }
  return {
    accepted: sent.accepted,
    refused: options.messages - sent.accepted,
    acceptedPerSecond: Number((sent.accepted / (sent.ms / 1000)).toFixed(1)),
    delivered,
    deliveredPerSecond: Number((timed.length / (span / 1000 + 1)).toFixed(1)),
    latencyP50Seconds: percentile(latency, 50),
    latencyP95Seconds: percentile(latency, 95),
    deferred,
  };
}

/** smtp-source into Postfix's smtp-sink (accepts and discards) on the same network. */
export async function relayIntoSink(options: Options): Promise<Relay> {
  const network = `mail-lab-bench-sink-net`;
  await must("docker", ["network", "create", ...labelArgs, "--subnet", "10.0.20.0/24", network]);
  try {
    await must("docker", [
      "run",
      "-d",
      "--pull",
      "never",
      "--name",
      "mail-lab-bench-sink",
      ...labelArgs,
      "--network",
      network,
      "--ip",
      SINK_ADDRESS,
      LOAD_IMAGE,
      "smtp-sink",
      "-u",
      "nobody",
      `${SINK_ADDRESS}:25`,
      "256",
    ]);
    await sleep(500);
    const sent = await smtpSource(network, `${SINK_ADDRESS}:25`, "floor@daum.net", "floor", options);
    return {
      accepted: sent.accepted,
      refused: options.messages - sent.accepted,
      acceptedPerSecond: Number((sent.accepted / (sent.ms / 1000)).toFixed(1)),
    };
  } finally {
    await run("docker", ["rm", "-f", "mail-lab-bench-sink"]);
    await run("docker", ["network", "rm", network]);
  }
}
