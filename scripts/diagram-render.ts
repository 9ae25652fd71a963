/**
 * Mermaid text to SVG or PNG with mermaid-cli (mmdc), which parses the text with Mermaid itself
 * and lays it out in a headless browser: Debian's Chromium (`apt-get install chromium`), never a
 * browser of Puppeteer's own (.puppeteerrc.yaml stops its download at `npm ci`). Invalid Mermaid
 * makes mmdc fail, and so this.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export type ImageFormat = "svg" | "png";

/** The browser mmdc drives; `PUPPETEER_EXECUTABLE_PATH` overrides it, as for Puppeteer itself. */
export function chromiumPath(): string {
  return process.env.PUPPETEER_EXECUTABLE_PATH || "/usr/bin/chromium";
}

/**
 * Chromium as root in a container-like machine: no sandbox (it refuses to start as root with
 * one), no GPU, and none of its own network traffic (updates, sync, first-run pages), which a
 * closed network refuses anyway.
 */
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

const MMDC = path.join(__dirname, "..", "node_modules", ".bin", "mmdc");

export class DiagramRenderError extends Error {}

/**
 * Renders Mermaid text to an image file's bytes. Throws a DiagramRenderError with mmdc's own
 * message (for invalid Mermaid: the parse error and its line) when it fails.
 */
export function renderDiagramImage(mermaidText: string, format: ImageFormat): Buffer {
  const browser = chromiumPath();
  if (!fs.existsSync(browser)) {
    throw new DiagramRenderError(
      `--format ${format} renders with Chromium, and there is none at ${browser}: ` +
        "install it (Debian: apt-get install chromium) or set PUPPETEER_EXECUTABLE_PATH to a Chromium or Chrome binary",
    );
  }
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-diagram-"));
  try {
    const input = path.join(scratch, "lab.mmd");
    const output = path.join(scratch, `lab.${format}`);
    const puppeteerConfig = path.join(scratch, "puppeteer.json");
    fs.writeFileSync(input, mermaidText);
    fs.writeFileSync(puppeteerConfig, JSON.stringify({ executablePath: browser, args: CHROMIUM_ARGS }));
    const args = ["--quiet", "--puppeteerConfigFile", puppeteerConfig, "--input", input, "--output", output];
    // A PNG is a screenshot of the page: a wide page keeps the diagram at its own size, on white.
    if (format === "png") args.push("--width", "2400", "--backgroundColor", "white", "--scale", "2");
    const result = spawnSync(MMDC, args, { encoding: "utf8", timeout: 120_000 });
    if (result.error) throw new DiagramRenderError(`mmdc could not run: ${result.error.message}`);
    if (result.status !== 0 || !fs.existsSync(output)) {
      const message = (result.stderr || result.stdout).trim().split("\n").slice(0, 6).join("\n");
      throw new DiagramRenderError(`mmdc failed (exit ${result.status}): ${message}`);
    }
    return fs.readFileSync(output);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
