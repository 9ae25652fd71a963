/**
 * Deploys a stack file's config through the Pulumi program with `DockerMocks` (no Pulumi CLI),
 * updates a deployed stack like a second `pulumi up` (from the harness's state file), and removes
 * a stack's Docker objects by label.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { dockerHostOf, engineConfigOf, readStackFile } from "../config/load";
import { PROJECT } from "../config/errors";
import { docker, dockerLines, DockerError, useDockerHost } from "../docker/cli";
import {
  type ChangeAction,
  DockerMocks,
  type RecordedResource,
  type RegistrationOptions,
  type ResourceChange,
} from "./docker-mocks";
import { unwrapSecrets } from "./inputs";

/** Labels by which the harness finds a stack's objects (also required on each of them). */
export const PROJECT_LABEL = "mail-lab.project";
export const STACK_LABEL = "mail-lab.stack";

export function stackLabels(stack: string): Record<string, string> {
  return { [PROJECT_LABEL]: PROJECT, [STACK_LABEL]: stack };
}

/** Every Docker object carrying the stack's labels, as "kind name" lines (containers, networks, volumes, images). */
export async function labelledObjects(stack: string): Promise<string[]> {
  const filters = Object.entries(stackLabels(stack)).flatMap(([label, value]) => [
    "--filter",
    `label=${label}=${value}`,
  ]);
  return [
    ...(await dockerLines(["ps", "-a", ...filters, "--format", "container {{.Names}}"])),
    ...(await dockerLines(["network", "ls", ...filters, "--format", "network {{.Name}}"])),
    ...(await dockerLines(["volume", "ls", ...filters, "--format", "volume {{.Name}}"])),
    ...(await dockerLines(["image", "ls", ...filters, "--format", "image {{.Repository}}:{{.Tag}}"])),
  ];
}

export interface DeployOptions {
  /** The Pulumi program; default the project's `index.ts`. */
  readonly program?: string;
  /** Working directory while the program runs (the engine uses the project directory); default the program's directory. */
  readonly cwd?: string;
  /** Progress lines; default stderr. */
  readonly log?: (line: string) => void;
  /**
   * Refuse networks, volumes, images and containers without the `mail-lab.project`/`mail-lab.stack`
   * labels, since `destroyStack` could not find them after a crash. Default true.
   */
  readonly requireStackLabels?: boolean;
  /** How often `wait: true` polls health, in ms (tests shorten it). */
  readonly healthPollMs?: number;
  /**
   * Update the stack deployed before (like a second `pulumi up`) instead of removing what is left
   * and creating everything: needs the state file that deploy wrote. Default false.
   */
  readonly update?: boolean;
  /** Folder of the harness's state files; default `$TMPDIR/mail-lab-harness-state`. */
  readonly stateDir?: string;
}

export interface Deployment {
  readonly stack: string;
  /** The program's exports, resolved to plain JSON (Outputs awaited, secrets unwrapped). */
  readonly outputs: Record<string, unknown>;
  /** The stack's objects (created or kept); `mocks.teardown()` removes them and the state file. */
  readonly mocks: DockerMocks;
  /** What happened to each resource: all "created" on a first deploy. */
  readonly changes: readonly ResourceChange[];
  /** Where the state for the next update was written. */
  readonly stateFile: string;
}

/** What the harness keeps between deploys of a stack (the engine keeps its checkpoint instead). */
export interface HarnessState {
  readonly version: 1;
  readonly project: string;
  readonly stack: string;
  /** The resources in the order their deploy finished them. */
  readonly resources: readonly RecordedResource[];
}

export const DEFAULT_STATE_DIR = path.join(os.tmpdir(), "mail-lab-harness-state");

/** The state file of a stack: `<stateDir>/mail-lab.<stack>.json`. */
export function stateFileOf(stack: string, stateDir = DEFAULT_STATE_DIR): string {
  return path.join(stateDir, `${PROJECT}.${stack}.json`);
}

function readState(file: string, stack: string): HarnessState {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new Error(
      `no harness state for stack ${stack} at ${file}: deploy it without \`update\` first (an update compares against the previous deploy)`,
    );
  }
  const state = JSON.parse(text) as HarnessState;
  if (state.version !== 1 || state.project !== PROJECT || state.stack !== stack || !Array.isArray(state.resources)) {
    throw new Error(`${file} is not harness state (version 1) of ${PROJECT}/${stack}`);
  }
  return state;
}

/** Written owner-only: the state holds secret outputs (the CA's key) in plain text, as a checkpoint does encrypted. */
function writeState(file: string, state: HarnessState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(state, null, 1)}\n`, { mode: 0o600 });
  fs.renameSync(temporary, file);
}

/** "2 created, 1 replaced, 12 same": the engine's summary line. */
export function summarizeChanges(changes: readonly ResourceChange[]): string {
  const order: ChangeAction[] = ["created", "updated", "replaced", "deleted", "same"];
  const counts = order
    .map((action) => [action, changes.filter((change) => change.action === action).length] as const)
    .filter(([, count]) => count > 0);
  return counts.length === 0 ? "no resources" : counts.map(([action, count]) => `${count} ${action}`).join(", ");
}

/** The part of a RegisterResourceRequest the harness reads (google-protobuf getters). */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getDeletebeforereplace(): boolean;
  getIgnorechangesList(): string[];
  getReplaceonchangesList(): string[];
}
type RegisterCallback = (error: unknown, response: unknown) => void;
interface MonitorWithRegister {
  registerResource(request: RegisterRequest, callback: RegisterCallback): unknown;
}

/**
 * `MockResourceArgs` carries no resource options, but replacing needs `deleteBeforeReplace`: wrap
 * the mock monitor's `registerResource` to hand each registration's options to the mocks first.
 */
function observeRegistrations(mocks: DockerMocks): void {
  const monitor = pulumi.runtime.getMonitor() as unknown as Partial<MonitorWithRegister> | undefined;
  const original = monitor?.registerResource;
  if (!monitor || typeof original !== "function") {
    throw new Error("the mock monitor has no registerResource; the harness needs updating for this @pulumi/pulumi");
  }
  monitor.registerResource = (request: RegisterRequest, callback: RegisterCallback) => {
    const options: RegistrationOptions = {
      deleteBeforeReplace: request.getDeletebeforereplace(),
      ignoreChanges: request.getIgnorechangesList(),
      replaceOnChanges: request.getReplaceonchangesList(),
    };
    mocks.noteRegistration(request.getType(), request.getName(), options);
    return original.call(monitor, request, callback);
  };
}

const DEFAULT_PROGRAM = path.resolve(__dirname, "../index.ts");

/** Programs already imported by this process: Node caches modules, so a second import would register nothing. */
const importedPrograms = new Set<string>();

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The SDK's own way to read an Output's value; rejects when the Output does (apply would just never run). */
interface OutputInternals {
  promise(withUnknowns?: boolean): Promise<unknown>;
}

async function outputValue(output: pulumi.Output<unknown>): Promise<unknown> {
  const internals = output as unknown as Partial<OutputInternals>;
  if (typeof internals.promise !== "function") {
    throw new Error("@pulumi/pulumi Output has no promise(); the harness needs updating for this SDK version");
  }
  return internals.promise.call(output);
}

/** Resolves stack outputs to plain JSON: Outputs and promises awaited, secrets unwrapped, nested. */
export async function plainValue(value: unknown, where = "outputs"): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) return plainValue(await outputValue(value), where);
  if (value instanceof Promise) return plainValue(await value, where);
  if (pulumi.Resource.isInstance(value)) {
    throw new Error(`${where} is a resource; export its outputs (e.g. its name or id) instead`);
  }
  if (Array.isArray(value)) return Promise.all(value.map((item, index) => plainValue(item, `${where}[${index}]`)));
  if (value !== null && typeof value === "object") {
    const entries = await Promise.all(
      Object.entries(value).map(async ([key, item]) => [key, await plainValue(item, `${where}.${key}`)] as const),
    );
    return unwrapSecrets(Object.fromEntries(entries.filter(([, item]) => item !== undefined)), where);
  }
  if (typeof value === "function" || typeof value === "symbol") return undefined;
  return value;
}

/**
 * The program's stack outputs: its exports, or, for `export default async () => ({...})`, the
 * function's result (the nodejs language host does the same).
 */
async function programOutputs(module: Record<string, unknown>): Promise<Record<string, unknown>> {
  // Importing a CommonJS module gives { default: module.exports, ...named exports }.
  const moduleExports = (
    module["default"] !== null &&
    typeof module["default"] === "object" &&
    (module["default"] as { __esModule?: unknown }).__esModule
      ? module["default"]
      : module
  ) as Record<string, unknown>;
  const defaultExport = moduleExports["default"];
  const source =
    typeof defaultExport === "function"
      ? (((await (defaultExport as () => unknown)()) as Record<string, unknown> | undefined) ?? {})
      : Object.fromEntries(Object.entries(moduleExports).filter(([key]) => key !== "default" && key !== "__esModule"));
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    const plain = await plainValue(value, key);
    if (plain !== undefined) outputs[key] = plain;
  }
  return outputs;
}

/**
 * Deploys `stackFile` (stacks/Pulumi.<stack>.yaml) with the program and the real Docker daemon:
 * removes what is left of the stack, runs the program under `DockerMocks`, waits until every
 * registered resource has been applied and returns the stack outputs. On any failure it tears
 * down what it created and rethrows.
 */
export async function deployStack(stackFile: string, options: DeployOptions = {}): Promise<Deployment> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { stack, config, encryptedKeys, providerConfig } = readStackFile(stackFile);
  if (encryptedKeys.length > 0) {
    throw new Error(
      `${stackFile}: the harness cannot decrypt Pulumi secrets (it runs without the Pulumi CLI and its passphrase); ` +
        `encrypted keys: ${encryptedKeys.join(", ")}. Use a stack file with plain values for tests.`,
    );
  }
  const program = path.resolve(options.program ?? DEFAULT_PROGRAM);
  if (importedPrograms.has(program)) {
    throw new Error(
      `${program} was already run in this process (Node caches modules); deploy each stack in a fresh process`,
    );
  }

  // The docker provider applies everything to `docker:host`; so does the harness.
  useDockerHost(dockerHostOf(providerConfig));
  const stateFile = stateFileOf(stack, options.stateDir);
  const previous = options.update ? readState(stateFile, stack) : undefined;
  if (!previous) {
    const leftovers = await destroyStack(stack, { log, stateDir: options.stateDir });
    if (leftovers.length > 0) log(`removed ${leftovers.length} leftover object(s) of stack ${stack}`);
  }

  // The engine hands config to the program through PULUMI_CONFIG; the SDK reads that variable once,
  // when first loaded, so also set it in the SDK's store.
  const engineConfig = engineConfigOf(config, providerConfig);
  process.env["PULUMI_CONFIG"] = JSON.stringify(engineConfig);
  process.env["PULUMI_CONFIG_SECRET_KEYS"] = "[]";
  pulumi.runtime.setAllConfig(engineConfig, []);

  const mocks = new DockerMocks({
    log,
    requiredLabels: options.requireStackLabels === false ? undefined : stackLabels(stack),
    stackScopedLabels: [STACK_LABEL],
    healthPollMs: options.healthPollMs,
    previous: previous?.resources,
    stateFile,
  });
  await pulumi.runtime.setMocks(mocks, PROJECT, stack, false);
  observeRegistrations(mocks);

  // A resource whose registration fails rejects promises nobody awaits; collect them instead of
  // letting Node end the process, and report them with the deploy's error.
  // Other listeners (node:test's, which would fail whichever test is running) are set aside
  // meanwhile and put back afterwards.
  const stray: unknown[] = [];
  const onRejection = (reason: unknown) => stray.push(reason);
  const otherListeners = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  process.on("unhandledRejection", onRejection);
  const previousCwd = process.cwd();
  process.chdir(options.cwd ?? path.dirname(program));
  try {
    log(`${previous ? "updating" : "deploying"} stack ${stack} with ${path.relative(previousCwd, program) || program}`);
    importedPrograms.add(program);
    const module = (await import(pathToFileURL(program).href)) as Record<string, unknown>;
    const outputsPromise = programOutputs(module);
    // Awaited below only if no resource failed; keep its rejection from counting as unhandled.
    outputsPromise.catch(() => undefined);
    // Stops only when no registration is pending, including ones started by apply callbacks.
    await pulumi.runtime.disconnect();
    const failure = mocks.failures[0];
    if (failure) throw failure;
    const outputs = await outputsPromise;
    const lateFailure = mocks.failures[0];
    if (lateFailure) throw lateFailure;
    if (stray.length > 0) throw stray[0];
    await mocks.completeUpdate();
    writeState(stateFile, { version: 1, project: PROJECT, stack, resources: mocks.resources });
    log(`stack ${stack} ${previous ? "updated" : "deployed"}: ${summarizeChanges(mocks.changes)}`);
    return { stack, outputs, mocks, changes: mocks.changes, stateFile };
  } catch (error) {
    await pulumi.runtime.disconnect().catch(() => undefined);
    const others = [...mocks.failures, ...stray].filter((other) => other !== error).map(errorMessage);
    const teardownErrors: string[] = [];
    try {
      await mocks.teardown();
    } catch (teardown) {
      teardownErrors.push(errorMessage(teardown));
    }
    // A failed update may leave objects of the previous deploy the mocks did not reach: remove the
    // whole stack by label, so that a test never leaks it. (The engine would keep a partial state.)
    if (previous) {
      try {
        await destroyStack(stack, { log, stateDir: options.stateDir });
      } catch (destroy) {
        teardownErrors.push(errorMessage(destroy));
      }
    }
    const teardownError = teardownErrors.length > 0 ? teardownErrors.join("\n") : undefined;
    fs.rmSync(stateFile, { force: true });
    const message =
      `deploy of stack ${stack} failed: ${errorMessage(error)}` +
      (others.length > 0 ? `\nother failures:\n  ${others.join("\n  ")}` : "") +
      (teardownError ? `\nand teardown failed: ${teardownError}` : "");
    throw new Error(message, { cause: error });
  } finally {
    process.chdir(previousCwd);
    // Let rejections already queued land in the collector before it goes.
    await new Promise((resolve) => setImmediate(resolve));
    process.off("unhandledRejection", onRejection);
    for (const listener of otherListeners) process.on("unhandledRejection", listener);
  }
}

export interface DestroyOptions {
  readonly log?: (line: string) => void;
  /** Folder of the harness's state files (the stack's file is removed too); default as deployStack's. */
  readonly stateDir?: string;
}

/** Waits up to 20 s for a container whose removal is in progress to disappear. */
async function gone(container: string): Promise<boolean> {
  for (let attempt = 0; attempt < 40; attempt++) {
    const ids = await dockerLines(["ps", "-aq", "--no-trunc", "--filter", `id=${container}`]).catch(() => ["?"]);
    if (ids.length === 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

/**
 * Removes every container, network, volume and image labelled `mail-lab.project=mail-lab` and
 * `mail-lab.stack=<stack>`, whether or not this process created them: containers first (they hold
 * networks, volumes and images), then networks and volumes, then images. Tries everything, then
 * throws listing what it could not remove. Also removes the stack's harness state file.
 * Returns a line per object removed.
 */
export async function destroyStack(stack: string, options: DestroyOptions = {}): Promise<string[]> {
  const log = options.log ?? (() => undefined);
  const filters = Object.entries(stackLabels(stack)).flatMap(([label, value]) => [
    "--filter",
    `label=${label}=${value}`,
  ]);
  const removed: string[] = [];
  const errors: string[] = [];
  const attempt = async (what: string, argv: string[]) => {
    try {
      await docker(argv);
      removed.push(what);
      log(`removed ${what}`);
    } catch (error) {
      // Someone else (a teardown still running) got there first.
      if (error instanceof DockerError && /no such|not found/i.test(error.result.stderr)) return;
      if (
        error instanceof DockerError &&
        /already in progress/i.test(error.result.stderr) &&
        (await gone(argv.at(-1) ?? ""))
      )
        return;
      errors.push(`${what}: ${errorMessage(error)}`);
    }
  };
  const list = async (argv: string[]) => {
    try {
      return await dockerLines(argv);
    } catch (error) {
      errors.push(errorMessage(error));
      return [];
    }
  };

  for (const line of await list(["ps", "-a", ...filters, "--format", "{{.ID}} {{.Names}}"])) {
    const [id = line, name = id] = line.split(" ");
    await attempt(`container ${name}`, ["rm", "-f", "-v", id]);
  }
  for (const line of await list(["network", "ls", ...filters, "--format", "{{.ID}} {{.Name}}"])) {
    const [id = line, name = id] = line.split(" ");
    await attempt(`network ${name}`, ["network", "rm", id]);
  }
  for (const name of await list(["volume", "ls", "-q", ...filters])) {
    await attempt(`volume ${name}`, ["volume", "rm", name]);
  }
  const images = await list(["image", "ls", "-a", ...filters, "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"]);
  const seen = new Set<string>();
  for (const line of images) {
    const [id = line, reference = id] = line.split(" ");
    if (seen.has(id)) continue;
    seen.add(id);
    await attempt(`image ${reference}`, ["image", "rm", "-f", id]);
  }
  fs.rmSync(stateFileOf(stack, options.stateDir), { force: true });
  if (errors.length > 0) {
    throw new Error(`destroyStack ${stack}: could not remove ${errors.length} object(s):\n  ${errors.join("\n  ")}`);
  }
  return removed;
}
