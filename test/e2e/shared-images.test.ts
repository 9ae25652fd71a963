/**
 * Images shared across stacks, end to end: two stacks of the dev topology on their own subnets
 * (share-a on 10.0.14.0/24, share-b on 10.0.15.0/24, written to a temporary folder; no self-check,
 * the other e2e files do that).
 *
 * 1. share-a deploys (building the images, or reusing them if an earlier test left them);
 * 2. share-b deploys and builds nothing: every step of its three builds comes from the layer cache,
 *    and its containers run the very image ids share-a's do;
 * 3. destroying share-a leaves those images, and share-b still runs on them;
 * 4. after share-b is destroyed too, `npm run images:prune` removes them (unless a container of
 *    someone else uses one: then it says so), and nothing of either stack remains.
 *
 * This file runs last of the e2e files (sorted by name), so its prune also removes the images the
 * earlier files left for each other; a test never depends on images being present or absent.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { labelledObjects } from "../../harness/stack";
import { destroy, leftovers, root } from "./lab";

const STACKS = { a: "share-a", b: "share-b" } as const;
const SUBNETS = { a: "10.0.14", b: "10.0.15" } as const;
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-shared-images-"));
const stackFile = (key: keyof typeof STACKS) => path.join(workDir, `Pulumi.${STACKS[key]}.yaml`);

for (const key of ["a", "b"] as const) {
  const dev = fs.readFileSync(path.join(root, "stacks", "Pulumi.dev.yaml"), "utf8");
  // The README's way to move a stack to another subnet: every address and access rule with it.
  fs.writeFileSync(stackFile(key), `${dev.replace(/10\.0\.2\./g, `${SUBNETS[key]}.`)}\n  mail-lab:verify: false\n`);
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

function node(script: string, ...args: string[]): Run {
  const started = Date.now();
  const result = spawnSync(process.execPath, ["--import", "tsx", path.join(root, "scripts", script), ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 15 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, seconds: (Date.now() - started) / 1000 };
}

/** The image id each container of a stack runs, by container name. */
function imagesRun(stack: string): Record<string, string> {
  const names = execFileSync(
    "docker",
    ["ps", "-a", "--filter", `label=mail-lab.stack=${stack}`, "--format", "{{.Names}}"],
    {
      encoding: "utf8",
    },
  )
    .split("\n")
    .filter(Boolean);
  return Object.fromEntries(
    names.map((name) => [
      name.replace(`mail-lab-${stack}-`, ""),
      execFileSync("docker", ["inspect", "-f", "{{.Image}}", name], { encoding: "utf8" }).trim(),
    ]),
  );
}

const imageExists = (id: string) => spawnSync("docker", ["image", "inspect", id], { stdio: "ignore" }).status === 0;

/** "built image mail-lab-client:0123456789ab (sha256:...): 12 of 14 steps from the layer cache" lines. */
function builds(stderr: string): { name: string; steps: number; cached: number }[] {
  return [
    ...stderr.matchAll(/^built image (\S+) \(sha256:[0-9a-f]+\): (\d+) of (\d+) steps from the layer cache$/gm),
  ].map(([, name, cached, steps]) => ({ name: name!, steps: Number(steps), cached: Number(cached) }));
}

describe("images shared across stacks", { timeout: 30 * 60_000 }, () => {
  let deployA: Run;
  let deployB: Run;
  let shared: Record<string, string>;

  before(() => {
    for (const key of ["a", "b"] as const) destroy(stackFile(key));
  });

  after(() => {
    for (const key of ["a", "b"] as const) destroy(stackFile(key));
    fs.rmSync(workDir, { recursive: true, force: true });
    // Whatever a failure left of the lab's images, unless a container still uses it.
    node("images-prune.ts");
  });

  it("share-a deploys with the content-named images", () => {
    deployA = node("e2e-up.ts", stackFile("a"));
    assert.equal(deployA.code, 0, deployA.stderr.slice(-4000));
    const built = builds(deployA.stderr);
    assert.deepEqual(built.map((build) => build.name.replace(/:[0-9a-f]{12}$/, ":<tag>")).sort(), [
      "mail-lab-client:<tag>",
      "mail-lab-mail-host:<tag>",
      "mail-lab-name-server:<tag>",
    ]);
    shared = imagesRun(STACKS.a);
    assert.equal(Object.keys(shared).length, 5, JSON.stringify(shared));
    console.log(
      `[shared-images] share-a deploy ${deployA.seconds.toFixed(1)} s; ` +
        built.map((build) => `${build.name} ${build.cached}/${build.steps} cached`).join(", "),
    );
  });

  it("share-b deploys without building anything: every step cached, the same image ids", () => {
    deployB = node("e2e-up.ts", stackFile("b"));
    assert.equal(deployB.code, 0, deployB.stderr.slice(-4000));
    const built = builds(deployB.stderr);
    assert.deepEqual(
      built.map((build) => build.name).sort(),
      builds(deployA.stderr)
        .map((build) => build.name)
        .sort(),
      "the same image names",
    );
    for (const build of built) {
      assert.ok(
        build.steps > 0 && build.cached === build.steps,
        `${build.name}: ${build.cached} of ${build.steps} cached`,
      );
    }
    assert.deepEqual(imagesRun(STACKS.b), shared, "share-b's hosts run share-a's image ids");
    console.log(
      `[shared-images] share-b deploy ${deployB.seconds.toFixed(1)} s (share-a ${deployA.seconds.toFixed(1)} s); ` +
        `all ${built.reduce((sum, build) => sum + build.steps, 0)} build steps from the cache`,
    );
  });

  it("destroying share-a leaves the images share-b runs", () => {
    destroy(stackFile("a"));
    assert.deepEqual(leftovers(STACKS.a), { containers: [], networks: [], volumes: [] });
    for (const id of new Set(Object.values(shared))) assert.ok(imageExists(id), `image ${id} is still there`);
    const running = execFileSync(
      "docker",
      ["ps", "--filter", `label=mail-lab.stack=${STACKS.b}`, "--format", "{{.Names}}"],
      { encoding: "utf8" },
    )
      .split("\n")
      .filter(Boolean);
    // Healthy: the image's healthcheck passes now (Docker's status is refreshed every 30 s only).
    const healthy = running.filter(
      (name) => spawnSync("docker", ["exec", name, "/usr/local/bin/healthcheck"]).status === 0,
    );
    assert.equal(healthy.length, 5, `share-b's containers still run and are healthy: ${healthy.join(", ")}`);
  });

  it("after share-b is destroyed, images:prune removes the images no container uses, and nothing of either stack remains", async () => {
    destroy(stackFile("b"));
    assert.deepEqual(leftovers(STACKS.b), { containers: [], networks: [], volumes: [] });
    // destroy leaves the shared images: they carry no stack label, only project, role and content hash.
    const ids = [...new Set(Object.values(shared))];
    for (const id of ids) assert.ok(imageExists(id), `destroy left image ${id}`);
    const labels = JSON.parse(
      execFileSync("docker", ["image", "inspect", "-f", "{{json .Config.Labels}}", ids[0]!], { encoding: "utf8" }),
    ) as Record<string, string>;
    assert.equal(labels["mail-lab.stack"], undefined);
    assert.equal(labels["mail-lab.project"], "mail-lab");
    assert.match(labels["mail-lab.content-hash"] ?? "", /^[0-9a-f]{64}$/);

    const prune = node("images-prune.ts");
    assert.equal(prune.code, 0, prune.stdout + prune.stderr);
    for (const id of ids) {
      const short = id.replace(/^sha256:/, "").slice(0, 12);
      const line = prune.stdout.split("\n").find((text) => text.includes(`(${short})`));
      assert.ok(line, `images:prune reports image ${short}:\n${prune.stdout}`);
      if (line.startsWith("removed ")) {
        assert.match(line, /: no container uses it$/);
        assert.equal(imageExists(id), false, `image ${short} is gone`);
      } else {
        // Someone else's container on this host runs it (a lab left up): kept, and said why.
        assert.match(line, /^kept .*: used by (?!mail-lab-share-)/);
        assert.ok(imageExists(id));
      }
    }
    assert.match(prune.stdout, /^images:prune: removed \d+, kept \d+ of \d+ mail-lab image\(s\)$/m);
    console.log(`[shared-images] images:prune:\n${prune.stdout.trimEnd()}`);
    for (const stack of Object.values(STACKS)) assert.deepEqual(await labelledObjects(stack), [], stack);
  });
});
