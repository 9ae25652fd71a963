/**
 * Tests of the harness itself, independent of the lab's index.ts: a tiny program through
 * deployStack against the real dockerd, the harness's refusals, and the SDK's dependency order.
 *
 * Docker objects are named `harness-test-*` and labelled mail-lab.stack=harness-test*; the test
 * networks use 10.251.0.0/24 .. 10.254.0.0/24. Everything is removed after each test, also on failure.
 */
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { docker as dockerCli, dockerJson, dockerLines } from "../docker/cli";
import { buildCacheUse, CONTAINER, DockerMocks, NETWORK, REMOTE_IMAGE, subnetsOverlap } from "./docker-mocks";
import { containsSecret, Fields, SECRET_SIG, SIG_KEY, unwrapSecrets } from "./inputs";
import { deployStack, destroyStack, labelledObjects, stackLabels } from "./stack";

const FIXTURES = path.join(__dirname, "fixtures");
const quiet = () => undefined;

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "harness-test-"));
}

function writeStackFile(dir: string, stack: string, config: Record<string, string>): string {
  const file = path.join(dir, `Pulumi.${stack}.yaml`);
  const lines = Object.entries(config).map(([key, value]) => `  mail-lab:${key}: ${JSON.stringify(value)}`);
  fs.writeFileSync(file, `config:\n${lines.join("\n")}\n`);
  return file;
}

const exec = async (container: string, ...argv: string[]) => (await dockerCli(["exec", container, ...argv])).trim();

describe("unwrapSecrets and Fields", () => {
  const secret = (value: unknown) => ({ [SIG_KEY]: SECRET_SIG, value });

  test("unwraps secrets at any depth, inside arrays and secrets", () => {
    const wrapped = {
      name: "plain",
      envs: [secret("A=1"), "B=2"],
      uploads: [{ file: "/x", content: secret(secret("inner")) }],
      whole: secret({ nested: [secret(3)] }),
    };
    assert.equal(containsSecret(wrapped), true);
    const plain = unwrapSecrets(wrapped);
    assert.deepEqual(plain, {
      name: "plain",
      envs: ["A=1", "B=2"],
      uploads: [{ file: "/x", content: "inner" }],
      whole: { nested: [3] },
    });
    assert.equal(containsSecret(plain), false);
  });

  test("refuses assets, archives and resource references, naming the path", () => {
    const asset = { [SIG_KEY]: "c44067f5952c0a294b673a41bacd8c17", path: "/etc/passwd" };
    assert.throws(() => unwrapSecrets({ uploads: [{ source: asset }] }), /inputs\.uploads\[0\]\.source is an asset/);
    const reference = { [SIG_KEY]: "5cf8f73096256a8f31e491e813e4eb8e", urn: "urn:x" };
    assert.throws(() => unwrapSecrets({ network: reference }), /inputs\.network is a resource reference/);
  });

  test("Fields.done names the first field never read", () => {
    const fields = Fields.of('T "r"', { name: "n", shmSize: 64 });
    assert.equal(fields.requiredString("name"), "n");
    assert.throws(() => fields.done(), /T "r": input `shmSize` \(64\) is not applied by the harness/);
  });

  test("Fields checks types and names the field", () => {
    const fields = Fields.of('T "r"', { wait: "yes", envs: ["A=1", 2] });
    assert.throws(() => fields.boolean("wait"), /`wait` must be a boolean, got "yes"/);
    assert.throws(() => fields.strings("envs"), /`envs` must be a list of strings/);
  });

  test("subnetsOverlap", () => {
    assert.equal(subnetsOverlap("10.0.2.0/24", "10.0.2.128/25"), true);
    assert.equal(subnetsOverlap("10.0.0.0/8", "10.250.1.0/24"), true);
    assert.equal(subnetsOverlap("10.0.2.0/24", "10.0.3.0/24"), false);
    assert.equal(subnetsOverlap("10.0.2.0/24", "fd00::/64"), false);
  });
});

describe("dependency order under setMocks", () => {
  test("newResource for a dependent starts only after its dependency's newResource resolved", async () => {
    const events: string[] = [];
    const slowMocks: pulumi.runtime.Mocks = {
      call: () => {
        throw new Error("no invokes");
      },
      newResource: async (args) => {
        events.push(`start ${args.name}`);
        if (args.custom !== false) await new Promise((resolve) => setTimeout(resolve, args.name === "slow" ? 400 : 20));
        events.push(`end ${args.name}`);
        return { id: `${args.name}-id`, state: { ...args.inputs, name: `${args.name}-name` } };
      },
    };
    await pulumi.runtime.setMocks(slowMocks, "mail-lab", "order-test", false);

    class Holder extends pulumi.ComponentResource {
      readonly slow: docker.Network;
      constructor(name: string) {
        super("mail-lab:index:Holder", name, {});
        this.slow = new docker.Network("slow", { name: "slow" }, { parent: this });
        this.registerOutputs({});
      }
    }
    const holder = new Holder("holder");
    new docker.Volume("after-component", { name: "a" }, { dependsOn: [holder] });
    new docker.Volume("after-custom", { name: "b" }, { dependsOn: [holder.slow] });
    new docker.Volume("after-input", { name: holder.slow.name });
    new docker.Volume("independent", { name: "c" });
    await pulumi.runtime.disconnect();

    const at = (event: string) => {
      const index = events.indexOf(event);
      assert.notEqual(index, -1, `${event} missing from ${events.join(", ")}`);
      return index;
    };
    const slowDone = at("end slow");
    for (const dependent of ["after-component", "after-custom", "after-input"]) {
      assert.ok(at(`start ${dependent}`) > slowDone, `${dependent} started before slow finished: ${events.join(", ")}`);
    }
    // The control: without a dependency the SDK does not wait, so the checks above can fail.
    assert.ok(at("start independent") < slowDone, `independent waited for slow: ${events.join(", ")}`);
  });
});

describe("buildCacheUse", () => {
  test("buildCacheUse counts the classic builder's steps after FROM and their cache hits", () => {
    const output = [
      "Sending build context to Docker daemon  2.048kB",
      "Step 1/4 : ARG BASE_IMAGE=debian:bookworm-slim",
      "Step 2/4 : FROM ${BASE_IMAGE}",
      " ---> 3db114a19f40",
      "Step 3/4 : RUN true",
      " ---> Using cache",
      " ---> 1234",
      "Step 4/4 : LABEL a=b",
      " ---> Running in 5678",
    ].join("\n");
    assert.deepEqual(buildCacheUse(output), { steps: 2, cached: 1 }, "FROM and the ARG before it make no layer");
  });
});

describe("DockerMocks refusals", () => {
  const STACK = "harness-test-refusals";
  const labels = Object.entries(stackLabels(STACK)).map(([label, value]) => ({ label, value }));
  let mocks: DockerMocks;

  before(() => destroyStack(STACK));
  afterEach(async () => {
    await mocks.teardown().catch(quiet);
    await destroyStack(STACK);
    assert.deepEqual(await labelledObjects(STACK), []);
  });

  test("an unknown resource type throws naming it", async () => {
    mocks = new DockerMocks({ log: quiet });
    await assert.rejects(
      mocks.newResource({ type: "docker:index/service:Service", name: "svc", inputs: {}, custom: true }),
      /docker:index\/service:Service "svc": resource type docker:index\/service:Service is not supported by the harness/,
    );
    assert.deepEqual(mocks.created, []);
  });

  test("components and the stack are no-ops", async () => {
    mocks = new DockerMocks({ log: quiet });
    assert.deepEqual(
      await mocks.newResource({ type: "mail-lab:index:MailHost", name: "m", inputs: {}, custom: false }),
      {
        id: undefined,
        state: {},
      },
    );
    assert.deepEqual(mocks.created, []);
  });

  test("an input the harness does not apply throws naming type and field, before creating anything", async () => {
    mocks = new DockerMocks({ log: quiet });
    await assert.rejects(
      mocks.newResource({
        type: NETWORK,
        name: "v6",
        inputs: { name: "harness-test-v6", ipamConfigs: [{ subnet: "10.253.0.0/24" }], labels, ipv6: true },
        custom: true,
      }),
      /docker:index\/network:Network "v6": input `ipv6` \(true\) is not applied by the harness/,
    );
    mocks = new DockerMocks({ log: quiet });
    await assert.rejects(
      mocks.newResource({
        type: CONTAINER,
        name: "c",
        inputs: {
          name: "harness-test-c",
          image: "debian:bookworm-slim",
          labels,
          healthcheck: { tests: ["CMD-SHELL", "true"], startInterval: "1s" },
        },
        custom: true,
      }),
      /docker:index\/container:Container "c" healthcheck: input `startInterval` \("1s"\) is not applied/,
    );
    mocks = new DockerMocks({ log: quiet });
    await assert.rejects(
      mocks.newResource({
        type: CONTAINER,
        name: "exec-form",
        inputs: {
          name: "harness-test-c",
          image: "debian:bookworm-slim",
          labels,
          healthcheck: { tests: ["CMD", "true"] },
        },
        custom: true,
      }),
      /`tests` \["CMD","true"\] is not supported/,
    );
    assert.deepEqual(mocks.created, []);
  });

  test("a required stack label missing is refused", async () => {
    mocks = new DockerMocks({ log: quiet, requiredLabels: stackLabels(STACK) });
    await assert.rejects(
      mocks.newResource({
        type: "docker:index/volume:Volume",
        name: "v",
        inputs: { name: "harness-test-v" },
        custom: true,
      }),
      /docker:index\/volume:Volume "v": label `mail-lab.project` must be "mail-lab" \(got none\)/,
    );
  });

  test("an image kept locally (shared by stacks) must not carry the stack's label", async () => {
    mocks = new DockerMocks({ log: quiet, requiredLabels: stackLabels(STACK), stackScopedLabels: ["mail-lab.stack"] });
    await assert.rejects(
      mocks.newResource({
        type: REMOTE_IMAGE,
        name: "kept",
        inputs: {
          name: "harness-test-kept:latest",
          build: { context: path.join(FIXTURES, "tiny-image"), label: stackLabels(STACK) },
          keepLocally: true,
        },
        custom: true,
      }),
      /"kept" build\.labels: an image with `keepLocally` outlives the stack .* must not carry the stack's label `mail-lab\.stack`/,
    );
    assert.deepEqual(mocks.created, []);
  });

  test("a kept image is built again by a second stack as the provider does: all from the cache, same id; teardown leaves it", async () => {
    const name = "harness-test-shared-image:latest";
    const image = (mocksOf: DockerMocks) =>
      mocksOf.newResource({
        type: REMOTE_IMAGE,
        name: "shared",
        inputs: {
          name,
          build: {
            context: path.join(FIXTURES, "tiny-image"),
            label: { "mail-lab.project": "mail-lab", "mail-lab.test": "harness-test-shared" },
          },
          keepLocally: true,
        },
        custom: true,
      });
    const required = (stack: string) => ({ requiredLabels: stackLabels(stack), stackScopedLabels: ["mail-lab.stack"] });
    const logs: string[] = [];
    try {
      const first = new DockerMocks({ log: (line) => logs.push(line), ...required(`${STACK}-a`) });
      mocks = first;
      const built = await image(first);
      const second = new DockerMocks({ log: (line) => logs.push(line), ...required(`${STACK}-b`) });
      const again = await image(second);
      assert.equal(again.state?.["imageId"], built.state?.["imageId"]);
      const report = logs.filter((line) => line.startsWith(`built image ${name}`));
      assert.equal(report.length, 2, logs.join("\n"));
      const [, steps] = /: (\d+) of \1 steps from the layer cache$/.exec(report[1]!) ?? [];
      assert.ok(Number(steps) > 0, `the second build is all cache hits: ${report[1]}`);
      await first.teardown();
      await second.teardown();
      assert.equal((await dockerLines(["image", "inspect", "-f", "{{.Id}}", name]))[0], built.state?.["imageId"]);
    } finally {
      await dockerCli(["image", "rm", "-f", name]).catch(quiet);
    }
  });

  test("an overlapping subnet fails naming both networks", async () => {
    mocks = new DockerMocks({ log: quiet });
    const network = (name: string, subnet: string) =>
      mocks.newResource({ type: NETWORK, name, inputs: { name, ipamConfigs: [{ subnet }], labels }, custom: true });
    await network("harness-test-overlap-a", "10.252.0.0/24");
    await assert.rejects(
      network("harness-test-overlap-b", "10.252.0.128/25"),
      /network "harness-test-overlap-b" subnet 10\.252\.0\.128\/25 overlaps subnet 10\.252\.0\.0\/24 of existing network "harness-test-overlap-a"/,
    );
    assert.deepEqual(
      mocks.created.map((object) => object.name),
      ["harness-test-overlap-a"],
    );
  });

  test("a container that never becomes healthy fails with its health log and logs", async () => {
    mocks = new DockerMocks({ log: quiet, healthPollMs: 200 });
    await assert.rejects(
      mocks.newResource({
        type: CONTAINER,
        name: "sick",
        inputs: {
          name: "harness-test-sick",
          image: "debian:bookworm-slim",
          labels,
          command: ["sh", "-c", "echo sick container starting; echo on stderr >&2; sleep 300"],
          healthcheck: { tests: ["CMD-SHELL", "echo still not ready; exit 1"], interval: "1s", retries: 1 },
          wait: true,
          waitTimeout: 4,
        },
        custom: true,
      }),
      (error: Error) => {
        assert.match(
          error.message,
          /container harness-test-sick not healthy after 4s \(health: (starting|unhealthy)\)/,
        );
        assert.match(error.message, /still not ready/);
        assert.match(error.message, /sick container starting/);
        assert.match(error.message, /on stderr/);
        return true;
      },
    );
    // Created, then recorded so that teardown removes it.
    assert.deepEqual(
      mocks.created.map((object) => `${object.kind} ${object.name}`),
      ["container harness-test-sick"],
    );
    // Like the engine, nothing new starts after a failure.
    await assert.rejects(
      mocks.newResource({
        type: "docker:index/volume:Volume",
        name: "later",
        inputs: { name: "harness-test-later", labels },
        custom: true,
      }),
      /not created: an earlier resource failed/,
    );
  });

  test("a container that exits fails with its exit code and logs", async () => {
    mocks = new DockerMocks({ log: quiet, healthPollMs: 200 });
    await assert.rejects(
      mocks.newResource({
        type: CONTAINER,
        name: "quits",
        inputs: {
          name: "harness-test-quits",
          image: "debian:bookworm-slim",
          labels,
          command: ["sh", "-c", "echo giving up; sleep 1; exit 3"],
          healthcheck: { tests: ["CMD-SHELL", "exit 1"], interval: "5s" },
          wait: true,
          waitTimeout: 20,
        },
        custom: true,
      }),
      /container harness-test-quits exited \(status exited, exit code 3\) before becoming healthy[\s\S]*giving up/,
    );
  });
});

describe("deployStack with the tiny program", () => {
  const STACK = "harness-test";
  const dir = tempDir();
  const marker = path.join(dir, "deleted");
  const stackFile = writeStackFile(dir, STACK, { subnet: "10.251.0.0/24", greeting: "hello from the harness", marker });

  after(async () => {
    await destroyStack(STACK);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("deploys everything, outputs resolve, teardown removes it all", async () => {
    const { outputs, mocks } = await deployStack(stackFile, {
      program: path.join(FIXTURES, "tiny-program.ts"),
      log: quiet,
      healthPollMs: 200,
    });
    try {
      const prefix = `harness-test-${STACK}`;
      const [imageId] = await dockerLines(["image", "inspect", "-f", "{{.Id}}", `${prefix}-image:latest`]);
      assert.deepEqual(outputs, {
        networkName: `${prefix}-net`,
        address: "10.251.0.10",
        imageId,
        probe: `hello from the harness\non ${prefix}-net`,
        nested: { secret: "s3cret", list: [`${prefix}-box`, 7] },
      });

      const box = `${prefix}-box`;
      type Inspect = {
        State: { Running: boolean; Health?: { Status: string } };
        Image: string;
        Config: {
          Labels: Record<string, string>;
          Hostname: string;
          Domainname: string;
          Env: string[];
          Healthcheck: { Test: string[]; Interval: number };
        };
        HostConfig: { Init: boolean; RestartPolicy: { Name: string } };
        NetworkSettings: { Networks: Record<string, { IPAddress: string; Aliases: string[] | null }> };
      };
      const [inspect] = await dockerJson<Inspect>(["container", "inspect", box]);
      assert.ok(inspect);
      assert.equal(inspect.State.Running, true);
      assert.equal(inspect.State.Health?.Status, "healthy");
      assert.equal(inspect.Image, imageId);
      assert.deepEqual(inspect.Config.Healthcheck.Test, ["CMD", "test", "-s", "/etc/harness/greeting.txt"]);
      assert.equal(inspect.Config.Healthcheck.Interval, 1e9);
      assert.equal(inspect.Config.Hostname, "box");
      assert.equal(inspect.Config.Domainname, "harness.test");
      assert.ok(inspect.Config.Env.includes("HARNESS=1"));
      assert.equal(inspect.HostConfig.Init, true);
      assert.equal(inspect.HostConfig.RestartPolicy.Name, "unless-stopped");
      assert.equal(inspect.NetworkSettings.Networks[`${prefix}-net`]?.IPAddress, "10.251.0.10");
      assert.ok(inspect.NetworkSettings.Networks[`${prefix}-net`]?.Aliases?.includes("box"));
      assert.equal(inspect.Config.Labels["mail-lab.stack"], STACK);
      assert.equal(inspect.Config.Labels["mail-lab.project"], "mail-lab");

      assert.equal(await exec(box, "cat", "/etc/harness/greeting.txt"), "hello from the harness");
      assert.equal(await exec(box, "stat", "-c", "%a %U", "/etc/harness/greeting.txt"), "640 root");
      assert.equal(await exec(box, "stat", "-c", "%a", "/usr/local/bin/hello"), "744");
      assert.equal(await exec(box, "hello"), "hello from the box");
      assert.match(await exec(box, "sh", "-c", "grep ' /data ' /proc/mounts"), /\/data/);

      assert.deepEqual((await labelledObjects(STACK)).sort(), [
        `container ${box}`,
        `image ${prefix}-image:latest`,
        `network ${prefix}-net`,
        `volume ${prefix}-data`,
      ]);
      // Independent resources are created concurrently; the container waits for its three inputs
      // and the command for the container.
      const kinds = mocks.created.map((object) => object.kind);
      assert.deepEqual(kinds.slice(0, 3).sort(), ["image", "network", "volume"]);
      assert.deepEqual(kinds.slice(3), ["container", "command"]);
      assert.equal(fs.existsSync(marker), false);
    } finally {
      await mocks.teardown();
    }
    assert.deepEqual(await labelledObjects(STACK), []);
    // The command's delete ran at teardown, with its stdout in PULUMI_COMMAND_STDOUT.
    assert.equal(fs.readFileSync(marker, "utf8"), `hello from the harness\non harness-test-${STACK}-net`);
  });

  test("refuses a stack file with encrypted values, naming the keys", async () => {
    const encrypted = path.join(dir, "Pulumi.harness-test-secure.yaml");
    fs.writeFileSync(encrypted, "config:\n  mail-lab:greeting:\n    secure: v1:abc\n");
    await assert.rejects(
      deployStack(encrypted, { program: path.join(FIXTURES, "tiny-program.ts"), log: quiet }),
      /cannot decrypt Pulumi secrets.*encrypted keys: mail-lab:greeting/,
    );
  });
});

describe("deployStack failure path", () => {
  const STACK = "harness-test-failing";
  const dir = tempDir();
  const marker = path.join(dir, "dependent-ran");
  const stackFile = writeStackFile(dir, STACK, { subnet: "10.254.0.0/24", marker });

  after(async () => {
    await destroyStack(STACK);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("a failed resource fails the deploy, dependents never run, everything is torn down", async () => {
    // A leftover of a crashed run, which deployStack must clear first.
    await dockerCli([
      "volume",
      "create",
      ...Object.entries(stackLabels(STACK)).flatMap(([label, value]) => ["--label", `${label}=${value}`]),
      "harness-test-failing-leftover",
    ]);
    await assert.rejects(
      deployStack(stackFile, { program: path.join(FIXTURES, "failing-program.ts"), log: quiet, healthPollMs: 200 }),
      (error: Error) => {
        assert.match(
          error.message,
          /^deploy of stack harness-test-failing failed: docker:index\/container:Container "sick"/,
        );
        assert.match(error.message, /not healthy after 4s/);
        assert.match(error.message, /sick container starting/);
        return true;
      },
    );
    assert.equal(fs.existsSync(marker), false, "the command depending on the sick container ran");
    assert.deepEqual(await labelledObjects(STACK), []);
  });
});
