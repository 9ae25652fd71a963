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
 *
 * The creators of each resource type live beside this file: mock-network.ts (networks, images,
 * volumes), mock-container.ts, mock-command.ts, mock-remove.ts (deletes); mock-model.ts holds the
 * types and helpers they share.
 */
import * as fs from "node:fs";
import type * as pulumi from "@pulumi/pulumi";
import { dockerResult } from "../docker/cli";
import { Fields, unwrapSecrets, UnsupportedInputError } from "./inputs";
import {
  ChangeAction,
  changedKeys,
  COMMAND,
  CONTAINER,
  CreatedObject,
  describeObject,
  DockerMocksOptions,
  errorMessage,
  isSupportedType,
  KIND_OF_TYPE,
  MockCallArgs,
  MockCallResult,
  MockContext,
  MockResourceArgs,
  MockResourceResult,
  NETWORK,
  RecordedResource,
  RegistrationOptions,
  REMOTE_IMAGE,
  ResourceChange,
  ResourceError,
  resourceKey,
  STACK,
  SUPPORTED_TYPES,
  SupportedType,
  VOLUME,
} from "./mock-model";
import { runCommand } from "./mock-command";
import { removeObject } from "./mock-remove";
import { createContainer } from "./mock-container";
import { createImage, createNetwork, createVolume } from "./mock-network";

export * from "./mock-model";

export class DockerMocks implements pulumi.runtime.Mocks, MockContext {
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

  readonly log: (line: string) => void;
  private readonly requiredLabels: Record<string, string>;
  private readonly stackScopedLabels: readonly string[];
  readonly healthPollMs: number;
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
        return createNetwork(this, args.name, inputs, raw);
      case REMOTE_IMAGE:
        return createImage(this, args.name, inputs, raw);
      case VOLUME:
        return createVolume(this, args.name, inputs, raw);
      case CONTAINER:
        return createContainer(this, args.name, inputs, raw);
      case COMMAND:
        return runCommand(this, args.name, inputs, raw, previous);
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
        const done = await removeObject(this, object, replaced);
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

  checkLabels(where: string, labels: Record<string, string>, shared = false): void {
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
        const done = await removeObject(this, object, old);
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
}
