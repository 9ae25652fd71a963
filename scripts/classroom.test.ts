/** `npm run classroom` as an instructor runs it: files written, each one validates, nothing overwritten. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";

const root = path.join(__dirname, "..");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-classroom-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

function run(script: string, ...args: string[]) {
  const result = spawnSync(process.execPath, ["--import", "tsx", path.join(root, "scripts", script), ...args], {
    cwd: root,
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("npm run classroom", () => {
  const out = path.join(scratch, "room");

  it("writes one stack file per lab and the instructor's list; each file validates", () => {
    const result = run(
      "classroom.ts",
      "--from",
      "test/e2e/stacks/Pulumi.desk.yaml",
      "--count",
      "3",
      "--out",
      out,
      "--first-subnet",
      "10.0.60.0/24",
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(fs.readdirSync(out).sort(), [
      "Pulumi.desk-01.yaml",
      "Pulumi.desk-02.yaml",
      "Pulumi.desk-03.yaml",
      "classroom-desk.tsv",
    ]);
    assert.match(result.stdout, /Pulumi\.desk-02\.yaml: 10\.0\.61\.0\/24, host ports \d+/);
    assert.match(result.stdout, /the users' passwords are in .*classroom-desk\.tsv \(owner-only\)/);
    assert.equal(fs.statSync(path.join(out, "classroom-desk.tsv")).mode & 0o777, 0o600);
    for (const lab of ["01", "02", "03"]) {
      const validated = run("validate.ts", path.join(out, `Pulumi.desk-${lab}.yaml`));
      assert.equal(validated.code, 0, validated.stderr);
      assert.match(
        validated.stdout,
        new RegExp(`^stack desk-${lab}: network mail-lab-desk-${lab}-net 10\\.0\\.6\\d\\.0/24`, "m"),
      );
    }
    const list = fs.readFileSync(path.join(out, "classroom-desk.tsv"), "utf8");
    const password = /^password: (\S+)$/m.exec(
      fs
        .readFileSync(path.join(out, "Pulumi.desk-03.yaml"), "utf8")
        .split("\n")
        .map((line) => line.trim())
        .join("\n"),
    )?.[1];
    assert.ok(password && list.includes(`desk-03\t10.0.62.0/24\t`) && list.includes(password), list);
  });

  it("keeps existing files unless --force", () => {
    const before = fs.readFileSync(path.join(out, "Pulumi.desk-01.yaml"), "utf8");
    const refused = run("classroom.ts", "--from", "test/e2e/stacks/Pulumi.desk.yaml", "--count", "3", "--out", out);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /4 file\(s\) exist already .*give --force/);
    assert.equal(fs.readFileSync(path.join(out, "Pulumi.desk-01.yaml"), "utf8"), before);
    const forced = run(
      "classroom.ts",
      "--from",
      "test/e2e/stacks/Pulumi.desk.yaml",
      "--count",
      "3",
      "--out",
      out,
      "--force",
    );
    assert.equal(forced.code, 0, forced.stderr);
    assert.notEqual(fs.readFileSync(path.join(out, "Pulumi.desk-01.yaml"), "utf8"), before, "new passwords");
  });

  it("explains a problem and its usage", () => {
    const bad = run(
      "classroom.ts",
      "--from",
      "stacks/Pulumi.dev.yaml",
      "--count",
      "2",
      "--out",
      path.join(scratch, "x"),
      "--first-subnet",
      "10.0.3.0/25",
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^classroom: --first-subnet: must be a \/24/m);
    assert.equal(fs.existsSync(path.join(scratch, "x")), false, "nothing written");
    const usage = run("classroom.ts", "--count", "2");
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /usage: npm run classroom -- --from <stack-file> --count N/);
  });
});
