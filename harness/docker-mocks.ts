/**
 * Pulumi mocks that apply each registered resource to the local Docker daemon.
 *
 * `pulumi.runtime.setMocks(new DockerMocks(), ...)` runs a Pulumi program in-process; each
 * `registerResource` the program makes reaches `newResource` below with its resolved inputs, and
 * the harness creates the real network, image, volume, container or runs the real command, then
 * returns `{ id, state }` shaped like pulumi-docker 5.x / pulumi-command 1.x outputs.
 *
 * Honesty rules (see README.md):
 * - an allow-list per type: any other type, and any input field a handler does not read, throws
 *   naming the type and field (`Fields.done()`), so the harness cannot drift silently from the
 *   providers;
 * - everything created is recorded the moment it exists, so `teardown()` can remove it even when
 *   the rest of its creation failed.
 *
 * With `previous` (the resources a earlier deploy recorded, see `HarnessState`), it behaves like a
 * second `pulumi up` against them: a resource whose inputs are unchanged is kept ("same"), a
 * changed one is replaced (a `local.Command` without changed `triggers` is updated in place),
 * a new one is created, and `completeUpdate()` deletes what the program no longer declares.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { parseDockerSubnet, subnetsOverlap as ipv4SubnetsOverlap } from "../config/ipv4";
import { docker, dockerJson, dockerLines, dockerResult, run, DockerError } from "../docker/cli";
import { Fields, unwrapSecrets, UnsupportedInputError } from "./inputs";
import { tarArchive, type TarFile } from "./tar";

type MockResourceArgs = pulumi.runtime.MockResourceArgs;
type MockResourceResult = pulumi.runtime.MockResourceResult;
type MockCallArgs = pulumi.runtime.MockCallArgs;
type MockCallResult = pulumi.runtime.MockCallResult;

export const NETWORK = "docker:index/network:Network";
export const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
export const VOLUME = "docker:index/volume:Volume";
export const CONTAINER = "docker:index/container:Container";
export const COMMAND = "command:local:Command";
export const STACK = "pulumi:pulumi:Stack";

/** The resource types the harness applies; every other custom resource type is refused. */
export const SUPPORTED_TYPES = [NETWORK, REMOTE_IMAGE, VOLUME, CONTAINER, COMMAND] as const;
type SupportedType = (typeof SUPPORTED_TYPES)[number];

function isSupportedType(type: string): type is SupportedType {
  return (SUPPORTED_TYPES as readonly string[]).includes(type);
}

/** One command run by a `local.Command` (its `create`, later its `delete`). */
interface CommandRun {
  readonly command: string;
  readonly interpreter: readonly string[];
  readonly environment: Record<string, string>;
  readonly dir: string;
  readonly stdin: string | undefined;
  readonly logging: CommandLogging;
}

type CommandLogging = "stdout" | "stderr" | "stdoutAndStderr" | "none";

/** Something the harness made, in creation order. */
export type CreatedObject =
  | { readonly kind: "network"; readonly resource: string; readonly name: string; readonly id: string }
  | { readonly kind: "volume"; readonly resource: string; readonly name: string; readonly id: string }
  | {
      readonly kind: "image";
      readonly resource: string;
      readonly name: string;
      readonly id: string;
      /** Every reference `docker build -t` gave it (name and tags). */
      readonly references: readonly string[];
      readonly keepLocally: boolean;
      readonly forceRemove: boolean;
    }
  | {
      readonly kind: "container";
      readonly resource: string;
      readonly name: string;
      readonly id: string;
      readonly destroyGraceSeconds: number;
    }
  | {
      readonly kind: "command";
      readonly resource: string;
      readonly name: string;
      readonly id: string;
      readonly deleteRun: CommandRun | undefined;
      readonly stdout: string;
      readonly stderr: string;
      readonly addPreviousOutputInEnv: boolean;
    };

/** Which kind of object each resource type makes. */
const KIND_OF_TYPE: Record<SupportedType, CreatedObject["kind"]> = {
  [NETWORK]: "network",
  [REMOTE_IMAGE]: "image",
  [VOLUME]: "volume",
  [CONTAINER]: "container",
  [COMMAND]: "command",
};

/** What a deploy did to one resource, as the engine's summary counts it. */
export type ChangeAction = "same" | "created" | "updated" | "replaced" | "deleted";

export interface ResourceChange {
  readonly type: string;
  /** The resource's logical name (the first argument of its constructor). */
  readonly name: string;
  readonly action: ChangeAction;
  /** The Docker objects (or command) concerned, as "container mail-lab-dev-ns". */
  readonly objects: readonly string[];
  /** For "updated" and "replaced": the top-level inputs that differ from the previous deploy. */
  readonly changedInputs?: readonly string[];
}

/** One resource as a deploy left it: what the next deploy compares against and hands back. */
export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  /** Inputs with secrets unwrapped: the diff compares these. */
  readonly inputs: unknown;
  readonly id: string;
  /** The outputs returned to the program (secrets still wrapped), handed back when kept. */
  readonly state: Record<string, unknown>;
  /** The Docker objects (or command) this resource made, in creation order. */
  readonly objects: readonly CreatedObject[];
}

/** Resource options the mocks do not receive in `MockResourceArgs`; `stack.ts` reads them off the monitor. */
export interface RegistrationOptions {
  readonly deleteBeforeReplace: boolean;
  readonly ignoreChanges: readonly string[];
  readonly replaceOnChanges: readonly string[];
}

function resourceKey(type: string, name: string): string {
  return `${type}::${name}`;
}

function describeObject(object: CreatedObject): string {
  return `${object.kind} ${object.name}`;
}

/** JSON with object keys sorted, so equal inputs give equal text whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === "object" && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : item,
  );
}

/** Top-level input keys whose values differ (present in either). */
function changedKeys(before: unknown, after: unknown): string[] {
  const asRecord = (value: unknown) =>
    value !== null && typeof value === "object" ? (value as Record<string, unknown>) : {};
  const left = asRecord(before);
  const right = asRecord(after);
  return [...new Set([...Object.keys(left), ...Object.keys(right)])]
    .filter((key) => canonicalJson(left[key]) !== canonicalJson(right[key]))
    .sort();
}

export interface DockerMocksOptions {
  /** Progress lines (one per created object, command output). Default: written to stderr. */
  readonly log?: (line: string) => void;
  /**
   * Labels every network, volume, image and container must carry, e.g.
   * `{ "mail-lab.project": "mail-lab", "mail-lab.stack": "dev" }`. `destroyStack` finds leftovers
   * by these labels, so an unlabelled object would survive a crashed run. Default: none required.
   */
  readonly requiredLabels?: Record<string, string>;
  /**
   * Those of `requiredLabels` that name the stack (`mail-lab.stack`). An image with `keepLocally`
   * outlives the stack and may be shared with other stacks, so it must carry the other required
   * labels but not these: `destroyStack` removes by them, and would take the image from under every
   * other stack using it. Default: none.
   */
  readonly stackScopedLabels?: readonly string[];
  /** How often `wait: true` polls the container's health, in ms. Default 500. */
  readonly healthPollMs?: number;
  /**
   * The resources of the previous deploy of this stack: set, the mocks update them like a second
   * `pulumi up` (keep, replace, create, and `completeUpdate()` deletes). Default: every resource is created.
   */
  readonly previous?: readonly RecordedResource[];
  /** The harness's state file for this stack; `teardown()` removes it with the objects. */
  readonly stateFile?: string;
}

/** A failure while applying one resource; the message names the resource and says what failed. */
export class ResourceError extends Error {
  constructor(
    readonly type: string,
    readonly resourceName: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    const prefix = `${type} "${resourceName}"`;
    super(message.startsWith(prefix) ? message : `${prefix}: ${message}`, options);
    this.name = "ResourceError";
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isMissing(error: unknown): boolean {
  return (
    error instanceof DockerError && /no such (container|network|volume|image)|not found/i.test(error.result.stderr)
  );
}

/** `[{ label, value }]` (the docker provider's label list) as a map. */
function labelList(items: Fields[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const item of items) {
    const label = item.requiredString("label");
    const value = item.string("value") ?? "";
    item.done();
    labels[label] = value;
  }
  return labels;
}

/**
 * Steps of a classic-builder `docker build` output ("Step 3/12 : RUN ...") that can make a layer,
 * and how many of them the layer cache answered (" ---> Using cache"). FROM only names the base, and
 * an ARG before the first FROM only feeds it: neither is counted. All counted steps cached: the
 * build ran nothing and made no new layer.
 */
export function buildCacheUse(output: string): { steps: number; cached: number } {
  let steps = 0;
  let cached = 0;
  let seenFrom = false;
  for (const step of output.split(/^(?=Step \d+\/\d+ : )/m)) {
    const instruction = /^Step \d+\/\d+ : (\S+)/.exec(step)?.[1]?.toUpperCase();
    if (instruction === undefined) continue;
    if (instruction === "FROM") seenFrom = true;
    if (instruction === "FROM" || !seenFrom) continue;
    steps++;
    if (/^ ---> Using cache$/m.test(step)) cached++;
  }
  return { steps, cached };
}

/** Whether two subnets as Docker writes them share an address (false for IPv6 or junk). */
export function subnetsOverlap(a: string, b: string): boolean {
  const left = parseDockerSubnet(a);
  const right = parseDockerSubnet(b);
  return left !== undefined && right !== undefined && ipv4SubnetsOverlap(left, right);
}

interface NetworkInspect {
  Name: string;
  Id: string;
  IPAM?: { Config?: { Subnet?: string }[] | null };
}

interface ContainerInspect {
  Id: string;
  Name: string;
  State: {
    Status: string;
    Running: boolean;
    ExitCode: number;
    Error?: string;
    Health?: { Status: string; Log?: { ExitCode: number; Output: string; End: string }[] | null };
  };
  Config: { Hostname: string; Domainname: string };
  NetworkSettings: {
    Networks?: Record<
      string,
      {
        IPAddress: string;
        IPPrefixLen: number;
        Gateway: string;
        MacAddress: string;
        GlobalIPv6Address: string;
        GlobalIPv6PrefixLen: number;
        IPv6Gateway: string;
      }
    > | null;
  };
}

/** Parses `"0644"`/`"755"`-style permissions; the provider gives them precedence over `executable`. */
function parsePermissions(where: string, text: string): number {
  if (!/^0?[0-7]{3,4}$/.test(text)) {
    throw new UnsupportedInputError(`${where}: \`permissions\` must be an octal mode such as "0644", got "${text}"`);
  }
  return parseInt(text, 8);
}

export class DockerMocks implements pulumi.runtime.Mocks {
  /** Everything created so far, in creation order. */
  readonly created: CreatedObject[] = [];
  /** Every `newResource` failure, in order. */
  readonly failures: Error[] = [];
  /** Logical names of the resources applied, in the order `newResource` finished them. */
  readonly applied: { readonly type: string; readonly name: string }[] = [];

  /** What happened to each resource, in the order `newResource` finished them (deletions last). */
  readonly changes: ResourceChange[] = [];
  /** Every custom resource of this deploy as it now stands: the next deploy's `previous`. */
  readonly resources: RecordedResource[] = [];

  private readonly log: (line: string) => void;
  private readonly requiredLabels: Record<string, string>;
  private readonly stackScopedLabels: readonly string[];
  private readonly healthPollMs: number;
  private readonly previous: ReadonlyMap<string, RecordedResource> | undefined;
  private readonly previousOrder: readonly RecordedResource[];
  private readonly stateFile: string | undefined;
  private readonly registrations = new Map<string, RegistrationOptions>();
  private readonly seen = new Set<string>();
  /** Objects of replaced resources, removed by `completeUpdate()` (the engine deletes them last). */
  private readonly pendingDeletes: RecordedResource[] = [];

  constructor(options: DockerMocksOptions = {}) {
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.requiredLabels = options.requiredLabels ?? {};
    this.stackScopedLabels = options.stackScopedLabels ?? [];
    this.healthPollMs = options.healthPollMs ?? 500;
    this.stateFile = options.stateFile;
    this.previousOrder = options.previous ?? [];
    if (options.previous) {
      const byKey = new Map<string, RecordedResource>();
      for (const resource of options.previous) byKey.set(resourceKey(resource.type, resource.name), resource);
      this.previous = byKey;
    }
  }

  /** True when this deploy updates a previous one. */
  get updating(): boolean {
    return this.previous !== undefined;
  }

  /**
   * Records the options of a registration (the monitor sees them, `newResource` does not). Called
   * by `stack.ts` just before the mock monitor calls `newResource` for the same resource.
   */
  noteRegistration(type: string, name: string, options: RegistrationOptions): void {
    this.registrations.set(resourceKey(type, name), options);
  }

  /** Provider functions (invokes) are not applied: nothing in the lab should need one. */
  call(args: MockCallArgs): MockCallResult {
    throw new Error(`invoke ${args.token} is not supported by the harness (only resources are applied)`);
  }

  async newResource(args: MockResourceArgs): Promise<MockResourceResult> {
    // Like the engine, start nothing new once a resource has failed.
    const firstFailure = this.failures[0];
    if (firstFailure && args.custom !== false) {
      const error = new ResourceError(
        args.type,
        args.name,
        `not created: an earlier resource failed (${firstFailure.message})`,
      );
      throw error;
    }
    try {
      const result = await this.apply(args);
      this.applied.push({ type: args.type, name: args.name });
      return result;
    } catch (error) {
      const wrapped =
        error instanceof ResourceError
          ? error
          : new ResourceError(args.type, args.name, errorMessage(error), { cause: error });
      this.failures.push(wrapped);
      throw wrapped;
    }
  }

  private async apply(args: MockResourceArgs): Promise<MockResourceResult> {
    // Components (mail-lab:index:*) and the stack have no physical existence.
    if (args.custom === false || args.type === STACK) return { id: undefined, state: {} };
    if (args.id) {
      throw new Error(
        `reading or importing an existing resource (id "${args.id}") is not supported; the harness only creates`,
      );
    }
    if (args.provider) {
      throw new Error(
        `explicit provider ${args.provider} is not supported; the harness always talks to the local dockerd`,
      );
    }
    if (!isSupportedType(args.type)) {
      throw new Error(
        `resource type ${args.type} is not supported by the harness (supported: ${SUPPORTED_TYPES.join(", ")})`,
      );
    }
    const plainInputs = unwrapSecrets(args.inputs, `${args.type} "${args.name}" inputs`);
    const key = resourceKey(args.type, args.name);
    if (this.seen.has(key)) {
      throw new Error(
        `a second ${args.type} named "${args.name}": the harness keys its state by type and name, so each must be unique`,
      );
    }
    this.seen.add(key);
    const before = this.previous?.get(key);
    if (!before) {
      const result = await this.create(args, plainInputs);
      this.record(args, plainInputs, result, "created");
      return result;
    }
    const changed = changedKeys(before.inputs, plainInputs);
    const options = this.registrations.get(key);
    if (options && options.ignoreChanges.length > 0) {
      throw new UnsupportedInputError(
        `${args.type} "${args.name}": the resource option \`ignoreChanges\` is not applied by the harness's update`,
      );
    }
    // `replaceOnChanges` paths such as "triggers[*]" (pulumi-command sets that one itself), by top-level input.
    const replaceOn = (options?.replaceOnChanges ?? []).map((path) => path.split(/[.[]/, 1)[0] ?? path);
    if (changed.length === 0) {
      await this.confirmExists(before);
      this.created.push(...before.objects);
      const result = { id: before.id, state: before.state };
      this.record(args, plainInputs, result, "same");
      return result;
    }
    if (args.type === COMMAND && !changed.some((input) => replaceOn.includes(input) || replaceOn.includes("*"))) {
      // pulumi-command updates in place unless a `replaceOnChanges` input (its own "triggers[*]")
      // changed: it runs `update`, or `create` again.
      const result = await this.create(args, plainInputs, before);
      this.record(args, plainInputs, result, "updated", changed);
      return result;
    }
    // Replacement. With deleteBeforeReplace the old object goes first (fixed names and addresses
    // cannot exist twice); otherwise the new one is created first and the old one deleted at the end.
    if (options?.deleteBeforeReplace) {
      await this.removeAll(before.objects);
      this.log(`deleted ${before.objects.map(describeObject).join(", ")} before replacing it (deleteBeforeReplace)`);
    } else {
      this.pendingDeletes.push(before);
    }
    const result = await this.create(args, plainInputs);
    this.record(args, plainInputs, result, "replaced", changed);
    return result;
  }

  /** Applies a resource by creating it (or, for a command with `previous`, running it again in place). */
  private async create(
    args: MockResourceArgs,
    plainInputs: unknown,
    previous?: RecordedResource,
  ): Promise<MockResourceResult> {
    if (!isSupportedType(args.type)) throw new Error(`unsupported type ${args.type}`);
    const inputs = Fields.of(`${args.type} "${args.name}"`, plainInputs);
    const raw = (args.inputs ?? {}) as Record<string, unknown>;
    const type: SupportedType = args.type;
    switch (type) {
      case NETWORK:
        return this.createNetwork(args.name, inputs, raw);
      case REMOTE_IMAGE:
        return this.createImage(args.name, inputs, raw);
      case VOLUME:
        return this.createVolume(args.name, inputs, raw);
      case CONTAINER:
        return this.createContainer(args.name, inputs, raw);
      case COMMAND:
        return this.runCommand(args.name, inputs, raw, previous);
      default: {
        const unreachable: never = type;
        throw new Error(`unhandled type ${String(unreachable)}`);
      }
    }
  }

  /** Adds a resource to the new state and its change to the report. */
  private record(
    args: MockResourceArgs,
    inputs: unknown,
    result: MockResourceResult,
    action: ChangeAction,
    changedInputs?: readonly string[],
  ): void {
    const kind = KIND_OF_TYPE[args.type as SupportedType];
    const objects = this.created.filter((object) => object.kind === kind && object.resource === args.name);
    this.resources.push({
      type: args.type,
      name: args.name,
      inputs,
      id: result.id ?? "",
      state: (result.state ?? {}) as Record<string, unknown>,
      objects,
    });
    this.changes.push({
      type: args.type,
      name: args.name,
      action,
      objects: objects.map(describeObject),
      ...(changedInputs ? { changedInputs } : {}),
    });
    if (action !== "created") {
      this.log(
        `${action} ${objects.map(describeObject).join(", ") || `${args.type} "${args.name}"`}` +
          (changedInputs ? ` (changed: ${changedInputs.join(", ")})` : ""),
      );
    }
  }

  /**
   * A kept resource must still exist: the harness, like `pulumi up` without `--refresh`, does not
   * re-read state, but a missing object would make the "same" report a lie.
   */
  private async confirmExists(resource: RecordedResource): Promise<void> {
    for (const object of resource.objects) {
      const argv: Record<CreatedObject["kind"], string[] | undefined> = {
        container: ["container", "inspect", object.id],
        network: ["network", "inspect", object.id],
        volume: ["volume", "inspect", object.name],
        image: object.kind === "image" ? ["image", "inspect", object.references[0] ?? object.name] : undefined,
        command: undefined,
      };
      const inspect = argv[object.kind];
      if (!inspect) continue;
      const result = await dockerResult(inspect);
      if (result.code !== 0) {
        throw new Error(
          `${describeObject(object)} of the previous deploy is gone (${result.stderr.trim()}); the harness does not ` +
            `refresh state: remove the stack (e2e-down) and deploy it afresh`,
        );
      }
    }
  }

  /** Removes objects newest first; throws listing every failure. */
  private async removeAll(objects: readonly CreatedObject[], replaced = false): Promise<string[]> {
    const removed: string[] = [];
    const errors: string[] = [];
    for (const object of [...objects].reverse()) {
      try {
        const done = await this.remove(object, replaced);
        if (done) removed.push(done);
      } catch (error) {
        errors.push(`${describeObject(object)}: ${errorMessage(error)}`);
      }
      const index = this.created.indexOf(object);
      if (index !== -1) this.created.splice(index, 1);
    }
    if (errors.length > 0) throw new Error(`could not remove ${errors.length} object(s):\n  ${errors.join("\n  ")}`);
    return removed;
  }

  /**
   * Ends an update as the engine does: deletes the old objects of resources replaced
   * create-before-delete, then the resources the program no longer declares (newest first), and
   * reports those as "deleted". Call after the program's registrations are all done.
   */
  async completeUpdate(): Promise<void> {
    if (!this.previous) return;
    for (const resource of [...this.pendingDeletes].reverse()) {
      // A rebuild that gave the very same image must not be removed with its predecessor.
      const keep = new Set(this.created);
      const objects = resource.objects.filter(
        (object) =>
          !keep.has(object) && !this.created.some((live) => live.kind === object.kind && live.id === object.id),
      );
      await this.removeAll(objects, true);
      if (objects.length > 0) this.log(`deleted the replaced ${objects.map(describeObject).join(", ")}`);
    }
    this.pendingDeletes.length = 0;
    const gone = this.previousOrder.filter((resource) => !this.seen.has(resourceKey(resource.type, resource.name)));
    for (const resource of [...gone].reverse()) {
      await this.removeAll(resource.objects);
      this.changes.push({
        type: resource.type,
        name: resource.name,
        action: "deleted",
        objects: resource.objects.map(describeObject),
      });
      this.log(`deleted ${resource.objects.map(describeObject).join(", ") || `${resource.type} "${resource.name}"`}`);
    }
  }

  private checkLabels(where: string, labels: Record<string, string>, shared = false): void {
    if (shared) {
      const scoped = this.stackScopedLabels.filter((label) => labels[label] !== undefined);
      if (scoped.length > 0) {
        throw new UnsupportedInputError(
          `${where}: an image with \`keepLocally\` outlives the stack and may be shared by other stacks, so it must ` +
            `not carry the stack's label ${scoped.map((label) => `\`${label}\``).join(", ")}: destroyStack removes by it`,
        );
      }
    }
    for (const [label, value] of Object.entries(this.requiredLabels)) {
      if (shared && this.stackScopedLabels.includes(label)) continue;
      if (labels[label] !== value) {
        throw new UnsupportedInputError(
          `${where}: label \`${label}\` must be "${value}" (got ${labels[label] === undefined ? "none" : `"${labels[label]}"`}); ` +
            `destroyStack finds a crashed run's leftovers by these labels`,
        );
      }
    }
  }

  // --- docker:index/network:Network -------------------------------------------------------------

  private async createNetwork(resource: string, f: Fields, raw: Record<string, unknown>): Promise<MockResourceResult> {
    const name = f.requiredString("name");
    const driver = f.string("driver") ?? "bridge";
    if (driver !== "bridge")
      throw new UnsupportedInputError(`${f.where}: \`driver\` "${driver}" is not supported (bridge only)`);
    const ipamConfigs = f.objects("ipamConfigs").map((config) => {
      const subnet = config.requiredString("subnet");
      const gateway = config.string("gateway");
      const ipRange = config.string("ipRange");
      config.done();
      return { subnet, gateway, ipRange };
    });
    const labels = labelList(f.objects("labels"));
    const options = f.stringMap("options");
    const internal = f.boolean("internal") ?? false;
    const attachable = f.boolean("attachable") ?? false;
    f.done();
    this.checkLabels(f.where, labels);

    // dockerd refuses overlapping pools too, but its message does not say which network holds the
    // range; this one names both.
    const ids = await dockerLines(["network", "ls", "-q", "--no-trunc"]);
    const existing = ids.length > 0 ? await dockerJson<NetworkInspect>(["network", "inspect", ...ids]) : [];
    for (const config of ipamConfigs) {
      for (const other of existing) {
        for (const otherConfig of other.IPAM?.Config ?? []) {
          if (otherConfig.Subnet && subnetsOverlap(config.subnet, otherConfig.Subnet)) {
            throw new Error(
              `network "${name}" subnet ${config.subnet} overlaps subnet ${otherConfig.Subnet} of existing network ` +
                `"${other.Name}" (${other.Id.slice(0, 12)}); remove that network or choose another subnet`,
            );
          }
        }
      }
    }

    const argv = ["network", "create", "--driver", driver];
    for (const config of ipamConfigs) {
      argv.push("--subnet", config.subnet);
      if (config.gateway) argv.push("--gateway", config.gateway);
      if (config.ipRange) argv.push("--ip-range", config.ipRange);
    }
    for (const [label, value] of Object.entries(labels)) argv.push("--label", `${label}=${value}`);
    for (const [option, value] of Object.entries(options)) argv.push("--opt", `${option}=${value}`);
    if (internal) argv.push("--internal");
    if (attachable) argv.push("--attachable");
    argv.push(name);
    const id = (await docker(argv)).trim();
    this.created.push({ kind: "network", resource, name, id });
    this.log(`created network ${name} (${ipamConfigs.map((config) => config.subnet).join(", ")})`);
    return {
      id,
      state: {
        ...raw,
        name,
        driver,
        ipamConfigs: ipamConfigs.map((config) => ({
          subnet: config.subnet,
          ...(config.gateway ? { gateway: config.gateway } : {}),
          ...(config.ipRange ? { ipRange: config.ipRange } : {}),
        })),
        internal,
        attachable,
        ipamDriver: "default",
        scope: "local",
      },
    };
  }

  // --- docker:index/remoteImage:RemoteImage -----------------------------------------------------

  private async createImage(resource: string, f: Fields, raw: Record<string, unknown>): Promise<MockResourceResult> {
    const name = f.requiredString("name");
    const build = f.object("build");
    if (!build) {
      throw new UnsupportedInputError(
        `${f.where}: \`build\` is required: without it the provider pulls, and there is no registry here`,
      );
    }
    const context = path.resolve(build.requiredString("context"));
    const dockerfile = build.string("dockerfile") ?? "Dockerfile";
    const buildArgs = build.stringMap("buildArgs");
    const labels = { ...build.stringMap("label"), ...build.stringMap("labels") };
    const tags = build.strings("tags");
    const noCache = build.boolean("noCache") ?? false;
    const buildForceRemove = build.boolean("forceRemove") ?? false;
    build.done();
    f.recorded("triggers"); // a fresh create builds anyway; triggers only matter for updates
    const keepLocally = f.boolean("keepLocally") ?? false;
    const forceRemove = f.boolean("forceRemove") ?? false;
    f.done();
    this.checkLabels(`${f.where} build.labels`, labels, keepLocally);

    const references = [name, ...tags.filter((tag) => tag !== name)];
    // The Dockerfile is named relative to the context, as in the build API; the CLI's -f is
    // relative to its cwd, so resolve it here.
    const argv = ["build", "-f", path.resolve(context, dockerfile)];
    for (const reference of references) argv.push("-t", reference);
    for (const [key, value] of Object.entries(buildArgs)) argv.push("--build-arg", `${key}=${value}`);
    for (const [label, value] of Object.entries(labels)) argv.push("--label", `${label}=${value}`);
    if (noCache) argv.push("--no-cache");
    if (buildForceRemove) argv.push("--force-rm");
    argv.push(context);
    this.log(`building image ${name} from ${context}`);
    // The provider builds with the classic builder (BuilderV1) on every create, also when the image
    // exists already: with the layer cache that is a cache hit giving the same image id. Force the
    // classic builder here too (whatever DOCKER_BUILDKIT says), and report how much came from the cache.
    const result = await dockerResult(argv, { env: { ...process.env, DOCKER_BUILDKIT: "0" } });
    if (result.code !== 0) {
      const output = `${result.stdout}${result.stderr}`.trim().split("\n").slice(-30).join("\n");
      throw new Error(`docker build of ${name} failed (exit ${result.code}):\n${output}`);
    }
    const imageId = (await docker(["image", "inspect", "-f", "{{.Id}}", name])).trim();
    const id = `${imageId}${name}`; // the docker provider's image id: image id followed by name
    this.created.push({ kind: "image", resource, name, id, references, keepLocally, forceRemove });
    const { steps, cached } = buildCacheUse(result.stdout);
    this.log(`built image ${name} (${imageId.slice(0, 19)}): ${cached} of ${steps} steps from the layer cache`);
    return { id, state: { ...raw, name, imageId, repoDigest: "", keepLocally, forceRemove } };
  }

  // --- docker:index/volume:Volume ---------------------------------------------------------------

  private async createVolume(resource: string, f: Fields, raw: Record<string, unknown>): Promise<MockResourceResult> {
    const name = f.requiredString("name");
    const driver = f.string("driver") ?? "local";
    if (driver !== "local")
      throw new UnsupportedInputError(`${f.where}: \`driver\` "${driver}" is not supported (local only)`);
    const labels = labelList(f.objects("labels"));
    f.done();
    this.checkLabels(f.where, labels);
    // `docker volume create` succeeds on an existing name and would hand back old data.
    const existing = await dockerResult(["volume", "inspect", name]);
    if (existing.code === 0) {
      throw new Error(`volume "${name}" already exists; remove it (or run the stack's e2e-down) before deploying`);
    }
    const argv = ["volume", "create", "--driver", driver];
    for (const [label, value] of Object.entries(labels)) argv.push("--label", `${label}=${value}`);
    argv.push(name);
    await docker(argv);
    this.created.push({ kind: "volume", resource, name, id: name });
    const mountpoint = (await docker(["volume", "inspect", "-f", "{{.Mountpoint}}", name])).trim();
    this.log(`created volume ${name}`);
    return { id: name, state: { ...raw, name, driver, mountpoint, driverOpts: {} } };
  }

  // --- docker:index/container:Container ---------------------------------------------------------

  private async createContainer(
    resource: string,
    f: Fields,
    raw: Record<string, unknown>,
  ): Promise<MockResourceResult> {
    const where = f.where;
    const name = f.requiredString("name");
    const image = f.requiredString("image");
    const hostname = f.string("hostname");
    const domainname = f.string("domainname");
    const networks = f.objects("networksAdvanced").map((network) => {
      const result = {
        name: network.requiredString("name"),
        ipv4Address: network.string("ipv4Address"),
        aliases: network.strings("aliases"),
      };
      network.done();
      return result;
    });
    const dns = f.strings("dns");
    const dnsSearches = f.strings("dnsSearches");
    const dnsOpts = f.strings("dnsOpts");
    const labels = labelList(f.objects("labels"));
    const uploads: TarFile[] = f.objects("uploads").map((upload) => {
      const file = upload.requiredString("file");
      const content = upload.string("content");
      const contentBase64 = upload.string("contentBase64");
      const executable = upload.boolean("executable") ?? false;
      const permissions = upload.string("permissions");
      upload.done();
      if ((content === undefined) === (contentBase64 === undefined)) {
        throw new UnsupportedInputError(`${upload.where}: give exactly one of \`content\` and \`contentBase64\``);
      }
      const mode = permissions !== undefined ? parsePermissions(upload.where, permissions) : executable ? 0o744 : 0o644;
      const bytes = content !== undefined ? Buffer.from(content, "utf8") : Buffer.from(contentBase64 ?? "", "base64");
      return { path: file, content: bytes, mode };
    });
    const restart = f.string("restart") ?? "no";
    const healthcheck = f.object("healthcheck");
    const healthArgs: string[] = [];
    if (healthcheck) {
      const tests = healthcheck.strings("tests");
      const interval = healthcheck.string("interval");
      const timeout = healthcheck.string("timeout");
      const retries = healthcheck.number("retries");
      const startPeriod = healthcheck.string("startPeriod");
      healthcheck.done();
      const [kind, ...command] = tests;
      if (kind === "NONE") healthArgs.push("--no-healthcheck");
      else if (kind === "CMD-SHELL" && command.length === 1) healthArgs.push("--health-cmd", command[0] ?? "");
      else if (kind === undefined) {
        // No test: dockerd keeps the image's test and overrides only the timings given.
      } else if (kind === "CMD" && JSON.stringify(tests) === JSON.stringify(await this.imageHealthTest(image))) {
        // `docker create` cannot express an exec-form test, but leaving it out makes dockerd take
        // the image's (daemon/commit.go merge), which is this very test: same container config.
      } else {
        // Turning CMD into a shell line would change what runs, so refuse rather than approximate.
        throw new UnsupportedInputError(
          `${healthcheck.where}: \`tests\` ${JSON.stringify(tests)} is not supported; the docker CLI sets only ` +
            `["CMD-SHELL", "<one shell line>"] or ["NONE"], or an exec-form ["CMD", ...] identical to the image's HEALTHCHECK ` +
            `(image ${image} has ${JSON.stringify(await this.imageHealthTest(image))})`,
        );
      }
      if (interval) healthArgs.push("--health-interval", interval);
      if (timeout) healthArgs.push("--health-timeout", timeout);
      if (retries !== undefined) healthArgs.push("--health-retries", String(retries));
      if (startPeriod) healthArgs.push("--health-start-period", startPeriod);
    }
    const wait = f.boolean("wait") ?? false;
    const waitTimeout = f.number("waitTimeout") ?? 60;
    const volumes = f.objects("volumes").map((volume) => {
      const result = {
        volumeName: volume.requiredString("volumeName"),
        containerPath: volume.requiredString("containerPath"),
        readOnly: volume.boolean("readOnly") ?? false,
      };
      volume.done();
      return result;
    });
    const ports = f.objects("ports").map((port) => {
      const internal = port.number("internal");
      if (internal === undefined) throw new UnsupportedInputError(`${port.where}: \`internal\` is required`);
      const result = {
        internal,
        external: port.number("external"),
        ip: port.string("ip") ?? "0.0.0.0",
        protocol: port.string("protocol") ?? "tcp",
      };
      port.done();
      return result;
    });
    const init = f.boolean("init") ?? false;
    const envs = f.strings("envs");
    const command = f.strings("command");
    const entrypoints = f.strings("entrypoints");
    const mustRun = f.boolean("mustRun") ?? true;
    const start = f.boolean("start") ?? true;
    const stopTimeout = f.number("stopTimeout");
    const destroyGraceSeconds = f.number("destroyGraceSeconds") ?? 0;
    const logDriver = f.string("logDriver");
    const capabilities = f.object("capabilities");
    const capAdds = capabilities?.strings("adds") ?? [];
    const capDrops = capabilities?.strings("drops") ?? [];
    capabilities?.done();
    f.done();
    this.checkLabels(where, labels);
    if (wait && !start)
      throw new UnsupportedInputError(`${where}: \`wait\` needs \`start\` (a stopped container never becomes healthy)`);

    const argv = ["create", "--name", name];
    if (hostname) argv.push("--hostname", hostname);
    if (domainname) argv.push("--domainname", domainname);
    const [firstNetwork, ...otherNetworks] = networks;
    if (firstNetwork) {
      argv.push("--network", firstNetwork.name);
      if (firstNetwork.ipv4Address) argv.push("--ip", firstNetwork.ipv4Address);
      for (const alias of firstNetwork.aliases) argv.push("--network-alias", alias);
    }
    for (const server of dns) argv.push("--dns", server);
    for (const search of dnsSearches) argv.push("--dns-search", search);
    for (const option of dnsOpts) argv.push("--dns-option", option);
    for (const [label, value] of Object.entries(labels)) argv.push("--label", `${label}=${value}`);
    argv.push("--restart", restart);
    argv.push(...healthArgs);
    for (const volume of volumes) {
      argv.push(
        "--mount",
        `type=volume,source=${volume.volumeName},target=${volume.containerPath}${volume.readOnly ? ",readonly" : ""}`,
      );
    }
    for (const port of ports) {
      argv.push("--publish", `${port.ip}:${port.external ?? ""}:${port.internal}/${port.protocol}`);
    }
    if (init) argv.push("--init");
    for (const env of envs) argv.push("--env", env);
    // The CLI's --entrypoint takes one word; the rest of the provider's entrypoint list goes before
    // the command, which gives the same argv (an explicit entrypoint drops the image's CMD either way).
    const [entrypoint, ...entrypointRest] = entrypoints;
    if (entrypoint !== undefined) argv.push("--entrypoint", entrypoint);
    if (stopTimeout !== undefined) argv.push("--stop-timeout", String(stopTimeout));
    if (logDriver) argv.push("--log-driver", logDriver);
    for (const capability of capAdds) argv.push("--cap-add", capability);
    for (const capability of capDrops) argv.push("--cap-drop", capability);
    argv.push(image, ...entrypointRest, ...command);

    const id = (await docker(argv)).trim();
    this.created.push({ kind: "container", resource, name, id, destroyGraceSeconds });
    for (const network of otherNetworks) {
      const connect = ["network", "connect"];
      if (network.ipv4Address) connect.push("--ip", network.ipv4Address);
      for (const alias of network.aliases) connect.push("--alias", alias);
      await docker([...connect, network.name, id]);
    }
    if (uploads.length > 0) {
      // One archive per file, extracted at /, as the provider does.
      for (const upload of uploads) await docker(["cp", "-", `${id}:/`], { input: tarArchive([upload]) });
    }
    if (start) {
      await docker(["start", id]);
      if (mustRun) await this.checkRunning(where, id, name);
      if (wait) await this.waitHealthy(where, id, name, waitTimeout);
    }
    this.log(
      `created container ${name}${firstNetwork?.ipv4Address ? ` (${firstNetwork.ipv4Address})` : ""}${wait ? ", healthy" : ""}`,
    );

    const [inspect] = await dockerJson<ContainerInspect>(["container", "inspect", id]);
    if (!inspect) throw new Error(`container ${name} vanished right after creation`);
    const networkSettings = inspect.NetworkSettings.Networks ?? {};
    const networkNames = [...networks.map((network) => network.name), ...Object.keys(networkSettings)].filter(
      (network, index, all) => all.indexOf(network) === index && networkSettings[network] !== undefined,
    );
    const networkDatas = networkNames.map((networkName) => {
      const settings = networkSettings[networkName]!;
      return {
        networkName,
        ipAddress: settings.IPAddress,
        ipPrefixLength: settings.IPPrefixLen,
        gateway: settings.Gateway,
        macAddress: settings.MacAddress,
        globalIpv6Address: settings.GlobalIPv6Address,
        globalIpv6PrefixLength: settings.GlobalIPv6PrefixLen,
        ipv6Gateway: settings.IPv6Gateway,
      };
    });
    return {
      id,
      state: {
        ...raw,
        name,
        image,
        hostname: inspect.Config.Hostname,
        domainname: inspect.Config.Domainname,
        networkDatas,
        restart,
        init,
        mustRun,
        start,
        wait,
        waitTimeout,
        destroyGraceSeconds,
        exitCode: inspect.State.Running ? 0 : inspect.State.ExitCode,
        bridge: "",
      },
    };
  }

  /** The image's own HEALTHCHECK test (`Config.Healthcheck.Test`), or undefined. */
  private async imageHealthTest(image: string): Promise<string[] | undefined> {
    const text = (await docker(["image", "inspect", "-f", "{{json .Config.Healthcheck}}", image])).trim();
    const healthcheck = JSON.parse(text) as { Test?: string[] } | null;
    return healthcheck?.Test ?? undefined;
  }

  private async containerLogs(id: string): Promise<string> {
    const logs = await dockerResult(["logs", "--tail", "50", id]);
    const text = `${logs.stdout}${logs.stderr}`.trimEnd();
    return text === "" ? "(no output)" : text;
  }

  private async inspectContainer(id: string): Promise<ContainerInspect> {
    const [inspect] = await dockerJson<ContainerInspect>(["container", "inspect", id]);
    if (!inspect) throw new Error(`docker inspect ${id} returned nothing`);
    return inspect;
  }

  /** `mustRun`: the provider fails a create whose container is not running once started. */
  private async checkRunning(where: string, id: string, name: string): Promise<void> {
    const inspect = await this.inspectContainer(id);
    if (inspect.State.Running) return;
    throw new Error(
      `${where}: container ${name} is not running after start (status ${inspect.State.Status}, exit code ` +
        `${inspect.State.ExitCode}${inspect.State.Error ? `, ${inspect.State.Error}` : ""}). docker logs --tail 50:\n` +
        (await this.containerLogs(id)),
    );
  }

  /** `wait: true`: poll the health state until healthy; fail with health log and container logs. */
  private async waitHealthy(where: string, id: string, name: string, timeoutSeconds: number): Promise<void> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const inspect = await this.inspectContainer(id);
      const health = inspect.State.Health;
      if (!health) {
        throw new Error(
          `${where}: \`wait\` is true but container ${name} has no health check (neither \`healthcheck\` nor the image's HEALTHCHECK)`,
        );
      }
      if (health.Status === "healthy") return;
      const exited = !inspect.State.Running;
      if (exited || Date.now() >= deadline) {
        const healthLog = (health.Log ?? [])
          .slice(-5)
          .map((entry) => `  [exit ${entry.ExitCode}] ${entry.Output.trim()}`)
          .join("\n");
        const reason = exited
          ? `exited (status ${inspect.State.Status}, exit code ${inspect.State.ExitCode}) before becoming healthy`
          : `not healthy after ${timeoutSeconds}s (health: ${health.Status})`;
        throw new Error(
          `${where}: container ${name} ${reason}.\nLast health checks:\n${healthLog || "  (none ran)"}\n` +
            `docker logs --tail 50:\n${await this.containerLogs(id)}`,
        );
      }
      await sleep(this.healthPollMs);
    }
  }

  // --- command:local:Command --------------------------------------------------------------------

  /**
   * Runs a command's `create`, or with `previous` (an in-place update: inputs other than `triggers`
   * changed) its `update`, else `create` again, with the previous outputs in
   * `PULUMI_COMMAND_STDOUT`/`_STDERR` as pulumi-command does.
   */
  private async runCommand(
    resource: string,
    f: Fields,
    raw: Record<string, unknown>,
    previous?: RecordedResource,
  ): Promise<MockResourceResult> {
    const create = f.string("create");
    const deleteCommand = f.string("delete");
    const update = f.string("update");
    f.recorded("triggers"); // compared by the update's diff: a change replaces the command
    const environment = f.stringMap("environment");
    const dir = path.resolve(f.string("dir") ?? ".");
    const interpreter = f.strings("interpreter");
    const stdin = f.string("stdin");
    const logging = (f.string("logging") ?? "stdoutAndStderr") as CommandLogging;
    if (!["stdout", "stderr", "stdoutAndStderr", "none"].includes(logging)) {
      throw new UnsupportedInputError(
        `${f.where}: \`logging\` "${logging}" is not one of stdout, stderr, stdoutAndStderr, none`,
      );
    }
    const addPreviousOutputInEnv = f.boolean("addPreviousOutputInEnv") ?? true;
    f.done();

    const base = {
      interpreter: interpreter.length > 0 ? interpreter : ["/bin/sh", "-c"],
      environment,
      dir,
      stdin,
      logging,
    };
    let stdout = "";
    let stderr = "";
    const previousOutputs: Record<string, string> = {};
    if (previous && addPreviousOutputInEnv) {
      const { stdout: lastOut, stderr: lastErr } = previous.state;
      if (typeof lastOut === "string" && lastOut !== "") previousOutputs["PULUMI_COMMAND_STDOUT"] = lastOut;
      if (typeof lastErr === "string" && lastErr !== "") previousOutputs["PULUMI_COMMAND_STDERR"] = lastErr;
    }
    const run = previous ? (update ?? create) : create;
    if (run !== undefined) {
      ({ stdout, stderr } = await this.execute(resource, { ...base, command: run }, previousOutputs));
    }
    const id = previous?.id ?? `${resource}-${randomBytes(4).toString("hex")}`;
    this.created.push({
      kind: "command",
      resource,
      name: resource,
      id,
      deleteRun: deleteCommand !== undefined ? { ...base, command: deleteCommand } : undefined,
      stdout,
      stderr,
      addPreviousOutputInEnv,
    });
    return { id, state: { ...raw, stdout, stderr } };
  }

  /**
   * Runs one command as pulumi-command's local provider does (provider/pkg/provider/local/
   * commandOutputs.go): interpreter + command, process env with `environment` over it, stdout and
   * stderr each with one trailing newline trimmed, and on failure the combined output.
   */
  private async execute(
    resource: string,
    commandRun: CommandRun,
    extraEnv: Record<string, string>,
  ): Promise<{ stdout: string; stderr: string }> {
    const [file, ...interpreterArgs] = commandRun.interpreter;
    if (file === undefined) throw new Error(`${resource}: empty interpreter`);
    const combined: string[] = [];
    const logStdout = commandRun.logging === "stdout" || commandRun.logging === "stdoutAndStderr";
    const logStderr = commandRun.logging === "stderr" || commandRun.logging === "stdoutAndStderr";
    const result = await run(file, [...interpreterArgs, commandRun.command], {
      cwd: commandRun.dir,
      env: { ...process.env, ...commandRun.environment, ...extraEnv },
      input: commandRun.stdin,
      onStdout: (chunk) => {
        combined.push(chunk);
        if (logStdout) this.log(`[${resource}] ${chunk.trimEnd()}`);
      },
      onStderr: (chunk) => {
        combined.push(chunk);
        if (logStderr) this.log(`[${resource}] ${chunk.trimEnd()}`);
      },
    });
    if (result.code !== 0) {
      throw new Error(
        `exit status ${result.code}: running ${JSON.stringify(commandRun.command)}:\n${combined.join("")}`,
      );
    }
    return { stdout: result.stdout.replace(/\n$/, ""), stderr: result.stderr.replace(/\n$/, "") };
  }

  // --- teardown ---------------------------------------------------------------------------------

  /**
   * Removes everything created, newest first: containers (`rm -f -v`, after `stop -t` when
   * `destroyGraceSeconds` is set), volumes, networks, images unless `keepLocally`, and runs each
   * command's `delete`. Tries every object; throws once at the end listing every failure.
   * Returns a line per object removed.
   */
  async teardown(): Promise<string[]> {
    const removed: string[] = [];
    const errors: string[] = [];
    // Objects of resources an update replaced but had not deleted yet: their containers go first
    // (they hold networks, volumes and images), their other objects last.
    const replaced = this.pendingDeletes.splice(0).flatMap((resource) => [...resource.objects].reverse());
    const ordered = [
      ...replaced.filter((object) => object.kind === "container").map((object) => ({ object, replaced: true })),
      ...this.created
        .splice(0)
        .reverse()
        .map((object) => ({ object, replaced: false })),
      ...replaced.filter((object) => object.kind !== "container").map((object) => ({ object, replaced: true })),
    ];
    for (const { object, replaced: old } of ordered) {
      try {
        const done = await this.remove(object, old);
        if (done) removed.push(done);
      } catch (error) {
        errors.push(`${object.kind} ${object.name}: ${errorMessage(error)}`);
      }
    }
    for (const line of removed) this.log(`removed ${line}`);
    // The state describes objects that are gone now: an update from it would fail.
    if (this.stateFile) fs.rmSync(this.stateFile, { force: true });
    if (errors.length > 0) throw new Error(`teardown failed for ${errors.length} object(s):\n  ${errors.join("\n  ")}`);
    return removed;
  }

  /**
   * Removes one object. `replaced`: the object of a resource replaced create-before-delete, whose
   * image tags its successor's build has taken over, so an image goes by its own id, not its tags.
   */
  private async remove(object: CreatedObject, replaced = false): Promise<string | undefined> {
    const quietly = async (argv: string[]) => {
      try {
        await docker(argv);
      } catch (error) {
        if (!isMissing(error)) throw error;
      }
    };
    switch (object.kind) {
      case "container":
        if (object.destroyGraceSeconds > 0)
          await quietly(["stop", "-t", String(object.destroyGraceSeconds), object.id]);
        await quietly(["rm", "-f", "-v", object.id]);
        return `container ${object.name}`;
      case "volume":
        await quietly(["volume", "rm", object.name]);
        return `volume ${object.name}`;
      case "network":
        await quietly(["network", "rm", object.id]);
        return `network ${object.name}`;
      case "image":
        if (object.keepLocally) return undefined;
        await quietly([
          "image",
          "rm",
          ...(object.forceRemove ? ["-f"] : []),
          // The provider's id is the image id followed by the name.
          ...(replaced ? [object.id.slice(0, object.id.length - object.name.length)] : object.references),
        ]);
        return `image ${object.name}`;
      case "command": {
        if (!object.deleteRun) return undefined;
        const env: Record<string, string> = {};
        if (object.addPreviousOutputInEnv) {
          if (object.stdout !== "") env["PULUMI_COMMAND_STDOUT"] = object.stdout;
          if (object.stderr !== "") env["PULUMI_COMMAND_STDERR"] = object.stderr;
        }
        await this.execute(object.resource, object.deleteRun, env);
        return `command ${object.name} (ran its delete)`;
      }
      default: {
        const unreachable: never = object;
        throw new Error(`unknown object ${JSON.stringify(unreachable)}`);
      }
    }
  }
}
