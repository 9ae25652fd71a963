/**
 * The config reference, generated from the schema's own metadata (`.meta(doc(...))` in
 * config/schema.ts): one row per documented key, with its default. `npm run docs:config` writes it
 * into README.md's "Stack config" table and Pulumi.yaml's comment block; config/reference.test.ts
 * fails when either differs from the schema, as the golden files do for rendered config.
 */
import type { z } from "zod";
import { type KeyDoc, labConfigSchema } from "./schema";

export interface ReferenceRow {
  /** Dotted key under `mail-lab:`, lists as `[]`: `domains[].mailHost.address`. */
  readonly key: string;
  readonly description: string;
  /** The default in words: the schema's default value, the key's own text, `required` or `none`. */
  readonly defaultText: string;
}

interface Def {
  readonly type: string;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly element?: z.ZodType;
  readonly shape?: Record<string, z.ZodType>;
  readonly defaultValue?: unknown;
}
const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;
const docOf = (schema: z.ZodType) => (schema as unknown as { meta(): KeyDoc | undefined }).meta();

/** What a key's schema says once its wrappers (default, optional, pipe ...) are looked through. */
function inspect(schema: z.ZodType): { base: z.ZodType; doc?: KeyDoc; defaultValue?: unknown; optional: boolean } {
  let current = schema;
  let doc: KeyDoc | undefined;
  let defaultValue: unknown;
  let optional = false;
  for (;;) {
    doc ??= docOf(current);
    const def = defOf(current);
    if (def.type === "default") defaultValue ??= def.defaultValue;
    if (def.type === "optional" || def.type === "default" || def.type === "prefault") optional = true;
    const next = def.innerType ?? (def.type === "pipe" ? def.in : undefined);
    if (!next) return { base: current, doc, defaultValue, optional };
    current = next;
  }
}

function describeDefault(value: unknown, optional: boolean): string {
  if (value === undefined) return optional ? "none" : "required";
  if (Array.isArray(value) && value.length === 0) return "none";
  return `\`${String(value)}\``;
}

/** Every documented key of `schema`, depth first in declaration order. */
export function configReference(schema: z.ZodType = labConfigSchema, prefix = ""): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  const shape = defOf(inspect(schema).base).shape ?? {};
  for (const [name, field] of Object.entries(shape)) {
    const key = `${prefix}${name}`;
    const { base, doc, defaultValue, optional } = inspect(field);
    if (doc) {
      rows.push({
        key,
        description: doc.description,
        defaultText: doc.defaultText ?? describeDefault(defaultValue, optional),
      });
    }
    const def = defOf(base);
    if (def.type === "object") rows.push(...configReference(base, `${key}.`));
    if (def.type === "array" && def.element) {
      const element = inspect(def.element).base;
      if (defOf(element).type === "object") rows.push(...configReference(element, `${key}[].`));
    }
  }
  return rows;
}

/** The README's table (Prettier aligns its columns; the test compares cells). */
export function referenceTable(rows: readonly ReferenceRow[] = configReference()): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|");
  return [
    "| key | what | default |",
    "| --- | --- | --- |",
    ...rows.map((row) => `| \`${row.key}\` | ${cell(row.description)} | ${cell(row.defaultText)} |`),
  ].join("\n");
}

/** Pulumi.yaml's comment block: each key and its default, then its description wrapped at 100 columns. */
export function referenceComment(rows: readonly ReferenceRow[] = configReference()): string {
  const plain = (text: string) => text.replace(/`/g, "");
  const lines: string[] = [];
  for (const row of rows) {
    const defaultText = row.defaultText === "required" ? "required" : `default: ${plain(row.defaultText)}`;
    lines.push(`#   mail-lab:${row.key} (${defaultText})`);
    lines.push(...wrap(plain(row.description), "#      "));
  }
  return lines.join("\n");
}

/** `text` in lines of at most 100 columns, each starting with `indent`. */
function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = indent;
  for (const word of text.split(" ")) {
    if (line.length + word.length > 100 && line !== indent) {
      lines.push(line.trimEnd());
      line = indent;
    }
    line += `${word} `;
  }
  lines.push(line.trimEnd());
  return lines;
}

/**
 * Pulumi.yaml's `config:` section: the top-level keys of a plain type (Pulumi's project schema
 * types only strings, integers, booleans and arrays of those), each with the schema's default,
 * which the engine needs (it refuses a stack that lacks a declared key without one).
 */
export function pulumiConfigSection(schema: z.ZodType = labConfigSchema): string {
  const lines = ["config:"];
  for (const [name, field] of Object.entries(defOf(inspect(schema).base).shape ?? {})) {
    const { base, doc, defaultValue } = inspect(field);
    const type = { string: "string", boolean: "boolean" }[defOf(base).type];
    if (!type || !doc || defaultValue === undefined) continue;
    lines.push(
      `  mail-lab:${name}:`,
      `    type: ${type}`,
      `    default: ${String(defaultValue)}`,
      "    description: >-",
    );
    lines.push(...wrap(doc.description.replace(/`/g, ""), "      "));
  }
  return lines.join("\n");
}

export const README_MARKERS = {
  start: "<!-- config reference: generated from config/schema.ts by npm run docs:config -->",
  end: "<!-- end of the config reference -->",
} as const;
export const PULUMI_YAML_MARKERS = {
  start: "# --- config reference: generated from config/schema.ts by npm run docs:config ---",
  end: "# --- end of the config reference ---",
} as const;

/** `text` with what lies between the markers replaced by `block`; throws if a marker is missing. */
export function replaceBetween(text: string, markers: { start: string; end: string }, block: string): string {
  const start = text.indexOf(markers.start);
  const end = text.indexOf(markers.end);
  if (start < 0 || end < start) throw new Error(`the markers "${markers.start}" ... "${markers.end}" are missing`);
  return `${text.slice(0, start + markers.start.length)}\n${block}\n${text.slice(end)}`;
}

/** What lies between the markers, or undefined. */
export function textBetween(text: string, markers: { start: string; end: string }): string | undefined {
  const start = text.indexOf(markers.start);
  const end = text.indexOf(markers.end);
  return start < 0 || end < start ? undefined : text.slice(start + markers.start.length, end).trim();
}
