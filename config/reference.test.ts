/**
 * The config reference is generated from the schema (config/reference.ts): README.md's table and
 * Pulumi.yaml's comment block and `config:` section must be what `npm run docs:config` writes, as
 * the golden files must be what the renderers write.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import {
  configReference,
  PULUMI_YAML_MARKERS,
  pulumiConfigSection,
  README_MARKERS,
  referenceComment,
  textBetween,
} from "./reference";
import { CONFIG_KEYS } from "./schema";

const root = path.join(__dirname, "..");
const FIX = "run npm run docs:config after changing a key's .meta(doc(...)) in config/schema.ts";

/** The table's rows as cells, whatever Prettier's alignment. */
function tableCells(markdown: string): string[][] {
  return markdown
    .split("\n")
    .filter((line) => line.startsWith("|") && !/^\|[\s-|]+\|$/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim().replace(/\\\|/g, "|")),
    );
}

describe("the config reference", () => {
  const rows = configReference();

  it("documents every key of the schema", () => {
    for (const key of CONFIG_KEYS) {
      assert.ok(
        rows.some((row) => row.key === key || row.key.startsWith(`${key}.`) || row.key.startsWith(`${key}[]`)),
        `mail-lab:${key} has no documented key: give it .meta(doc(...)) in config/schema.ts`,
      );
    }
    assert.deepEqual(
      rows.find((row) => row.key === "domains[].mailHost.address"),
      { key: "domains[].mailHost.address", description: "its mail host's address", defaultText: "required" },
    );
    assert.equal(rows.find((row) => row.key === "mailQueue.lifetime")?.defaultText, "`1h`");
  });

  it("is README.md's Stack config table", () => {
    const readme = textBetween(fs.readFileSync(path.join(root, "README.md"), "utf8"), README_MARKERS);
    assert.ok(readme, `README.md has no config reference markers; ${FIX}`);
    assert.deepEqual(
      tableCells(readme),
      [["key", "what", "default"], ...rows.map((row) => [`\`${row.key}\``, row.description, row.defaultText])],
      FIX,
    );
  });

  it("is Pulumi.yaml's comment block and config section", () => {
    const yaml = textBetween(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"), PULUMI_YAML_MARKERS);
    assert.ok(yaml, `Pulumi.yaml has no config reference markers; ${FIX}`);
    assert.equal(yaml.replace(/\n\s*\n/g, "\n"), `${referenceComment()}\n${pulumiConfigSection()}`, FIX);
  });
});
