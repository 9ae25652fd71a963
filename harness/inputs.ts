/**
 * Reading resource inputs as the mock monitor hands them over: plain JSON with Pulumi's special
 * values (secrets, resource references, assets) still wrapped in `{ [sigKey]: sig, ... }` objects.
 */

/** `specialSigKey` of @pulumi/pulumi's runtime/rpc. */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
/** `specialSecretSig`: `{ [SIG_KEY]: SECRET_SIG, value }`. */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

const KNOWN_SIGS: Record<string, string> = {
  c44067f5952c0a294b673a41bacd8c17: "an asset",
  "0def7320c3a5731c473e5ecbe6d01bc7": "an archive",
  "5cf8f73096256a8f31e491e813e4eb8e": "a resource reference",
  d0e6a833031e9bbcd3f4e8bde6ca49a4: "an output value",
};

/**
 * Replaces every secret-wrapped value with its plain value, recursively. Any other special value
 * (asset, archive, resource reference) is rejected: the harness has no way to apply it.
 */
export function unwrapSecrets(value: unknown, path = "inputs"): unknown {
  if (Array.isArray(value)) return value.map((item, index) => unwrapSecrets(item, `${path}[${index}]`));
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  if (SIG_KEY in record) {
    const sig = record[SIG_KEY];
    if (sig === SECRET_SIG) return unwrapSecrets(record["value"], path);
    const what = typeof sig === "string" ? (KNOWN_SIGS[sig] ?? `special value ${sig}`) : "a special value";
    throw new Error(`${path} is ${what}; the harness only understands plain values and secrets`);
  }
  return Object.fromEntries(Object.entries(record).map(([key, item]) => [key, unwrapSecrets(item, `${path}.${key}`)]));
}

/** True if `value` holds a secret anywhere inside. */
export function containsSecret(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(containsSecret);
  if (value === null || typeof value !== "object") return false;
  const record = value as Record<string, unknown>;
  if (record[SIG_KEY] === SECRET_SIG) return true;
  return Object.values(record).some(containsSecret);
}

/** An input the harness does not apply, or applies only in part. */
export class UnsupportedInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnsupportedInputError";
  }
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * One object of (unwrapped) inputs, read field by field. Every field read is marked used;
 * `done()` throws naming the first field present but never read, so an input the harness does
 * not apply can never be dropped silently.
 */
export class Fields {
  private readonly used = new Set<string>();

  constructor(
    /** Where these fields are, for messages: `docker:index/container:Container "ns" healthcheck`. */
    readonly where: string,
    readonly value: Record<string, unknown>,
  ) {}

  static of(where: string, value: unknown): Fields {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new UnsupportedInputError(`${where}: expected an object, got ${describe(value)}`);
    }
    return new Fields(where, value as Record<string, unknown>);
  }

  private take(key: string): unknown {
    this.used.add(key);
    const value = this.value[key];
    return value === null ? undefined : value;
  }

  private fail(key: string, expected: string, value: unknown): never {
    throw new UnsupportedInputError(`${this.where}: \`${key}\` must be ${expected}, got ${describe(value)}`);
  }

  has(key: string): boolean {
    return this.value[key] !== undefined && this.value[key] !== null;
  }

  string(key: string): string | undefined {
    const value = this.take(key);
    if (value === undefined) return undefined;
    if (typeof value !== "string") this.fail(key, "a string", value);
    return value;
  }

  requiredString(key: string): string {
    const value = this.string(key);
    if (value === undefined || value === "") {
      throw new UnsupportedInputError(`${this.where}: \`${key}\` is required by the harness (give it explicitly)`);
    }
    return value;
  }

  boolean(key: string): boolean | undefined {
    const value = this.take(key);
    if (value === undefined) return undefined;
    if (typeof value !== "boolean") this.fail(key, "a boolean", value);
    return value;
  }

  number(key: string): number | undefined {
    const value = this.take(key);
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value)) this.fail(key, "a number", value);
    return value;
  }

  strings(key: string): string[] {
    const value = this.take(key);
    if (value === undefined) return [];
    if (!Array.isArray(value) || !value.every((item): item is string => typeof item === "string")) {
      this.fail(key, "a list of strings", value);
    }
    return value;
  }

  /** A `{ [key]: string }` map. */
  stringMap(key: string): Record<string, string> {
    const value = this.take(key);
    if (value === undefined) return {};
    if (typeof value !== "object" || Array.isArray(value)) this.fail(key, "a map of strings", value);
    const entries = Object.entries(value as Record<string, unknown>);
    for (const [mapKey, item] of entries) {
      if (typeof item !== "string") this.fail(`${key}.${mapKey}`, "a string", item);
    }
    return Object.fromEntries(entries) as Record<string, string>;
  }

  /** A nested object, itself read field by field. */
  object(key: string): Fields | undefined {
    const value = this.take(key);
    if (value === undefined) return undefined;
    return Fields.of(`${this.where} ${key}`, value);
  }

  /** A list of nested objects. */
  objects(key: string): Fields[] {
    const value = this.take(key);
    if (value === undefined) return [];
    if (!Array.isArray(value)) this.fail(key, "a list", value);
    return value.map((item, index) => Fields.of(`${this.where} ${key}[${index}]`, item));
  }

  /** A field that is recorded (returned in state) but has no effect on a fresh create. */
  recorded(key: string): unknown {
    return this.take(key);
  }

  /** Throws naming the first present field that was never read. */
  done(): void {
    for (const [key, value] of Object.entries(this.value)) {
      if (value === undefined || value === null || this.used.has(key)) continue;
      throw new UnsupportedInputError(
        `${this.where}: input \`${key}\` (${describe(value)}) is not applied by the harness; ` +
          `support it in harness/docker-mocks.ts or leave it out`,
      );
    }
  }
}
