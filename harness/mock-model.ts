/**
 * The harness's model of what it applies: the resource types it supports, the objects it
 * creates, the changes it reports, and the small helpers its resource creators share.
 */
import type * as pulumi from "@pulumi/pulumi";
import { parseDockerSubnet, subnetsOverlap as ipv4SubnetsOverlap } from "../config/ipv4";
import { DockerError } from "../docker/cli";
import { Fields, UnsupportedInputError } from "./inputs";

export type MockResourceArgs = pulumi.runtime.MockResourceArgs;
export type MockResourceResult = pulumi.runtime.MockResourceResult;
export type MockCallArgs = pulumi.runtime.MockCallArgs;
export type MockCallResult = pulumi.runtime.MockCallResult;

export const NETWORK = "docker:index/network:Network";
export const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
export const VOLUME = "docker:index/volume:Volume";
export const CONTAINER = "docker:index/container:Container";
export const COMMAND = "command:local:Command";
export const STACK = "pulumi:pulumi:Stack";

/** The resource types the harness applies; every other custom resource type is refused. */
export const SUPPORTED_TYPES = [NETWORK, REMOTE_IMAGE, VOLUME, CONTAINER, COMMAND] as const;
export type SupportedType = (typeof SUPPORTED_TYPES)[number];

export function isSupportedType(type: string): type is SupportedType {
  return (SUPPORTED_TYPES as readonly string[]).includes(type);
}

/** One command run by a `local.Command` (its `create`, later its `delete`). */
export interface CommandRun {
  readonly command: string;
  readonly interpreter: readonly string[];
  readonly environment: Record<string, string>;
  readonly dir: string;
  readonly stdin: string | undefined;
  readonly logging: CommandLogging;
}

export type CommandLogging = "stdout" | "stderr" | "stdoutAndStderr" | "none";

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
export const KIND_OF_TYPE: Record<SupportedType, CreatedObject["kind"]> = {
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

export function resourceKey(type: string, name: string): string {
  return `${type}::${name}`;
}

export function describeObject(object: CreatedObject): string {
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
export function changedKeys(before: unknown, after: unknown): string[] {
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

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function isMissing(error: unknown): boolean {
  return (
    error instanceof DockerError && /no such (container|network|volume|image)|not found/i.test(error.result.stderr)
  );
}

/** `[{ label, value }]` (the docker provider's label list) as a map. */
export function labelList(items: Fields[]): Record<string, string> {
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

export interface NetworkInspect {
  Name: string;
  Id: string;
  IPAM?: { Config?: { Subnet?: string }[] | null };
}

export interface ContainerInspect {
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
export function parsePermissions(where: string, text: string): number {
  if (!/^0?[0-7]{3,4}$/.test(text)) {
    throw new UnsupportedInputError(`${where}: \`permissions\` must be an octal mode such as "0644", got "${text}"`);
  }
  return parseInt(text, 8);
}

/** What the resource creators need of the DockerMocks applying them. */
export interface MockContext {
  /** Progress lines. */
  readonly log: (line: string) => void;
  /** Everything created so far, in creation order; a creator pushes each object the moment it exists. */
  readonly created: CreatedObject[];
  /** How often a container's health is polled, in ms. */
  readonly healthPollMs: number;
  /** Refuses labels that lack the stack's required ones (or carry them on a shared object). */
  checkLabels(where: string, labels: Record<string, string>, shared?: boolean): void;
}
