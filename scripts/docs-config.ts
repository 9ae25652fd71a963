/**
 * `npm run docs:config`: writes the config reference generated from the schema's metadata
 * (config/reference.ts) into README.md's "Stack config" table and into Pulumi.yaml (its comment
 * block and `config:` section). config/reference.test.ts fails until this has been run after a
 * change of the schema's documentation.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { format, resolveConfig } from "prettier";
import {
  PULUMI_YAML_MARKERS,
  pulumiConfigSection,
  README_MARKERS,
  referenceComment,
  referenceTable,
  replaceBetween,
} from "../config/reference";

const root = path.join(__dirname, "..");

async function formatted(file: string, text: string): Promise<string> {
  return format(text, { ...(await resolveConfig(file)), filepath: file });
}

async function main(): Promise<void> {
  const readme = path.join(root, "README.md");
  const readmeText = replaceBetween(fs.readFileSync(readme, "utf8"), README_MARKERS, referenceTable());
  fs.writeFileSync(readme, await formatted(readme, readmeText));

  const pulumiYaml = path.join(root, "Pulumi.yaml");
  const yamlText = replaceBetween(
    fs.readFileSync(pulumiYaml, "utf8"),
    PULUMI_YAML_MARKERS,
    `${referenceComment()}\n${pulumiConfigSection()}`,
  );
  fs.writeFileSync(pulumiYaml, await formatted(pulumiYaml, yamlText));
  console.error("config reference written to README.md and Pulumi.yaml");
}

main().catch((error: unknown) => {
  console.error(`docs:config: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
