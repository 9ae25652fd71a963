/**
 * scripts/e2e-up.ts and scripts/e2e-down.ts as a user runs them, each in its own process, with the
 * harness's tiny program: stdout of e2e-up is only the outputs JSON, the lab stays up until
 * e2e-down removes it. Network 10.248.0.0/24, apart from docker-mocks.test.ts so both files can run at once.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { run } from "../docker/cli";
import { dockerLines } from "../docker/cli";
import { destroyStack } from "./stack";

const ROOT = path.resolve(__dirname, "..");
const STACK = "harness-test-cli";
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "harness-test-"));
const stackFile = path.join(dir, `Pulumi.${STACK}.yaml`);
fs.writeFileSync(
  stackFile,
  `config:\n  mail-lab:subnet: 10.248.0.0/24\n  mail-lab:greeting: hi there\n  mail-lab:marker: ${dir}/m\n`,
);

const script = (name: string, ...args: string[]) =>
  run(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts", name), ...args], { cwd: ROOT });

const containers = () =>
  dockerLines(["ps", "-a", "--filter", `label=mail-lab.stack=${STACK}`, "--format", "{{.Names}} {{.State}}"]);

after(async () => {
  await destroyStack(STACK);
  fs.rmSync(dir, { recursive: true, force: true });
});

test("e2e-up prints only the outputs and leaves the lab up; e2e-down removes it", async () => {
  const up = await script("e2e-up.ts", "--program", path.join(__dirname, "fixtures", "tiny-program.ts"), stackFile);
  assert.equal(up.code, 0, up.stderr);
  const outputs = JSON.parse(up.stdout) as Record<string, unknown>;
  assert.equal(outputs["probe"], `hi there\non harness-test-${STACK}-net`);
  assert.match(up.stderr, /created container harness-test-harness-test-cli-box/);
  assert.deepEqual(await containers(), [`harness-test-${STACK}-box running`]);

  const down = await script("e2e-down.ts", stackFile);
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stderr, /removed container harness-test-harness-test-cli-box/);
  assert.match(down.stderr, /removed network harness-test-harness-test-cli-net/);
  assert.match(down.stderr, /removed volume harness-test-harness-test-cli-data/);
  assert.match(down.stderr, /removed image harness-test-harness-test-cli-image:latest/);
  assert.deepEqual(await containers(), []);
});

test("e2e-up fails with the error on stderr and nothing on stdout", async () => {
  const broken = path.join(dir, "Pulumi.harness-test-cli.yml");
  fs.writeFileSync(broken, "config:\n  mail-lab:greeting: hi\n");
  const up = await script("e2e-up.ts", "--program", path.join(__dirname, "fixtures", "tiny-program.ts"), broken);
  assert.equal(up.code, 1);
  assert.equal(up.stdout, "");
  assert.match(up.stderr, /e2e-up: .*Missing required configuration variable 'mail-lab:subnet'/);
});
