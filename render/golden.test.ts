/**
 * Golden files: every rendered file of the reference stacks, byte for byte, so that a review of
 * a renderer change shows the exact config change. After an intended change, refresh them with
 * `UPDATE_GOLDEN=1 npm run test:unit` and review the diff.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { readStackFile } from "../spec/load";
import { resolvePlan } from "../spec/plan";
import { writeRenderedLab } from "./write";

const root = path.join(__dirname, "..");

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

for (const stack of ["dev", "campus"]) {
  describe(`golden files of the ${stack} stack`, () => {
    const goldenDir = path.join(root, "test", "golden", stack);
    const file = readStackFile(path.join(root, "stacks", `Pulumi.${stack}.yaml`));
    const plan = resolvePlan(file.config, { project: "mail-lab", stack: file.stack });
    const renderedDir = fs.mkdtempSync(path.join(os.tmpdir(), `mail-lab-golden-${stack}-`));
    const written = writeRenderedLab(plan, renderedDir).sort();
    if (process.env.UPDATE_GOLDEN === "1") {
      fs.rmSync(goldenDir, { recursive: true, force: true });
      fs.cpSync(renderedDir, goldenDir, { recursive: true });
    }

    it("has exactly the rendered files", () => {
      assert.deepEqual(filesUnder(goldenDir), written, "run UPDATE_GOLDEN=1 npm run test:unit and review the diff");
    });

    for (const relative of written) {
      it(relative, () => {
        const golden = path.join(goldenDir, relative);
        assert.ok(fs.existsSync(golden), `${relative} has no golden file; run UPDATE_GOLDEN=1 npm run test:unit`);
        assert.equal(fs.readFileSync(path.join(renderedDir, relative), "utf8"), fs.readFileSync(golden, "utf8"));
      });
    }

    it("renders byte-identical files twice", () => {
      const again = fs.mkdtempSync(path.join(os.tmpdir(), `mail-lab-golden-${stack}-`));
      try {
        writeRenderedLab(plan, again);
        for (const relative of written) {
          assert.equal(
            fs.readFileSync(path.join(again, relative), "utf8"),
            fs.readFileSync(path.join(renderedDir, relative), "utf8"),
          );
        }
      } finally {
        fs.rmSync(again, { recursive: true, force: true });
      }
    });
  });
}
