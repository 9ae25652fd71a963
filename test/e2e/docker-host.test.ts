/**
 * A lab on another Docker engine, end to end: a stack whose `docker:host` names a second dockerd,
 * started by this test on this machine with its own socket, data and exec roots and its own
 * default bridge (`mlab-remote`, 10.255.254.1/24, made here). The stack (the dev topology moved to
 * 10.0.16.0/24, written to the test's folder) must
 * 1. be refused by the subnet check when a network of *that* engine overlaps it (the local engine
 *    has no such network), before anything is created on either engine;
 * 2. deploy there: its images built by that engine, its containers running there and none on the
 *    local engine, and its self-check (`docker exec` into the PCs) passing there;
 * 3. be checked there by `npm run check` given only the stack file;
 * 4. be destroyed there, leaving nothing of the stack on that engine.
 *
 * The second engine gets the base image by `docker save | docker load` from the local one (there
 * is no registry); it builds the lab's images itself from Debian's mirror, so this file takes a
 * few minutes. Everything it made (engine, bridge, its iptables rules, folders) is removed in `after`.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { destroy, type LabOutputs, root, sleep } from "./lab";

const STACK = "remote";
const BRIDGE = "mlab-remote";
const BRIDGE_ADDRESS = "10.255.254.1/24";
const BASE_IMAGE = "debian:bookworm-slim";
// Short: a unix socket's path must stay under 108 bytes.
const engineDir = fs.mkdtempSync("/tmp/mail-lab-engine-");
const engineHost = `unix://${path.join(engineDir, "docker.sock")}`;
const stackFile = path.join(engineDir, `Pulumi.${STACK}.yaml`);

const dev = fs.readFileSync(path.join(root, "stacks", "Pulumi.dev.yaml"), "utf8");
fs.writeFileSync(
  stackFile,
  dev.replace(/10\.0\.2\./g, "10.0.16.").replace(/^config:\n/m, `config:\n  docker:host: ${engineHost}\n`),
);

/** The docker CLI against the second engine (`remote`) or the local one (`local`). */
function dockerOn(where: "remote" | "local", ...args: string[]): string {
  const env = { ...process.env, DOCKER_HOST: where === "remote" ? engineHost : undefined };
  return execFileSync("docker", args, { encoding: "utf8", env, stdio: ["ignore", "pipe", "pipe"] }).trim();
}

const lines = (text: string) => text.split("\n").filter(Boolean);

/** Containers, networks and volumes of the stack on that engine. */
function stackObjects(where: "remote" | "local"): string[] {
  const filter = ["--filter", `label=mail-lab.stack=${STACK}`];
  return [
    ...lines(dockerOn(where, "ps", "-a", ...filter, "--format", "container {{.Names}}")),
    ...lines(dockerOn(where, "network", "ls", ...filter, "--format", "network {{.Name}}")),
    ...lines(dockerOn(where, "volume", "ls", ...filter, "--format", "volume {{.Name}}")),
  ];
}

function up(): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ["--import", "tsx", path.join(root, "scripts", "e2e-up.ts"), stackFile], {
    cwd: root,
    encoding: "utf8",
    timeout: 20 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
    // The harness must find the engine from the stack file alone, as the provider does.
    env: { ...process.env, DOCKER_HOST: undefined },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Deletes the iptables rules the second engine added for its bridge (dockerd leaves them on exit). */
function removeBridgeRules(): void {
  for (const table of ["filter", "nat"]) {
    const rules = spawnSync("iptables", ["-t", table, "-S"], { encoding: "utf8" }).stdout ?? "";
    for (const rule of rules.split("\n").filter((line) => line.startsWith("-A ") && line.includes(BRIDGE))) {
      spawnSync("iptables", ["-t", table, "-D", ...rule.slice(3).split(" ")], { stdio: "ignore" });
    }
  }
}

describe("a stack whose docker:host names another Docker engine", { timeout: 30 * 60_000 }, () => {
  let engine: ChildProcess | undefined;

  before(async () => {
    spawnSync("ip", ["link", "delete", BRIDGE], { stdio: "ignore" }); // a crashed run's
    execFileSync("ip", ["link", "add", BRIDGE, "type", "bridge"]);
    execFileSync("ip", ["addr", "add", BRIDGE_ADDRESS, "dev", BRIDGE]);
    execFileSync("ip", ["link", "set", BRIDGE, "up"]);
    const log = fs.openSync(path.join(engineDir, "dockerd.log"), "a");
    engine = spawn(
      "dockerd",
      [
        "--host",
        engineHost,
        "--data-root",
        path.join(engineDir, "data"),
        "--exec-root",
        path.join(engineDir, "exec"),
        "--pidfile",
        path.join(engineDir, "docker.pid"),
        "--bridge",
        BRIDGE,
      ],
      { stdio: ["ignore", log, log] },
    );
    for (let attempt = 0; ; attempt++) {
      if (spawnSync("docker", ["--host", engineHost, "info"], { stdio: "ignore" }).status === 0) break;
      if (attempt > 120 || engine.exitCode !== null) {
        throw new Error(
          `the second dockerd did not start:\n${fs.readFileSync(path.join(engineDir, "dockerd.log"), "utf8")}`,
        );
      }
      await sleep(500);
    }
    execFileSync("sh", ["-c", 'docker save "$1" | docker --host "$2" load -q', "load", BASE_IMAGE, engineHost], {
      stdio: ["ignore", "ignore", "inherit"],
    });
  });

  after(async () => {
    try {
      if (engine && engine.exitCode === null) destroy(stackFile);
    } finally {
      if (engine && engine.exitCode === null) {
        const exited = new Promise((resolve) => engine!.once("exit", resolve));
        engine.kill("SIGTERM");
        await Promise.race([exited, sleep(30_000)]);
        if (engine.exitCode === null) engine.kill("SIGKILL");
      }
      spawnSync("ip", ["link", "delete", BRIDGE], { stdio: "ignore" });
      removeBridgeRules();
      spawnSync("umount", ["-R", path.join(engineDir, "exec")], { stdio: "ignore" });
      fs.rmSync(engineDir, { recursive: true, force: true });
    }
  });

  it("is refused when a network of that engine overlaps its subnet, with nothing created on either engine", () => {
    dockerOn("remote", "network", "create", "--subnet", "10.0.16.128/25", "mail-lab-remote-blocker");
    try {
      const refused = up();
      assert.notEqual(refused.code, 0, "the deploy must fail");
      assert.match(refused.stderr, /network\.subnet "10\.0\.16\.0\/24" overlaps .*mail-lab-remote-blocker/s);
      assert.deepEqual(stackObjects("remote"), []);
      assert.deepEqual(stackObjects("local"), []);
    } finally {
      dockerOn("remote", "network", "rm", "mail-lab-remote-blocker");
    }
  });

  it("deploys there, builds its images there and passes its self-check there", () => {
    const deployed = up();
    assert.equal(deployed.code, 0, `e2e-up failed:\n${deployed.stderr.split("\n").slice(-40).join("\n")}`);
    const outputs = JSON.parse(deployed.stdout) as LabOutputs;
    assert.match(outputs.verification ?? "", /checks: (\d+) passed, 0 failed/);

    const remote = stackObjects("remote");
    assert.deepEqual(remote.filter((object) => object.startsWith("container ")).sort(), [
      "container mail-lab-remote-kim-pc",
      "container mail-lab-remote-lee-pc",
      "container mail-lab-remote-mail-daum-net",
      "container mail-lab-remote-mail-naver-com",
      "container mail-lab-remote-ns",
    ]);
    assert.ok(remote.includes("network mail-lab-remote-net"), remote.join("\n"));
    assert.deepEqual(stackObjects("local"), [], "nothing of the stack on the local engine");
    // The images the containers run exist on that engine (built there: it had only the base image).
    for (const container of ["mail-lab-remote-ns", "mail-lab-remote-mail-naver-com", "mail-lab-remote-lee-pc"]) {
      const image = dockerOn("remote", "inspect", "-f", "{{.Image}}", container);
      assert.match(
        dockerOn("remote", "image", "inspect", "-f", '{{index .Config.Labels "mail-lab.project"}}', image),
        /^mail-lab$/,
      );
    }
    // A real client there, once more by hand: lee's PC resolves naver.com's MX at the lab's name server.
    assert.equal(
      dockerOn("remote", "exec", "mail-lab-remote-lee-pc", "dig", "+short", "MX", "naver.com"),
      "10 mail.naver.com.",
    );
  });

  it("is checked there by `npm run check` on the stack file alone", () => {
    const checked = spawnSync(
      process.execPath,
      ["--import", "tsx", path.join(root, "scripts", "check.ts"), stackFile],
      {
        cwd: root,
        encoding: "utf8",
        timeout: 5 * 60_000,
        env: { ...process.env, DOCKER_HOST: undefined },
      },
    );
    assert.equal(checked.status, 0, `${checked.stdout}${checked.stderr}`);
    assert.match(checked.stdout, /checks: (\d+) passed, 0 failed/);
  });

  it("is destroyed there, leaving nothing of the stack", () => {
    destroy(stackFile);
    assert.deepEqual(stackObjects("remote"), []);
  });
});
