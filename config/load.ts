/**
 * Reads the `mail-lab:` keys of a stack, either from a stack file (for the CLI commands and the
 * harness, which run without the Pulumi CLI) or from the Pulumi engine's config (for `pulumi up`).
 * Both paths hand the same raw object to `resolvePlan`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { PROJECT } from "./errors";

export interface StackFile {
  /** Stack name, from the file name `Pulumi.<stack>.yaml`. */
  readonly stack: string;
  /** The `mail-lab:` keys without their namespace, values as written. */
  readonly config: Record<string, unknown>;
  /** Config keys (`mail-lab:domains[0].users[0].password`) whose value is a Pulumi `secure:` value. */
  readonly encryptedKeys: readonly string[];
  /**
   * Keys of other namespaces (`docker:host`), with their namespace, values as written: they
   * belong to their providers, and the engine hands them to the program beside ours.
   */
  readonly providerConfig: Record<string, unknown>;
}

/** Stack name from a path such as `stacks/Pulumi.dev.yaml`. */
export function stackNameOf(filePath: string): string {
  const match = /^Pulumi\.(.+)\.ya?ml$/.exec(path.basename(filePath));
  if (!match) {
    throw new Error(`${filePath}: a stack file is named Pulumi.<stack>.yaml (for example stacks/Pulumi.dev.yaml)`);
  }
  return match[1]!;
}

/** Parses a stack file's text. Keys of other namespaces (`docker:host`) are left to their providers. */
export function parseStackFile(text: string, stack: string): StackFile {
  const document = (parseYaml(text) ?? {}) as { config?: Record<string, unknown> };
  const config: Record<string, unknown> = {};
  const providerConfig: Record<string, unknown> = {};
  const encryptedKeys: string[] = [];
  for (const [fullKey, value] of Object.entries(document.config ?? {})) {
    const [namespace, key] = fullKey.includes(":") ? fullKey.split(/:(.*)/s, 2) : [PROJECT, fullKey];
    if (key === undefined) continue;
    findEncrypted(value, namespace === PROJECT ? `${PROJECT}:${key}` : fullKey, encryptedKeys);
    if (namespace === PROJECT) config[key] = value;
    else providerConfig[fullKey] = value;
  }
  return { stack, config, encryptedKeys, providerConfig };
}

/** The stack's `docker:host` (the Docker engine its provider deploys to), if it sets one. */
export function dockerHostOf(providerConfig: Record<string, unknown>): string | undefined {
  const host = providerConfig["docker:host"];
  if (host === undefined) return undefined;
  if (typeof host !== "string" || host === "") {
    throw new Error(
      `docker:host must be a Docker engine address such as unix:///run/docker.sock, got ${JSON.stringify(host)}`,
    );
  }
  return host;
}

export function readStackFile(filePath: string): StackFile {
  return parseStackFile(fs.readFileSync(filePath, "utf8"), stackNameOf(filePath));
}

function findEncrypted(value: unknown, key: string, found: string[]): void {
  if (Array.isArray(value)) value.forEach((item, index) => findEncrypted(item, `${key}[${index}]`, found));
  else if (isSecureValue(value)) found.push(key);
  else if (value !== null && typeof value === "object") {
    for (const [child, item] of Object.entries(value)) findEncrypted(item, `${key}.${child}`, found);
  }
}

/** A value Pulumi encrypted in the stack file: `{ secure: "v1:..." }`. */
export function isSecureValue(value: unknown): value is { secure: string } {
  return (
    value !== null &&
    typeof value === "object" &&
    Object.keys(value).length === 1 &&
    typeof (value as { secure?: unknown }).secure === "string"
  );
}

/**
 * Replaces encrypted values with a stand-in so that the rest of the config can be validated
 * without the passphrase. Only `npm run validate` uses this: nothing may be rendered from it.
 */
export function withEncryptedStandIns(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withEncryptedStandIns);
  if (isSecureValue(value)) return "(encrypted)";
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withEncryptedStandIns(item)]));
  }
  return value;
}

/**
 * The engine hands config to the program as strings: structured values JSON-encoded, scalars
 * as written. `allConfig` is `pulumi.runtime.allConfig()`; this reverses that encoding.
 */
export function configFromEngine(allConfig: Record<string, string>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(allConfig)) {
    const [namespace, key] = fullKey.split(/:(.*)/s, 2);
    if (namespace !== PROJECT || key === undefined) continue;
    try {
      config[key] = JSON.parse(text);
    } catch {
      config[key] = text;
    }
  }
  return config;
}

const engineValue = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));

/**
 * The inverse of `configFromEngine`: what `PULUMI_CONFIG` holds for a stack file's config, with
 * the providers' keys (`docker:host`) beside ours as the engine passes them.
 */
export function engineConfigOf(
  config: Record<string, unknown>,
  providerConfig: Record<string, unknown> = {},
): Record<string, string> {
  return {
    ...Object.fromEntries(Object.entries(providerConfig).map(([key, value]) => [key, engineValue(value)])),
    ...Object.fromEntries(Object.entries(config).map(([key, value]) => [`${PROJECT}:${key}`, engineValue(value)])),
  };
}
