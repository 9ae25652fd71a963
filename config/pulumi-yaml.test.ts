/**
 * Pulumi.yaml must load in the real engine (its project schema types only string, integer,
 * boolean and arrays of those) and must describe every key the stack config accepts.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { CONFIG_KEYS, labConfigSchema } from "./schema";

const text = fs.readFileSync(path.join(__dirname, "..", "Pulumi.yaml"), "utf8");
const project = parse(text) as {
  name: string;
  runtime: { name: string; options: { typescript: boolean } };
  stackConfigDir: string;
  config: Record<string, { type: string; description: string; default?: unknown; items?: unknown }>;
};

describe("Pulumi.yaml", () => {
  it("names the project mail-lab, a TypeScript program with its stacks under stacks/", () => {
    assert.equal(project.name, "mail-lab");
    assert.deepEqual(project.runtime, { name: "nodejs", options: { typescript: true } });
    assert.equal(project.stackConfigDir, "stacks");
  });

  it("declares only types the project schema accepts", () => {
    for (const [key, declaration] of Object.entries(project.config)) {
      assert.ok(
        ["string", "integer", "boolean", "array"].includes(declaration.type),
        `${key}: type ${declaration.type}`,
      );
      if (declaration.type === "array") assert.ok(declaration.items, `${key}: an array needs items`);
      assert.ok(declaration.description.length > 20, `${key} has a description`);
      assert.ok(CONFIG_KEYS.includes(key.replace(/^mail-lab:/, "") as never), `${key} is a key of the schema`);
    }
  });

  it("gives every declared key the schema's own default: the engine refuses a stack that lacks a key without one", () => {
    // `pulumi preview` stops with "Stack 'dev' is missing configuration values" for a declared key
    // without a default, so an optional key needs the default the program would use anyway.
    const defaults = labConfigSchema.parse({
      network: { subnet: "10.0.2.0/24" },
      domains: [{ name: "naver.com", mailHost: { address: "10.0.2.100" } }],
    }) as Record<string, unknown>;
    for (const [key, declaration] of Object.entries(project.config)) {
      const name = key.replace(/^mail-lab:/, "");
      assert.ok("default" in declaration, `${key} has no default`);
      assert.deepEqual(declaration.default, defaults[name], `${key}: Pulumi.yaml's default is the schema's`);
    }
  });

  it("describes every config key, as a typed declaration or in the comment block", () => {
    for (const key of CONFIG_KEYS) {
      const declared = `mail-lab:${key}` in project.config;
      const commented = new RegExp(`^#\\s+mail-lab:${key}[.[ ]`, "m").test(text);
      assert.ok(declared || commented, `mail-lab:${key} is not described in Pulumi.yaml`);
    }
  });
});
