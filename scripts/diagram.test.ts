/**
 * `npm run diagram`, as a user runs it, for every stack the project has, and the real renderer
 * (mermaid-cli in Chromium) over its text. Needs Debian's chromium (/usr/bin/chromium, or
 * PUPPETEER_EXECUTABLE_PATH); .ci/run installs it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { renderMermaidDiagram } from "../render/diagram";
import { readStackFile } from "../config/load";
import { allHosts, resolvePlan } from "../plan/plan";
import { DiagramRenderError, renderDiagramImage } from "./diagram-render";

const root = path.join(__dirname, "..");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-diagram-test-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

function run(...args: string[]) {
  const result = spawnSync(process.execPath, ["--import", "tsx", path.join(root, "scripts", "diagram.ts"), ...args], {
    cwd: root,
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const stackFiles = ["stacks", path.join("test", "e2e", "stacks")].flatMap((dir) =>
  fs
    .readdirSync(path.join(root, dir))
    .filter((name) => /^Pulumi\..+\.yaml$/.test(name))
    .sort()
    .map((name) => path.join(dir, name)),
);

/** The text of an SVG's text elements, words joined by single spaces (Mermaid writes a tspan a word). */
function textOf(svg: string): string {
  return svg
    .replace(/<style[\s\S]*?<\/style>/g, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/\s+/g, " ");
}

describe("npm run diagram", () => {
  it("finds the stacks to draw", () => {
    assert.ok(stackFiles.includes(path.join("stacks", "Pulumi.dev.yaml")));
    assert.ok(stackFiles.includes(path.join("stacks", "Pulumi.campus.yaml")));
  });

  for (const stackFile of stackFiles) {
    it(`prints the Mermaid diagram of ${stackFile}, and mermaid-cli renders it to an SVG naming every host`, () => {
      const result = run(stackFile);
      assert.equal(result.code, 0, result.stderr);
      const file = readStackFile(path.join(root, stackFile));
      const plan = resolvePlan(file.config, { project: "mail-lab", stack: file.stack });
      assert.equal(result.stdout, renderMermaidDiagram(plan));

      const output = path.join(scratch, `${file.stack}.svg`);
      const svg = run(stackFile, "--format", "svg", "--output", output);
      assert.equal(svg.code, 0, svg.stderr);
      const text = textOf(fs.readFileSync(output, "utf8"));
      assert.match(fs.readFileSync(output, "utf8"), /^<svg [^>]*aria-roledescription="flowchart-v2"/);
      for (const host of allHosts(plan)) {
        assert.ok(text.includes(` ${host.fqdn} `), `${host.fqdn} is not in the SVG's text`);
        assert.ok(text.includes(` ${host.address} `), `${host.address} is not in the SVG's text`);
      }
      assert.ok(text.includes(` ${plan.network.subnet} `));
    });
  }

  it("writes a PNG", () => {
    const output = path.join(scratch, "dev.png");
    const result = run("stacks/Pulumi.dev.yaml", "--format", "png", "--output", output);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual([...fs.readFileSync(output).subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });

  it("draws a stack whose passwords are encrypted", () => {
    const file = path.join(scratch, "Pulumi.sealed.yaml");
    const text = fs.readFileSync(path.join(root, "stacks", "Pulumi.dev.yaml"), "utf8");
    fs.writeFileSync(file, text.replace("password: kim", "password:\n            secure: v1:abc"));
    const result = run(file);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /mail\.daum\.net/);
  });

  it("reports a config problem with the key and exits 1, drawing nothing", () => {
    const file = path.join(scratch, "Pulumi.broken.yaml");
    const text = fs.readFileSync(path.join(root, "stacks", "Pulumi.dev.yaml"), "utf8");
    fs.writeFileSync(file, text.replace("address: 10.0.2.200", "address: 10.0.3.200"));
    const result = run(file);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /mail-lab:domains\[1\]\.mailHost\.address: "10\.0\.3\.200" is outside the subnet/);
  });

  it("explains its usage and exits 2", () => {
    for (const args of [
      [],
      ["stacks/Pulumi.dev.yaml", "--format", "jpeg"],
      ["stacks/Pulumi.dev.yaml", "--format", "png"],
    ]) {
      const result = run(...args);
      assert.equal(result.code, 2, args.join(" "));
      assert.match(result.stderr, /usage: npm run diagram -- <stack-file>/);
    }
  });
});

describe("the renderer", () => {
  it("rejects invalid Mermaid with the parse error", () => {
    const broken = renderMermaidDiagram(
      resolvePlan(readStackFile(path.join(root, "stacks", "Pulumi.dev.yaml")).config, {
        project: "mail-lab",
        stack: "dev",
      }),
    ).replace("-->|", "-->|[[[");
    assert.throws(
      () => renderDiagramImage(broken, "svg"),
      (error: unknown) => error instanceof DiagramRenderError && /Parse error on line \d+/.test(error.message),
    );
  });

  it("rejects text that is no Mermaid diagram at all", () => {
    assert.throws(() => renderDiagramImage("this is not a diagram\n", "svg"), DiagramRenderError);
  });
});
