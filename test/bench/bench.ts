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
import { planImagePrune, readContainers, readLabImages, removeImage } from "../../components/image-prune";
import { imageTag, ROLES } from "../../components/MailLab";
import { PROJECT } from "../../config/errors";
import { UsageError } from "../../scripts/arguments";
import { run } from "../../docker/cli";
import { destroyStack } from "../../harness/stack";
import { sleep, waitHealthy } from "../e2e/lab";
import { benchClassroom, classroomRows } from "./classroom";
import { atRest, containersOf, log, must, seconds, timed } from "./tools";
import {
  root,
  STACK,
  stackFile,
  LOAD_IMAGE,
  benchPlan,
  Options,
  parseOptions,
  deployLab,
  destroyLab,
} from "./settings";
import { FloorContainer, captureFloor, startFloorContainer, startFloor, removeFloor } from "./floor";
import { Relay, ensureLoadImage, relayThroughLab, relayIntoSink } from "./relay";

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
