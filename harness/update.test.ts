/**
 * The harness's update mode (`deployStack(file, { update: true })`), a second `pulumi up` against
 * the objects of the first: with fixtures/update-program.ts, each deploy in its own process
 * (deploy-cli.ts), on network 10.249.0.0/24, stack harness-test-update. Everything is removed at
 * the end, also on failure.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { docker, dockerLines, run } from "../docker/cli";
import type { ResourceChange } from "./docker-mocks";
import { destroyStack, labelledObjects, stateFileOf } from "./stack";

const ROOT = path.resolve(__dirname, "..");
const PROGRAM = path.join(__dirname, "fixtures", "update-program.ts");
const STACK = "harness-test-update";
const PREFIX = `harness-test-${STACK}`;
const BOX = `${PREFIX}-box`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "harness-test-"));
const stateDir = path.join(dir, "state");
const stackFile = path.join(dir, `Pulumi.${STACK}.yaml`);

interface Result {
  readonly code: number;
  readonly stderr: string;
  readonly outputs: Record<string, unknown>;
  readonly changes: ResourceChange[];
}

/** Writes the stack file and deploys it with deploy-cli.ts in a fresh process. */
async function deploy(config: Record<string, string>, update: boolean, file = stackFile): Promise<Result> {
  const lines = Object.entries({ subnet: "10.249.0.0/24", ...config }).map(
    ([key, value]) => `  mail-lab:${key}: ${JSON.stringify(value)}`,
  );
  fs.writeFileSync(file, `config:\n${lines.join("\n")}\n`);
  const argv = ["--import", "tsx", path.join(__dirname, "deploy-cli.ts"), "--program", PROGRAM];
  argv.push("--state-dir", stateDir, ...(update ? ["--update"] : []), file);
  const result = await run(process.execPath, argv, { cwd: ROOT });
  if (result.code !== 0) return { code: result.code, stderr: result.stderr, outputs: {}, changes: [] };
  const parsed = JSON.parse(result.stdout) as { outputs: Record<string, unknown>; changes: ResourceChange[] };
  return { code: 0, stderr: result.stderr, ...parsed };
}

/** "action type name" per resource, sorted: the engine's per-resource summary. */
const summary = (changes: readonly ResourceChange[]) =>
  changes.map((change) => `${change.action} ${change.type.split(":").pop()} ${change.name}`).sort();

const inspect = async (format: string, container = BOX) => (await docker(["inspect", "-f", format, container])).trim();
const exec = async (...argv: string[]) => (await docker(["exec", BOX, ...argv])).trim();

describe("deployStack update: a second pulumi up against the first one's objects", { timeout: 300_000 }, () => {
  before(() => destroyStack(STACK, { stateDir }));
  after(async () => {
    await destroyStack(STACK, { stateDir });
    fs.rmSync(dir, { recursive: true, force: true });
    assert.deepEqual((await labelledObjects(STACK)).sort(), []);
  });

  let first: Result;

  test("an update without a previous deploy is refused", async () => {
    const result = await deploy({ greeting: "hello" }, true);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /no harness state for stack harness-test-update at .*: deploy it without `update` first/,
    );
    assert.deepEqual((await labelledObjects(STACK)).sort(), []);
  });

  test("the first deploy creates everything and writes the state file", async () => {
    first = await deploy({ greeting: "hello", extra: "yes" }, false);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(summary(first.changes), [
      "created Command stamp",
      "created Container box",
      "created Network net",
      "created RemoteImage image",
      "created Volume data",
      "created Volume extra",
    ]);
    const state = fs.statSync(stateFileOf(STACK, stateDir));
    assert.equal(state.mode & 0o777, 0o600, "the state holds secret outputs: owner-only");
    await exec("sh", "-c", "echo kept > /data/marker");
  });

  test("the same config again changes nothing: every resource same, the command not run again", async () => {
    const again = await deploy({ greeting: "hello", extra: "yes" }, true);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(
      again.changes.filter((change) => change.action !== "same"),
      [],
    );
    assert.equal(again.changes.length, 6);
    assert.equal(again.outputs["containerId"], first.outputs["containerId"]);
    assert.equal(again.outputs["stampValue"], first.outputs["stampValue"]);
    assert.equal(await inspect("{{.Id}}"), first.outputs["containerId"]);
    assert.match(again.stderr, /stack harness-test-update updated: 6 same/);
  });

  test("a changed upload replaces exactly the container: delete before create, same name and address, volume kept", async () => {
    const changed = await deploy({ greeting: "hello again", extra: "yes" }, true);
    assert.equal(changed.code, 0, changed.stderr);
    assert.deepEqual(
      changed.changes.filter((change) => change.action !== "same"),
      [
        {
          type: "docker:index/container:Container",
          name: "box",
          action: "replaced",
          objects: [`container ${BOX}`],
          changedInputs: ["uploads"],
        },
      ],
    );
    assert.match(changed.stderr, /before replacing it \(deleteBeforeReplace\)/);
    const id = await inspect("{{.Id}}");
    assert.equal(id, changed.outputs["containerId"]);
    assert.notEqual(id, first.outputs["containerId"]);
    assert.equal(await inspect("{{.State.Health.Status}}"), "healthy");
    assert.equal(await inspect(`{{(index .NetworkSettings.Networks "${PREFIX}-net").IPAddress}}`), "10.249.0.10");
    assert.equal(await exec("cat", "/etc/harness/greeting.txt"), "hello again");
    assert.equal(await exec("cat", "/data/marker"), "kept", "the named volume survives the replacement");
    assert.equal(changed.outputs["stampValue"], first.outputs["stampValue"], "the command's inputs did not change");
    const containers = await dockerLines([
      "ps",
      "-a",
      "--filter",
      `label=mail-lab.stack=${STACK}`,
      "--format",
      "{{.ID}}",
    ]);
    assert.equal(containers.length, 1, "the old container is gone");
  });

  test("a resource no longer declared is deleted; a rebuilt image with the same id keeps its container", async () => {
    const changed = await deploy({ greeting: "hello again", imageTrigger: "2" }, true);
    assert.equal(changed.code, 0, changed.stderr);
    assert.deepEqual(summary(changed.changes.filter((change) => change.action !== "same")), [
      "deleted Volume extra",
      "replaced RemoteImage image",
    ]);
    assert.equal(changed.outputs["imageId"], first.outputs["imageId"], "a cached rebuild gives the same image");
    assert.deepEqual((await labelledObjects(STACK)).sort(), [
      `container ${BOX}`,
      `image ${PREFIX}-image:latest`,
      `network ${PREFIX}-net`,
      `volume ${PREFIX}-data`,
    ]);
  });

  test("a different image replaces the container that runs it; the old image is removed by its id", async () => {
    const changed = await deploy({ greeting: "hello again", imageTrigger: "2", imageVersion: "2" }, true);
    assert.equal(changed.code, 0, changed.stderr);
    assert.deepEqual(
      changed.changes
        .filter((change) => change.action !== "same")
        .map((change) => `${change.action} ${change.name} (${change.changedInputs?.join(", ")})`)
        .sort(),
      ["replaced box (image)", "replaced image (build)"],
    );
    const imageId = String(changed.outputs["imageId"]);
    assert.notEqual(imageId, first.outputs["imageId"]);
    assert.equal(await inspect("{{.Image}}"), imageId);
    assert.equal(await inspect("{{.State.Health.Status}}"), "healthy");
    assert.equal(await exec("cat", "/data/marker"), "kept");
    const old = await run("docker", ["image", "inspect", String(first.outputs["imageId"])]);
    assert.notEqual(old.code, 0, "the replaced image is gone");
    assert.deepEqual((await labelledObjects(STACK)).sort(), [
      `container ${BOX}`,
      `image ${PREFIX}-image:latest`,
      `network ${PREFIX}-net`,
      `volume ${PREFIX}-data`,
    ]);
  });

  test("without deleteBeforeReplace a fixed-name container cannot be replaced: the update fails, the stack is removed", async () => {
    const failed = await deploy(
      { greeting: "third", imageTrigger: "2", imageVersion: "2", deleteBeforeReplace: "no" },
      true,
    );
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /docker:index\/container:Container "box"/);
    assert.match(failed.stderr, /is already in use/);
    assert.deepEqual((await labelledObjects(STACK)).sort(), []);
    assert.equal(fs.existsSync(stateFileOf(STACK, stateDir)), false);
  });
});
