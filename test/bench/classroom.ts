/**
 * `npm run bench -- --labs N`: a classroom of N labs on one Docker host. The bench stack is
 * turned into N stack files by the classroom generator (`npm run classroom`'s plan/classroom.ts:
 * subnets 10.0.100.0/24, 10.0.101.0/24 ..., passwords of their own), and the labs are deployed one
 * after another with the harness, each until its self-check has passed, and left running side by
 * side. Then, all N up: memory and CPU of their containers at rest, the host's memory, and every
 * lab's checks run again (`npm run check`), to show that a full classroom still works. Then all N
 * are destroyed. Everything is removed at the end, also on failure.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { classroomLabs, renderLabStackFile } from "../../plan/classroom";
import { readStackFile } from "../../config/load";
import { run } from "../../docker/cli";
import { destroyStack } from "../../harness/stack";
import { deployInProcess, destroy, type LabOutputs, sleep } from "../e2e/lab";
import { percentile } from "./figures";
import { atRest, containersOf, log, seconds, timed } from "./tools";

const root = path.join(__dirname, "..", "..");
const FIRST_SUBNET = "10.0.100.0/24";

/** The host's available memory (MemAvailable of /proc/meminfo), in MiB. */
function availableMiB(): number {
  const match = /^MemAvailable:\s+(\d+) kB$/m.exec(fs.readFileSync("/proc/meminfo", "utf8"));
  if (!match) throw new Error("/proc/meminfo has no MemAvailable line");
  return Number(match[1]) / 1024;
}

export interface ClassroomFigures {
  labs: number;
  /** Deploy of each lab to "verification passed", in seconds, in deploy order. */
  deploySeconds: number[];
  /** From the first deploy's start to the last one's self-check. */
  allDeployedSeconds: number;
  atRest: { memoryMiB: number; cpuPercent: number; memoryPerLabMiB: number };
  /** How much less memory the host had available with all labs up (includes dockerd's share). */
  hostMemoryUsedMiB: number;
  /** Labs whose `npm run check` passed with all of them running. */
  recheckPassed: number;
  recheckSeconds: number;
  destroySeconds: number;
}

export async function benchClassroom(benchStackFile: string, count: number): Promise<ClassroomFigures> {
  const source = readStackFile(benchStackFile);
  const classroom = classroomLabs(
    { stack: source.stack, config: source.config, otherConfig: source.providerConfig },
    { count, firstSubnet: FIRST_SUBNET, seed: "bench", dropPublish: true },
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-bench-classroom-"));
  const files = classroom.labs.map((lab) => {
    const file = path.join(dir, `Pulumi.${lab.stack}.yaml`);
    fs.writeFileSync(file, renderLabStackFile(classroom, lab, benchStackFile));
    return { stack: lab.stack, subnet: lab.subnet, file };
  });
  try {
    for (const { stack } of files) await destroyStack(stack);
    const availableBefore = availableMiB();
    const deploySeconds: number[] = [];
    const containers: string[] = [];
    const all = await timed(async () => {
      for (const [index, lab] of files.entries()) {
        const deployed = await timed(async () => (await deployInProcess(lab.file)).outputs);
        const outputs: LabOutputs = deployed.value;
        if (!/ 0 failed$/m.test(outputs.verification ?? "")) {
          throw new Error(`lab ${lab.stack}: self-check did not pass:\n${outputs.verification ?? "(no report)"}`);
        }
        containers.push(...containersOf(outputs));
        deploySeconds.push(seconds(deployed.ms));
        log(`lab ${index + 1}/${count} (${lab.stack}, ${lab.subnet}) up, self-check passed: ${seconds(deployed.ms)} s`);
      }
    });
    log(`all ${count} labs up; at rest (20 s later)`);
    await sleep(20_000);
    const rest = await atRest(containers);
    const hostMemoryUsedMiB = Math.round(availableBefore - availableMiB());

    log(`every lab's checks again, all ${count} running (npm run check)`);
    let recheckPassed = 0;
    const recheck = await timed(async () => {
      for (const lab of files) {
        const result = await run(process.execPath, ["--import", "tsx", "scripts/check.ts", lab.file], { cwd: root });
        if (result.code === 0) recheckPassed++;
        else log(`lab ${lab.stack}: checks failed:\n${result.stdout}${result.stderr}`);
      }
    });
    log(`destroying the ${count} labs`);
    const destroyed = await timed(async () => {
      for (const lab of files) destroy(lab.file);
    });
    return {
      labs: count,
      deploySeconds,
      allDeployedSeconds: seconds(all.ms),
      atRest: { ...rest, memoryPerLabMiB: Number((rest.memoryMiB / count).toFixed(1)) },
      hostMemoryUsedMiB,
      recheckPassed,
      recheckSeconds: seconds(recheck.ms),
      destroySeconds: seconds(destroyed.ms),
    };
  } finally {
    for (const { stack } of files) await destroyStack(stack).catch((error: Error) => log(error.message));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The table rows of a classroom run. */
export function classroomRows(figures: ClassroomFigures): { measure: string; value: string }[] {
  const sorted = [...figures.deploySeconds].sort((a, b) => a - b);
  const [first, ...rest] = figures.deploySeconds;
  const restSorted = [...rest].sort((a, b) => a - b);
  return [
    { measure: "labs", value: String(figures.labs) },
    { measure: "deploy, first lab (builds missing images)", value: `${first} s` },
    {
      measure: "deploy, each further lab: min / median / max",
      value:
        restSorted.length > 0
          ? `${restSorted[0]} / ${percentile(restSorted, 50)} / ${restSorted.at(-1)} s`
          : `${sorted[0]} s (one lab)`,
    },
    { measure: "all labs up and self-checked", value: `${figures.allDeployedSeconds} s` },
    {
      measure: "all labs at rest: memory / CPU",
      value: `${figures.atRest.memoryMiB} MiB (${figures.atRest.memoryPerLabMiB} per lab) / ${figures.atRest.cpuPercent} %`,
    },
    { measure: "host memory taken by the labs", value: `${figures.hostMemoryUsedMiB} MiB` },
    {
      measure: "checks again, all labs running",
      value: `${figures.recheckPassed} of ${figures.labs} passed, ${figures.recheckSeconds} s`,
    },
    { measure: "destroy all labs", value: `${figures.destroySeconds} s` },
  ];
}
