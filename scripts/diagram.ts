/**
 * `npm run diagram -- <stack-file> [--format mermaid|svg|png] [--output <file>]`: a picture of
 * the lab from its plan, without deploying anything. Mermaid text (the default) goes to stdout or
 * the output file; svg and png are rendered by mermaid-cli in Debian's Chromium
 * (scripts/diagram-render.ts). Exits 1 on a config problem or a failed rendering, 2 on usage.
 */
import * as fs from "node:fs";
import { renderMermaidDiagram } from "../render/diagram";
import { ConfigError } from "../config/errors";
import { readStackFile, withEncryptedStandIns } from "../config/load";
import { resolvePlan } from "../plan/plan";
import { DiagramRenderError, renderDiagramImage } from "./diagram-render";
import { takeFlag, UsageError } from "./arguments";

const USAGE =
  "usage: npm run diagram -- <stack-file> [--format mermaid|svg|png] [--output <file>]   " +
  "(for example stacks/Pulumi.dev.yaml --format svg --output docs/dev-lab.svg)";

const FORMATS = ["mermaid", "svg", "png"] as const;
type Format = (typeof FORMATS)[number];

interface Arguments {
  readonly stackFile: string;
  readonly format: Format;
  readonly output?: string;
}

function parseArguments(argv: readonly string[]): Arguments {
  const rest = [...argv];
  const take = (flag: string) => takeFlag(rest, flag);
  const format = take("--format") ?? "mermaid";
  const output = take("--output");
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format must be one of ${FORMATS.join(", ")}, got "${format}"`);
  }
  const unknown = rest.find((arg) => arg.startsWith("--"));
  if (unknown) throw new UsageError(`unknown option ${unknown}`);
  if (rest.length !== 1) throw new UsageError("give one stack file");
  if (format === "png" && output === undefined) throw new UsageError("--format png needs --output <file>");
  return { stackFile: rest[0]!, format: format as Format, output };
}

function main(argv: string[]): number {
  let args: Arguments;
  try {
    args = parseArguments(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n${USAGE}`);
    return 2;
  }
  const { stackFile, format, output } = args;
  let mermaidText: string;
  let stack: string;
  try {
    const file = readStackFile(stackFile);
    // The picture shows no password, so encrypted ones need no passphrase: validate the rest.
    const plan = resolvePlan(withEncryptedStandIns(file.config), { project: "mail-lab", stack: file.stack });
    mermaidText = renderMermaidDiagram(plan);
    stack = plan.stack;
  } catch (error) {
    const message = error instanceof ConfigError ? error.message : (error as Error).message;
    // readStackFile's own messages already start with the file's name.
    console.error(message.startsWith(`${stackFile}:`) ? message : `${stackFile}: ${message}`);
    return 1;
  }
  let content: string | Buffer = mermaidText;
  if (format !== "mermaid") {
    try {
      content = renderDiagramImage(mermaidText, format);
    } catch (error) {
      if (!(error instanceof DiagramRenderError)) throw error;
      console.error(`${stackFile}: ${error.message}`);
      return 1;
    }
  }
  if (output === undefined) {
    process.stdout.write(content);
  } else {
    fs.writeFileSync(output, content);
    console.error(`${output} written (${format}, stack ${stack})`);
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
