/**
 * What the bench's measurements share: the docker CLI (failing loudly), timing, a lab's
 * containers and their memory and CPU at rest.
 */
import * as path from "node:path";
import { run } from "../../docker/cli";
import type { LabOutputs } from "../e2e/lab";
import { parseStatsLine } from "./figures";

const root = path.join(__dirname, "..", "..");

export const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
/** Milliseconds as seconds with two decimals. */
export const seconds = (ms: number) => Number((ms / 1000).toFixed(2));

/** Runs `file args...` from the repository root; its trimmed stdout, or an error with its stderr. */
export async function must(file: string, args: readonly string[], input?: Buffer): Promise<string> {
  const result = await run(file, args, { cwd: root, input });
  if (result.code !== 0) throw new Error(`${file} ${args.join(" ")}: exit ${result.code}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

export async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = Date.now();
  const value = await work();
  return { ms: Date.now() - started, value };
}

/** The lab's containers: name server, mail hosts, clients. */
export const containersOf = (outputs: LabOutputs): string[] => [
  outputs.nameServer.container,
  ...Object.values(outputs.mailHosts).map((host) => host.container),
  ...Object.values(outputs.clients).map((client) => client.container),
];

/** Memory (MiB) and CPU (% of a core) of `containers` together, averaged over `samples` readings of `docker stats`. */
export async function atRest(
  containers: readonly string[],
  samples = 3,
): Promise<{ memoryMiB: number; cpuPercent: number }> {
  let memory = 0;
  let cpu = 0;
  for (let sample = 0; sample < samples; sample++) {
    const lines = await must("docker", [
      "stats",
      "--no-stream",
      "--format",
      "{{.CPUPerc}} {{.MemUsage}}",
      ...containers,
    ]);
    for (const line of lines.split("\n")) {
      const reading = parseStatsLine(line);
      if (!reading) continue;
      cpu += reading.cpuPercent;
      memory += reading.memoryMiB;
    }
  }
  return { memoryMiB: Number((memory / samples).toFixed(1)), cpuPercent: Number((cpu / samples).toFixed(2)) };
}
