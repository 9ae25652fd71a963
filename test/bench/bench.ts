/**
 * `npm run bench`: the lab against its floor, side by side in one run, on the `bench` stack
 * (test/bench/Pulumi.bench.yaml, 10.0.20.0/24, self-check on). A benchmark, not a test: it prints
 * a table and writes JSON, and fails only when something it measures does not work.
 *
 *   npm run bench -- [--runs 3] [--messages 1000] [--sessions 10] [--bytes 5000] [--no-cold]
 *                    [--docker-host URL] [--json bench-results.json]
 *   npm run bench -- --labs 30 [--docker-host URL]     (a classroom: test/bench/classroom.ts)
 *
 * `--docker-host` (or DOCKER_HOST) runs everything on another Docker engine.
 *
 * The floor is the same five containers with bare Docker: the lab's own images and the files the
 * lab uploaded (copied out of the lab's containers), `docker create` + `docker cp` + `docker start`
 * all at once, timed until every image's healthcheck passes (polled every 0.25 s, as the
 * lab's deploy does). The lab is a
 * deploy with the harness (harness/deploy-cli.ts, a fresh process as `pulumi up` is) until
 * its self-check has passed: mail both ways, POP3 and IMAP.
 *
 * Measured: cold deploy (every lab image no container uses removed first, so that the build
 * cache holds none of its layers; the floor builds its own with --no-cache), warm deploy (`--runs` times each, min/median/max), an update after a one-key change
 * (naver.com's maxMessageSize: one mail host replaced), destroy; the relay of `--messages` messages
 * of `--bytes` with `--sessions` SMTP sessions (Postfix's smtp-source into mail.daum.net, relayed by
 * MX to mail.naver.com, counted in lee's mbox), against smtp-source into smtp-sink on the same
 * network; memory and CPU of the lab at rest (`docker stats`).
 *
 * Traffic stays on the lab's network. Everything it made (stack, floor, load generator, floor
 * images) carries the stack's labels and is removed at the end, also on failure.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomUUID } from "node:crypto";
import { planImagePrune, readContainers, readLabImages, removeImage } from "../../components/image-prune";
import { imageTag, ROLES } from "../../components/MailLab";
import { PROJECT } from "../../config/errors";
import { PATHS } from "../../render/files";
import { renderLab } from "../../render";
import { resolvePlan } from "../../plan/plan";
import { readStackFile } from "../../config/load";
import { takeFlag, UsageError } from "../../scripts/arguments";
import { run, runRaw } from "../../docker/cli";
import { destroyStack, stackLabels } from "../../harness/stack";
import { deployInProcess, destroy, type LabOutputs, sleep, waitHealthy } from "../e2e/lab";
import { smtpSourceCommand, smtpSourceCompleted } from "../load-generator";
import { deliveries, percentile } from "./figures";
import { benchClassroom, classroomRows } from "./classroom";
import { atRest, containersOf, log, must, seconds, timed } from "./tools";

const root = path.join(__dirname, "..", "..");
const STACK = "bench";
const stackFile = path.join(__dirname, `Pulumi.${STACK}.yaml`);
const LOAD_IMAGE = "mail-lab-load-generator:bench";
const LOAD_ADDRESS = "10.0.20.250";
const SINK_ADDRESS = "10.0.20.251";
const FLOOR_NETWORK = "mail-lab-bench-floor-net";
const benchPlan = () => {
  const file = readStackFile(stackFile);
  return resolvePlan(file.config, { project: "mail-lab", stack: file.stack });
};
const labelArgs = Object.entries(stackLabels(STACK)).flatMap(([label, value]) => ["--label", `${label}=${value}`]);

interface Options {
  runs: number;
  messages: number;
  sessions: number;
  bytes: number;
  cold: boolean;
  json: string;
  /** With a number: the classroom run (test/bench/classroom.ts) instead of the lab against its floor. */
  labs: number | undefined;
}

function parseOptions(argv: readonly string[]): Options {
  const args = [...argv];
  const number = (flag: string, fallback: number, max: number): number => {
    const value = takeFlag(args, flag);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1 || parsed > max)
      throw new UsageError(`${flag} ${value}: give a whole number from 1 to ${max}`);
    return parsed;
  };
  const noCold = args.indexOf("--no-cold");
  if (noCold !== -1) args.splice(noCold, 1);
  // Another engine (DOCKER_HOST's forms: unix://, tcp://, ssh://user@server): every docker command
  // of the bench, of the harness and of the lab's own commands inherits it.
  const dockerHost = takeFlag(args, "--docker-host");
  if (dockerHost !== undefined) process.env["DOCKER_HOST"] = dockerHost;
  const labs = args.includes("--labs") ? number("--labs", 1, 200) : undefined;
  const options = {
    runs: number("--runs", 3, 10),
    messages: number("--messages", 1000, 10_000),
    sessions: number("--sessions", 10, 100),
    bytes: number("--bytes", 5000, 1_000_000),
    cold: noCold === -1,
    json: takeFlag(args, "--json") ?? "bench-results.json",
    labs,
  };
  if (args.length > 0) throw new UsageError(`unknown argument ${args[0]}`);
  return options;
}

/** stdout as bytes (a tar stream), which `run` would decode as text. */
async function dockerBytes(args: readonly string[]): Promise<Buffer> {
  const result = await runRaw("docker", args);
  if (result.code !== 0) throw new Error(`docker ${args.join(" ")}: ${result.stderr.trim()}`);
  return result.stdout;
}

// --- the lab -----------------------------------------------------------------------------------

/** Deploys (or updates) a stack file in a fresh process, as `pulumi up` runs the program. */
const deployLab = async (file: string, update = false) => (await deployInProcess(file, update)).outputs;
const destroyLab = async () => destroy(stackFile);

// --- the floor ---------------------------------------------------------------------------------

/** One lab container as bare Docker would run it: its settings and the files the lab uploaded. */
interface FloorContainer {
  readonly name: string;
  readonly image: string;
  readonly hostname: string;
  readonly address: string;
  readonly dns: string[];
  readonly dnsSearch: string[];
  readonly env: string[];
  readonly files: Buffer;
}

interface Inspected {
  Config: { Image: string; Hostname: string; Env: string[] };
  HostConfig: { Dns: string[] | null; DnsSearch: string[] | null };
  NetworkSettings: { Networks: Record<string, { IPAMConfig?: { IPv4Address?: string } }> };
}

/** Reads each lab container's settings and uploaded files (every rendered file, TLS and CA). */
async function captureFloor(outputs: LabOutputs): Promise<FloorContainer[]> {
  const plan = benchPlan();
  const uploaded = new Map(
    renderLab(plan).map(({ host, files }) => [
      host.containerName,
      [
        ...files.map((file) => file.path),
        PATHS.caTrust,
        ...(plan.mailHosts.some((mailHost) => mailHost.containerName === host.containerName)
          ? [PATHS.tlsCert, PATHS.tlsKey, PATHS.tlsCa]
          : []),
      ],
    ]),
  );
  return Promise.all(
    containersOf(outputs).map(async (container, index) => {
      const [inspected] = JSON.parse(await must("docker", ["inspect", container])) as Inspected[];
      const paths = uploaded.get(container);
      if (!inspected || !paths) throw new Error(`${container} is not a container of the bench plan`);
      const files = await dockerBytes([
        "exec",
        container,
        "tar",
        "-cf",
        "-",
        "-C",
        "/",
        ...paths.map((p) => p.slice(1)),
      ]);
      return {
        name: `mail-lab-bench-floor-${index}`,
        image: inspected.Config.Image,
        hostname: inspected.Config.Hostname,
        address: Object.values(inspected.NetworkSettings.Networks)[0]?.IPAMConfig?.IPv4Address ?? "",
        dns: inspected.HostConfig.Dns ?? [],
        dnsSearch: inspected.HostConfig.DnsSearch ?? [],
        env: inspected.Config.Env.filter((entry) => !entry.startsWith("PATH=")),
        files,
      };
    }),
  );
}

async function startFloorContainer(container: FloorContainer, image = container.image): Promise<void> {
  await must("docker", [
    "create",
    "--name",
    container.name,
    ...labelArgs,
    "--network",
    FLOOR_NETWORK,
    "--ip",
    container.address,
    "--hostname",
    container.hostname,
    ...container.dns.flatMap((dns) => ["--dns", dns]),
    ...container.dnsSearch.flatMap((search) => ["--dns-search", search]),
    ...container.env.flatMap((entry) => ["-e", entry]),
    image,
  ]);
  await must("docker", ["cp", "-", `${container.name}:/`], container.files);
  await must("docker", ["start", container.name]);
}

/** The floor's deploy: network, then all five containers at once, until every one is healthy. */
async function startFloor(floor: readonly FloorContainer[], images?: Record<string, string>): Promise<void> {
  const plan = benchPlan();
  await must("docker", [
    "network",
    "create",
    ...labelArgs,
    "--subnet",
    plan.network.subnet,
    "--gateway",
    plan.network.gateway,
    FLOOR_NETWORK,
  ]);
  await Promise.all(floor.map((container) => startFloorContainer(container, images?.[container.image])));
  await Promise.all(floor.map((container) => waitHealthy(container.name)));
}

async function removeFloor(floor: readonly FloorContainer[]): Promise<void> {
  await must("docker", ["rm", "-f", ...floor.map((container) => container.name)]);
  await must("docker", ["network", "rm", FLOOR_NETWORK]);
}

// --- relay ---------------------------------------------------------------------------------------

interface Relay {
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
async function ensureLoadImage(): Promise<void> {
  if ((await run("docker", ["image", "inspect", LOAD_IMAGE])).code === 0) return;
  await must("docker", ["build", "-q", "-t", LOAD_IMAGE, "-f", "images/load-generator/Dockerfile", "images"]);
  log(
    `built ${LOAD_IMAGE}: ${await must("docker", ["image", "inspect", "-f", "{{.Id}} {{json .Config.Labels}}", LOAD_IMAGE])}`,
  );
}

/** smtp-source from the load generator's address; resolves when it exits. */
async function smtpSource(network: string, target: string, sender: string, subject: string, options: Options) {
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

async function relayThroughLab(outputs: LabOutputs, options: Options): Promise<Relay> {
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
async function relayIntoSink(options: Options): Promise<Relay> {
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

// --- the run -------------------------------------------------------------------------------------

interface Row {
  measure: string;
  floor: string;
  lab: string;
  ratio?: number;
}

const summary = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { min: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, max: sorted.at(-1)! };
};

/**
 * Empties the build cache the lab could draw on, so that its cold deploy builds every step: the
 * classic builder's cache is the layers of images present, and lab images of other content tags
 * (an earlier checkout's) share the long `apt-get install` layers with today's. Removes every lab
 * image no container uses (as `npm run images:prune`) and the floor's images; false, touching
 * nothing, when a container of another stack runs one of today's lab images.
 */
async function removeBuildCache(baseImage: string): Promise<boolean> {
  const today = ROLES.map((role) => `mail-lab-${role}:${imageTag(path.join(root, "images"), role, baseImage)}`);
  const prune = planImagePrune(readLabImages(PROJECT), readContainers());
  if (prune.keep.some(({ image }) => image.references.some((reference) => today.includes(reference)))) return false;
  for (const image of prune.remove) removeImage(image);
  const floorImages = ROLES.map((role) => `mail-lab-bench-floor-${role}:cold`);
  await run("docker", ["image", "rm", ...floorImages]);
  log(`removed ${prune.remove.length} lab image(s) and the floor's: nothing left for the build cache`);
  return true;
}

async function bench(options: Options): Promise<void> {
  const started = Date.now();
  const plan = benchPlan();
  const results: Record<string, unknown> = {};
  const rows: Row[] = [];
  const row = (measure: string, floorMs: number, labMs: number) =>
    rows.push({
      measure,
      floor: `${seconds(floorMs)} s`,
      lab: `${seconds(labMs)} s`,
      ratio: Number((labMs / floorMs).toFixed(2)),
    });

  const leftovers = await destroyStack(STACK);
  if (leftovers.length > 0) log(`removed ${leftovers.length} object(s) left by an earlier run`);
  log("building the load generator (images/load-generator)");
  await ensureLoadImage();

  let floor: FloorContainer[] | undefined;
  if (options.cold) {
    if (await removeBuildCache(plan.baseImage)) {
      log("cold deploy of the lab (no lab image left to build from)");
      const lab = await timed(() => deployLab(stackFile));
      floor = await captureFloor(lab.value);
      await destroyLab();
      log("cold floor: docker build --no-cache of the three images, then the five containers");
      const floorImages: Record<string, string> = {};
      const coldFloor = await timed(async () => {
        await Promise.all(
          ROLES.map(async (role) => {
            const tag = `mail-lab-bench-floor-${role}:cold`;
            await must("docker", [
              "build",
              "-q",
              "--no-cache",
              "--build-arg",
              `BASE_IMAGE=${plan.baseImage}`,
              "-t",
              tag,
              "-f",
              `images/${role}/Dockerfile`,
              "images",
            ]);
            const labTag = `mail-lab-${role}:${imageTag(path.join(root, "images"), role, plan.baseImage)}`;
            floorImages[await must("docker", ["image", "inspect", "-f", "{{.Id}}", labTag])] = tag;
            floorImages[labTag] = tag;
          }),
        );
        await startFloor(floor!, floorImages);
      });
      await removeFloor(floor);
      row("cold deploy (3 image builds)", coldFloor.ms, lab.ms);
      results["coldDeploy"] = { floorSeconds: seconds(coldFloor.ms), labSeconds: seconds(lab.ms) };
    } else {
      log("cold deploy skipped: another stack's containers use the lab's images");
      results["coldDeploy"] = "skipped: the lab's images are in use by another stack";
    }
  }

  const warm = { floor: [] as number[], lab: [] as number[] };
  const update = { floor: 0, lab: 0 };
  const destroy = { floor: [] as number[], lab: [] as number[] };
  for (let round = 1; round <= options.runs; round++) {
    log(`warm deploy ${round}/${options.runs}: the lab`);
    const lab = await timed(() => deployLab(stackFile));
    warm.lab.push(lab.ms);
    log(`  the lab's deploy, verification passed: ${seconds(lab.ms)} s`);
    floor ??= await captureFloor(lab.value);
    if (round === 1) {
      log("the lab at rest (20 s after its deploy)");
      await sleep(20_000);
      results["atRest"] = await atRest(containersOf(lab.value));
      log(
        `relay: ${options.messages} messages of ${options.bytes} bytes, ${options.sessions} sessions, into mail.daum.net`,
      );
      results["relayLab"] = await relayThroughLab(lab.value, options);
      log("update after a one-key change (naver.com's maxMessageSize)");
      const changed = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-bench-")), `Pulumi.${STACK}.yaml`);
      fs.writeFileSync(
        changed,
        fs.readFileSync(stackFile, "utf8").replace("maxMessageSize: 10MB", "maxMessageSize: 20MB"),
      );
      update.lab = (await timed(() => deployLab(changed, true))).ms;
      fs.rmSync(path.dirname(changed), { recursive: true });
    }
    destroy.lab.push((await timed(destroyLab)).ms);
    log(`  the lab destroyed: ${seconds(destroy.lab.at(-1)!)} s`);

    log(`warm deploy ${round}/${options.runs}: the floor`);
    warm.floor.push((await timed(() => startFloor(floor!))).ms);
    log(`  the floor healthy: ${seconds(warm.floor.at(-1)!)} s`);
    if (round === 1) {
      const naver = floor.find((container) => container.hostname === "mail.naver.com")!;
      update.floor = (
        await timed(async () => {
          await must("docker", ["rm", "-f", naver.name]);
          await startFloorContainer(naver);
          await waitHealthy(naver.name);
        })
      ).ms;
    }
    destroy.floor.push((await timed(() => removeFloor(floor!))).ms);
  }
  const warmFloor = summary(warm.floor);
  const warmLab = summary(warm.lab);
  row(`warm deploy, median of ${options.runs}`, warmFloor.median, warmLab.median);
  row("update after a one-key change", update.floor, update.lab);
  row(`destroy, median of ${options.runs}`, summary(destroy.floor).median, summary(destroy.lab).median);
  results["warmDeploy"] = {
    floorSeconds: Object.fromEntries(Object.entries(warmFloor).map(([k, v]) => [k, seconds(v)])),
    labSeconds: Object.fromEntries(Object.entries(warmLab).map(([k, v]) => [k, seconds(v)])),
  };
  results["update"] = { floorSeconds: seconds(update.floor), labSeconds: seconds(update.lab) };
  results["destroy"] = { floorSeconds: destroy.floor.map(seconds), labSeconds: destroy.lab.map(seconds) };

  log("relay floor: smtp-source into smtp-sink");
  results["relayFloor"] = await relayIntoSink(options);
  const relayLab = results["relayLab"] as Relay;
  const relayFloor = results["relayFloor"] as Relay;
  rows.push({
    measure: "relay: accepted msg/s",
    floor: String(relayFloor.acceptedPerSecond),
    lab: String(relayLab.acceptedPerSecond),
  });
  rows.push({ measure: "relay: delivered msg/s (end to end)", floor: "-", lab: String(relayLab.deliveredPerSecond) });
  rows.push({ measure: "relay: refused", floor: String(relayFloor.refused), lab: String(relayLab.refused) });
  rows.push({ measure: "relay: deliveries deferred", floor: "-", lab: String(relayLab.deferred) });
  rows.push({
    measure: "relay: latency p50 / p95 (s)",
    floor: "-",
    lab: `${relayLab.latencyP50Seconds} / ${relayLab.latencyP95Seconds}`,
  });
  const rest = results["atRest"] as { memoryMiB: number; cpuPercent: number };
  rows.push({ measure: "lab at rest: memory / CPU", floor: "-", lab: `${rest.memoryMiB} MiB / ${rest.cpuPercent} %` });

  const machine = await machineOf();
  const report = {
    date: new Date().toISOString(),
    machine,
    options,
    results,
    rows,
    totalSeconds: seconds(Date.now() - started),
  };
  fs.writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);

  const widths = [38, 14, 22, 8];
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join(" ")
      .trimEnd();
  console.log(line(["measure", "floor", "lab", "lab/floor"]));
  for (const r of rows) console.log(line([r.measure, r.floor, r.lab, r.ratio === undefined ? "" : `${r.ratio}x`]));
  console.log(
    `\n${machine.cpus} cores, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Docker ${machine.docker} (${machine.engine}), Node ${machine.node}; ` +
      `${report.totalSeconds} s in all; JSON in ${options.json}`,
  );
}

/** The machine the figures come from, for the report. */
async function machineOf() {
  return {
    cpus: os.cpus().length,
    memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    kernel: os.release(),
    docker: await must("docker", ["version", "--format", "{{.Server.Version}}"]),
    engine: process.env["DOCKER_HOST"] ?? "the CLI's default",
    node: process.version,
  };
}

async function classroomReport(labs: number, json: string): Promise<void> {
  const started = Date.now();
  const figures = await benchClassroom(stackFile, labs);
  const rows = classroomRows(figures);
  const machine = await machineOf();
  const report = {
    date: new Date().toISOString(),
    machine,
    classroom: figures,
    rows,
    totalSeconds: seconds(Date.now() - started),
  };
  fs.writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  for (const row of rows) console.log(`${row.measure.padEnd(46)} ${row.value}`);
  console.log(
    `\n${machine.cpus} cores, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Docker ${machine.docker} (${machine.engine}), ` +
      `Node ${machine.node}; ${report.totalSeconds} s in all; JSON in ${json}`,
  );
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(
      `bench: ${error.message}\nusage: npm run bench -- [--runs 3] [--messages 1000] [--sessions 10] [--bytes 5000] [--no-cold] [--labs N] [--docker-host URL] [--json file]\n`,
    );
    return 2;
  }
  try {
    if (options.labs === undefined) await bench(options);
    else await classroomReport(options.labs, options.json);
    return 0;
  } catch (error) {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  } finally {
    // The images the bench built itself carry no stack label (destroying the lab between rounds
    // would remove them): removed here by name.
    const images = [LOAD_IMAGE, ...ROLES.map((role) => `mail-lab-bench-floor-${role}:cold`)];
    const removed = await destroyStack(STACK, { log: () => undefined });
    await run("docker", ["image", "rm", ...images]);
    log(`removed ${removed.length} object(s) of stack ${STACK} and the images ${images.join(", ")}`);
  }
}

main().then((code) => {
  process.exitCode = code;
});
