/**
 * Turns zod issues and cross-field problems into messages a student can act on:
 * each names the config key (`mail-lab:domains[0].mailHost.address`), quotes the bad value and
 * says how to fix it.
 */
import type { z } from "zod";

export const PROJECT = "mail-lab";

/** One problem in the stack config. */
export interface ConfigProblem {
  /** Path inside the project's config, e.g. ["domains", 0, "mailHost", "address"]. */
  readonly path: readonly PropertyKey[];
  /** Full message, starting with the config key. */
  readonly message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `The mail-lab stack config has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
        problems.map((problem) => `  - ${problem.message}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

/** `mail-lab:domains[0].users[1].login` */
export function configKey(path: readonly PropertyKey[]): string {
  let key = PROJECT;
  path.forEach((segment, index) => {
    if (typeof segment === "number") key += `[${segment}]`;
    else key += `${index === 0 ? ":" : "."}${String(segment)}`;
  });
  return key;
}

/** Quotes a config value for a message, shortened so a pasted blob does not flood the output. */
export function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A problem about a present value: `key: "value" <message>`. */
export function problemAt(path: readonly PropertyKey[], value: unknown, message: string): ConfigProblem {
  return { path, message: `${configKey(path)}: ${quote(value)} ${message}` };
}

/** Levenshtein distance, for "did you mean" suggestions on misspelt keys. */
export function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0]!;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j]!;
      const cost = a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1;
      previous[j] = Math.min(previous[j]! + 1, previous[j - 1]! + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return previous[b.length]!;
}

export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  // Only suggest when the key is plausibly a typo of the candidate, not an unrelated word.
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/** The keys an object schema accepts at `path` (through defaults, optionals, pipes and arrays). */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: unknown = schema;
  const unwrap = () => {
    for (;;) {
      const def = (current as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
      if (!def) return;
      if ("innerType" in def) current = def.innerType;
      else if (def.type === "pipe") current = def.in;
      else return;
    }
  };
  for (const segment of path) {
    unwrap();
    const def = (current as { _zod: { def: Record<string, unknown> } })._zod.def;
    if (typeof segment === "number" && def.type === "array") current = def.element;
    else if (def.type === "object") current = (def.shape as Record<string, unknown>)[String(segment)];
    else return [];
    if (current === undefined) return [];
  }
  unwrap();
  const def = (current as { _zod: { def: Record<string, unknown> } })._zod.def;
  return def.type === "object" ? Object.keys(def.shape as object) : [];
}

const ARTICLE_TYPES: Record<string, string> = {
  object: "a mapping of keys",
  array: "a list",
  string: "text",
  number: "a number",
  boolean: "true or false",
};

/** Converts zod issues (parsed with `reportInput: true`) into config problems. */
export function problemsFromZod(schema: z.ZodType, issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    const path = issue.path;
    if (issue.code === "unrecognized_keys") {
      const valid = keysAt(schema, path);
      for (const key of issue.keys) {
        const suggestion = nearest(key, valid);
        const hint = suggestion ? `did you mean \`${suggestion}\`?` : "remove it";
        problems.push({
          path: [...path, key],
          message: `${configKey([...path, key])}: unknown key ${quote(key)}; ${hint} Valid keys here: ${valid.join(", ")}.`,
        });
      }
      continue;
    }
    let message = issue.message;
    if (issue.code === "invalid_type" && message.startsWith("Invalid input")) {
      message = `must be ${ARTICLE_TYPES[issue.expected] ?? issue.expected}`;
    }
    if (issue.input === undefined) {
      problems.push({ path, message: `${configKey(path)} is missing: it ${message}` });
    } else {
      problems.push(problemAt(path, issue.input, message));
    }
  }
  return problems;
}
