/** The benchmark's stack, addresses, labels and command-line options. */
import * as path from "node:path";
import { resolvePlan } from "../../plan/plan";
import { readStackFile } from "../../config/load";
import { takeFlag, UsageError } from "../../scripts/arguments";
import { stackLabels } from "../../harness/stack";
import { deployInProcess, destroy } from "../e2e/lab";

export const root = path.join(__dirname, "..", "..");
export const STACK = "bench";
export const stackFile = path.join(__dirname, `Pulumi.${STACK}.yaml`);
export const LOAD_IMAGE = "mail-lab-load-generator:bench";
export const LOAD_ADDRESS = "10.0.20.250";
export const SINK_ADDRESS = "10.0.20.251";
export const FLOOR_NETWORK = "mail-lab-bench-floor-net";
export const benchPlan = () => {
  const file = readStackFile(stackFile);
  return resolvePlan(file.config, { project: "mail-lab", stack: file.stack });
};
export const labelArgs = Object.entries(stackLabels(STACK)).flatMap(([label, value]) => [
  "--label",
  `${label}=${value}`,
]);

export interface Options {
  runs: number;
  messages: number;
  sessions: number;
  bytes: number;
  cold: boolean;
  json: string;
  /** With a number: the classroom run (test/bench/classroom.ts) instead of the lab against its floor. */
  labs: number | undefined;
}

export function parseOptions(argv: readonly string[]): Options {
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

/** Deploys (or updates) a stack file in a fresh process, as `pulumi up` runs the program. */
export const deployLab = async (file: string, update = false) => (await deployInProcess(file, update)).outputs;
export const destroyLab = async () => destroy(stackFile);
