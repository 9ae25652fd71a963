/**
 * Mock unit tests of the components (no Docker): the program runs under Pulumi's mocks in a
 * child process, and these tests assert on the inputs it gave each resource.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parseTargets, targetsFromPlan } from "../check/targets";
import { renderMermaidDiagram } from "../render/diagram";
import { PATHS } from "../render/files";
import { readStackFile } from "../config/load";
import { resolvePlan } from "../plan/plan";
import type { LabRole } from "./container-defaults";
import { labConfigDigest, PLAN_VARIABLE } from "./LabVerification";
import { imageDigest, imageTag } from "./MailLab";
import { WAIT_UNTIL_READY } from "./readiness";

const root = path.join(__dirname, "..");

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, any>;
  /** Top-level inputs that arrived as secrets (test/mock-run.ts). */
  secretInputs?: string[];
}

function runProgram(stackFile: string): { registered: Registered[]; outputs?: Record<string, any>; error?: string } {
  const stdout = execFileSync(
    process.execPath,
    ["--import", "tsx", path.join(root, "test", "mock-run.ts"), stackFile],
    {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, PULUMI_CONFIG: undefined },
    },
  );
  return JSON.parse(stdout);
}

const labelsOf = (inputs: Record<string, any>) =>
  Object.fromEntries((inputs.labels as { label: string; value: string }[]).map(({ label, value }) => [label, value]));

describe("the dev stack under mocks", () => {
  const run = runProgram(path.join(root, "stacks", "Pulumi.dev.yaml"));
  const ofType = (type: string) => run.registered.filter((resource) => resource.type === `docker:index/${type}`);
  const containers = ofType("container:Container");
  const containerNamed = (name: string) => containers.find((resource) => resource.inputs.name === name)!;

  it("deploys without error", () => assert.equal(run.error, undefined));

  it("creates one network with the subnet and gateway", () => {
    const [network, ...others] = ofType("network:Network");
    assert.equal(others.length, 0);
    assert.equal(network!.inputs.name, "mail-lab-dev-net");
    assert.deepEqual(network!.inputs.ipamConfigs, [{ subnet: "10.0.2.0/24", gateway: "10.0.2.1" }]);
    assert.deepEqual(labelsOf(network!.inputs), {
      "mail-lab.project": "mail-lab",
      "mail-lab.stack": "dev",
      "mail-lab.role": "network",
    });
  });

  it("builds one image per role from images/, named by its content and labelled without the stack", () => {
    const images = ofType("remoteImage:RemoteImage");
    const imagesDir = path.join(root, "images");
    assert.deepEqual(
      images.map((image) => image.inputs.name).sort(),
      ["client", "mail-host", "name-server"].map(
        (role) => `mail-lab-${role}:${imageTag(imagesDir, role as LabRole, "debian:bookworm-slim")}`,
      ),
    );
    for (const image of images) {
      const role = image.inputs.build.label["mail-lab.role"] as LabRole;
      assert.match(image.inputs.name, /^mail-lab-(name-server|mail-host|client):[0-9a-f]{12}$/);
      assert.equal(image.inputs.build.context, "images", "relative to the project folder, so state is portable");
      assert.equal(image.inputs.build.dockerfile, `${role}/Dockerfile`);
      assert.equal(image.inputs.build.buildArgs.BASE_IMAGE, "debian:bookworm-slim");
      assert.match(image.inputs.triggers.contentHash, /^[0-9a-f]{64}$/);
      const digest = imageDigest(imagesDir, role, "debian:bookworm-slim");
      // Image labels are part of the image config: a stack's label would make each stack's image another one.
      assert.deepEqual(image.inputs.build.label, {
        "mail-lab.project": "mail-lab",
        "mail-lab.role": role,
        "mail-lab.content-hash": digest,
      });
      assert.equal(image.inputs.name, `mail-lab-${role}:${digest.slice(0, 12)}`);
      // Destroying one stack must not remove an image another stack runs: npm run images:prune does that.
      assert.equal(image.inputs.keepLocally, true);
    }
  });

  it("names the same images as any other stack on the same base image, and other ones on another base", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-mock-"));
    try {
      const imagesOf = (result: ReturnType<typeof runProgram>) =>
        result.registered
          .filter((resource) => resource.type === "docker:index/remoteImage:RemoteImage")
          .map((resource) => ({ name: resource.inputs.name, build: resource.inputs.build }))
          .sort((a, b) => a.name.localeCompare(b.name));
      const campus = runProgram(path.join(root, "stacks", "Pulumi.campus.yaml"));
      assert.equal(campus.error, undefined);
      assert.deepEqual(imagesOf(campus), imagesOf(run), "campus builds exactly dev's images");
      const otherBase = path.join(dir, "Pulumi.elsewhere.yaml");
      fs.writeFileSync(
        otherBase,
        `${fs.readFileSync(path.join(root, "stacks", "Pulumi.dev.yaml"), "utf8")}\n  mail-lab:baseImage: debian:trixie-slim\n`,
      );
      const elsewhere = imagesOf(runProgram(otherBase));
      const dev = imagesOf(run);
      for (const [index, image] of elsewhere.entries()) {
        assert.notEqual(image.name, dev[index]!.name, "another base image is another image");
        assert.equal(image.name.split(":")[0], dev[index]!.name.split(":")[0]);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives every host its fixed address, FQDN hostname and the lab's name server", () => {
    const expected: [string, string, string, string][] = [
      ["mail-lab-dev-ns", "ns.naver.com", "10.0.2.53", "name-server"],
      ["mail-lab-dev-mail-naver-com", "mail.naver.com", "10.0.2.100", "mail-host"],
      ["mail-lab-dev-mail-daum-net", "mail.daum.net", "10.0.2.200", "mail-host"],
      ["mail-lab-dev-lee-pc", "lee-pc.naver.com", "10.0.2.10", "client"],
      ["mail-lab-dev-kim-pc", "kim-pc.daum.net", "10.0.2.11", "client"],
    ];
    assert.equal(containers.length, expected.length);
    for (const [name, hostname, address, role] of expected) {
      const { inputs } = containerNamed(name);
      assert.equal(inputs.hostname, hostname);
      assert.deepEqual(inputs.networksAdvanced, [{ name: "mail-lab-dev-net", ipv4Address: address }]);
      assert.deepEqual(inputs.dns, ["10.0.2.53"]);
      assert.equal(inputs.restart, "unless-stopped");
      assert.equal(inputs.wait, false, "the deploy polls the healthcheck itself (readiness.ts)");
      assert.deepEqual(inputs.healthcheck.tests, ["CMD-SHELL", "/usr/local/bin/healthcheck"]);
      assert.equal(inputs.image, `sha256:mock-dev-${role}-image`);
      const labels = labelsOf(inputs);
      assert.equal(labels["mail-lab.project"], "mail-lab");
      assert.equal(labels["mail-lab.stack"], "dev");
      assert.equal(labels["mail-lab.role"], role);
    }
    assert.equal(labelsOf(containerNamed("mail-lab-dev-mail-daum-net").inputs)["mail-lab.domain"], "daum.net");
    assert.equal(labelsOf(containerNamed("mail-lab-dev-lee-pc").inputs)["mail-lab.domain"], undefined);
  });

  it("uploads each role's rendered config, TLS material and CA", () => {
    const paths = (name: string) =>
      (containerNamed(name).inputs.uploads as { file: string }[]).map((upload) => upload.file).sort();
    assert.deepEqual(
      paths("mail-lab-dev-ns"),
      [
        PATHS.namedConf,
        "/etc/bind/zones/db.2.0.10.in-addr.arpa",
        "/etc/bind/zones/db.daum.net",
        "/etc/bind/zones/db.naver.com",
        "/etc/bind/zones/db.root",
        PATHS.resolvConf,
        PATHS.caTrust,
      ].sort(),
    );
    assert.deepEqual(
      paths("mail-lab-dev-mail-naver-com"),
      [
        PATHS.access,
        PATHS.aliases,
        PATHS.caTrust,
        PATHS.dovecotConf,
        PATHS.localHostNames,
        PATHS.resolvConf,
        PATHS.sendmailMc,
        PATHS.tlsCa,
        PATHS.tlsCert,
        PATHS.tlsKey,
        PATHS.users,
      ].sort(),
    );
    assert.deepEqual(
      paths("mail-lab-dev-lee-pc"),
      [PATHS.caTrust, PATHS.muttrc, PATHS.resolvConf, PATHS.swaksrc].sort(),
    );

    const uploads = containerNamed("mail-lab-dev-mail-naver-com").inputs.uploads as Record<string, any>[];
    const users = uploads.find((upload) => upload.file === PATHS.users)!;
    assert.equal(users.permissions, "0600");
    assert.match(users.content, /^lee:2000:\$6\$/m);
    assert.doesNotMatch(users.content, /:lee$/m, "no plaintext password in the users file");
    assert.equal(uploads.find((upload) => upload.file === PATHS.tlsKey)!.permissions, "0600");
    const mc = uploads.find((upload) => upload.file === PATHS.sendmailMc)!;
    assert.match(mc.content, /confMAX_MESSAGE_SIZE/);
  });

  it("runs the queue at the configured interval and publishes no port unless asked", () => {
    const naver = containerNamed("mail-lab-dev-mail-naver-com").inputs;
    assert.deepEqual(naver.envs, ["QUEUE_INTERVAL=1m"]);
    assert.equal(naver.stopTimeout, 30, "deliveries in progress may finish before Docker kills the host");
    assert.deepEqual(naver.ports ?? [], []);
    for (const container of containers) assert.deepEqual(container.inputs.ports ?? [], [], container.inputs.name);
  });

  it("keeps each mail host's mail, queue and homes on named volumes", () => {
    const volumes = ofType("volume:Volume")
      .map((volume) => volume.inputs.name)
      .sort();
    assert.deepEqual(volumes, [
      "mail-lab-dev-mail-daum-net-home",
      "mail-lab-dev-mail-daum-net-mail",
      "mail-lab-dev-mail-daum-net-queue",
      "mail-lab-dev-mail-naver-com-home",
      "mail-lab-dev-mail-naver-com-mail",
      "mail-lab-dev-mail-naver-com-queue",
    ]);
    assert.deepEqual(
      (containerNamed("mail-lab-dev-mail-naver-com").inputs.volumes as Record<string, string>[]).map((volume) => [
        volume.volumeName,
        volume.containerPath,
      ]),
      [
        ["mail-lab-dev-mail-naver-com-mail", "/var/mail"],
        ["mail-lab-dev-mail-naver-com-queue", "/var/spool/mqueue"],
        ["mail-lab-dev-mail-naver-com-home", "/home"],
      ],
    );
  });

  it("issues a CA once and a certificate per mail host, without logging the keys", () => {
    const commands = run.registered.filter(
      (resource) =>
        resource.type === "command:local:Command" &&
        resource.name !== "dev-verification-check" &&
        !resource.name.endsWith("-ready"),
    );
    assert.deepEqual(commands.map((command) => command.name).sort(), [
      "dev-ca-ca",
      "dev-mail-daum-net-certificate",
      "dev-mail-naver-com-certificate",
    ]);
    for (const command of commands) assert.equal(command.inputs.logging, "stderr");
    const naver = commands.find((command) => command.name === "dev-mail-naver-com-certificate")!;
    assert.equal(naver.inputs.environment.HOST_FQDN, "mail.naver.com");
    assert.equal(naver.inputs.environment.HOST_ADDRESS, "10.0.2.100");
  });

  it("waits for each host by polling its healthcheck, again when its container is replaced", () => {
    const ready = run.registered.filter((resource) => resource.name.endsWith("-ready"));
    assert.deepEqual(ready.map((resource) => resource.name).sort(), [
      "dev-kim-pc-ready",
      "dev-lee-pc-ready",
      "dev-mail-daum-net-ready",
      "dev-mail-naver-com-ready",
      "dev-ns-ready",
    ]);
    for (const command of ready) {
      const host = command.name.replace(/-ready$/, "");
      assert.equal(command.inputs.create, WAIT_UNTIL_READY);
      assert.deepEqual(command.inputs.triggers, [`${host}-container-id`]);
      assert.equal(command.inputs.environment.READY_TIMEOUT, "180");
      assert.equal(command.inputs.environment.DOCKER_HOST, undefined, "no docker:host in the dev stack");
    }
    // The SDK registers a resource once what it depends on is registered: the mail hosts wait for
    // the name server to answer, and so do the clients; the checks wait for every host.
    const at = (name: string) => run.registered.findIndex((resource) => resource.name === name);
    assert.ok(at("dev-ns-ready") < at("dev-mail-naver-com-container"));
    assert.ok(at("dev-ns-ready") < at("dev-lee-pc-container"));
    for (const command of ready) assert.ok(at(command.name) < at("dev-verification-check"), command.name);
  });

  it("exports the stack outputs the README documents", () => {
    assert.deepEqual(run.outputs!.network, { name: "mail-lab-dev-net", subnet: "10.0.2.0/24" });
    assert.deepEqual(run.outputs!.nameServer, { container: "mail-lab-dev-ns", address: "10.0.2.53" });
    assert.deepEqual(run.outputs!.mailHosts, {
      "naver.com": { container: "mail-lab-dev-mail-naver-com", fqdn: "mail.naver.com", address: "10.0.2.100" },
      "daum.net": { container: "mail-lab-dev-mail-daum-net", fqdn: "mail.daum.net", address: "10.0.2.200" },
    });
    assert.deepEqual(run.outputs!.clients, {
      "lee-pc": { container: "mail-lab-dev-lee-pc", address: "10.0.2.10", email: "lee@naver.com" },
      "kim-pc": { container: "mail-lab-dev-kim-pc", address: "10.0.2.11", email: "kim@daum.net" },
    });
    assert.match(run.outputs!.caCertificate, /^-----BEGIN CERTIFICATE-----/);
    const file = readStackFile(path.join(root, "stacks", "Pulumi.dev.yaml"));
    const plan = resolvePlan(file.config, { project: "mail-lab", stack: file.stack });
    assert.equal(run.outputs!.diagram, renderMermaidDiagram(plan));
  });

  it("runs the lab's checks after every host, again when a container or the rendered config changes", () => {
    const verifications = run.registered.filter((resource) => resource.type === "mail-lab:index:LabVerification");
    assert.deepEqual(
      verifications.map((resource) => resource.name),
      ["dev-verification"],
    );
    const checks = run.registered.filter((resource) => resource.name === "dev-verification-check");
    assert.equal(checks.length, 1);
    const check = checks[0]!;
    assert.equal(check.type, "command:local:Command");
    assert.equal(
      check.inputs.create,
      `node --import tsx scripts/check.ts --plan-json-env ${PLAN_VARIABLE} --timeout 120`,
    );
    assert.equal(check.inputs.dir, root);
    assert.equal(check.inputs.logging, "stdoutAndStderr");
    assert.equal(check.inputs.delete, undefined, "nothing to undo: the checks leave only mail in the users' mailboxes");

    // The checks' targets, with passwords, travel as a secret environment variable, not on a command line.
    const file = readStackFile(path.join(root, "stacks", "Pulumi.dev.yaml"));
    const plan = resolvePlan(file.config, { project: "mail-lab", stack: "dev" });
    assert.deepEqual(Object.keys(check.inputs.environment), [PLAN_VARIABLE]);
    assert.deepEqual(parseTargets(check.inputs.environment[PLAN_VARIABLE]), targetsFromPlan(plan));
    assert.deepEqual(check.secretInputs, ["environment"]);

    // Triggers: every host container's id (mock ids are `<resource name>-id`), then the config digest.
    const containerResources = containers.map((resource) => resource.name);
    assert.deepEqual(check.inputs.triggers, [
      ...[
        "dev-ns-container",
        "dev-mail-naver-com-container",
        "dev-mail-daum-net-container",
        "dev-lee-pc-container",
        "dev-kim-pc-container",
      ].map((name) => `${name}-id`),
      labConfigDigest(plan),
    ]);
    assert.deepEqual([...containerResources].sort(), [
      "dev-kim-pc-container",
      "dev-lee-pc-container",
      "dev-mail-daum-net-container",
      "dev-mail-naver-com-container",
      "dev-ns-container",
    ]);
    // The SDK registers a resource only once everything it depends on is registered.
    const checkIndex = run.registered.indexOf(check);
    for (const name of containerResources) {
      assert.ok(
        run.registered.findIndex((resource) => resource.name === name) < checkIndex,
        `the checks must wait for ${name}`,
      );
    }
  });

  it("gives the config digest a change of any rendered file, password or client, and nothing else", () => {
    const file = readStackFile(path.join(root, "stacks", "Pulumi.dev.yaml"));
    const digestOf = (edit: (config: any) => void) => {
      const config = structuredClone(file.config) as any;
      edit(config);
      return labConfigDigest(resolvePlan(config, { project: "mail-lab", stack: "dev" }));
    };
    const unchanged = digestOf(() => undefined);
    assert.equal(
      digestOf(() => undefined),
      unchanged,
    );
    assert.notEqual(
      digestOf((config) => (config.domains[0].users[0].password = "another")),
      unchanged,
    );
    assert.notEqual(
      digestOf((config) => config.domains[0].access.pop()),
      unchanged,
    );
    assert.notEqual(
      digestOf((config) => (config.clients[1].name = "kim-laptop")),
      unchanged,
    );
  });

  it("gives identical resource inputs on a second run, so a second pulumi up is a no-op", () => {
    assert.deepEqual(runProgram(path.join(root, "stacks", "Pulumi.dev.yaml")).registered, run.registered);
  });
});

describe("the dev stack with verify: false under mocks", () => {
  it("declares no checks and otherwise exactly the same resources", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-mock-"));
    try {
      // Same file name, so the same stack name and resource names as the dev run.
      const stackFile = path.join(dir, "Pulumi.dev.yaml");
      fs.writeFileSync(
        stackFile,
        `${fs.readFileSync(path.join(root, "stacks", "Pulumi.dev.yaml"), "utf8")}\n  mail-lab:verify: false\n`,
      );
      const unverified = runProgram(stackFile);
      assert.equal(unverified.error, undefined);
      assert.deepEqual(
        unverified.registered.filter(
          (resource) => resource.type === "mail-lab:index:LabVerification" || /verification/.test(resource.name),
        ),
        [],
      );
      const verified = runProgram(path.join(root, "stacks", "Pulumi.dev.yaml"));
      assert.deepEqual(
        unverified.registered,
        verified.registered.filter((resource) => !resource.name.startsWith("dev-verification")),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the dev stack as an exercise lab (mail-lab:exercise: true) under mocks", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-mock-"));
  const stackFile = path.join(dir, "Pulumi.dev.yaml");
  fs.writeFileSync(
    stackFile,
    `${fs.readFileSync(path.join(root, "stacks", "Pulumi.dev.yaml"), "utf8")}\n  mail-lab:exercise: true\n`,
  );
  const run = runProgram(stackFile);
  fs.rmSync(dir, { recursive: true, force: true });
  const containers = run.registered.filter((resource) => resource.type === "docker:index/container:Container");
  const inputsOf = (name: string) => containers.find((resource) => resource.inputs.name === name)!.inputs;
  const uploadsOf = (name: string) =>
    inputsOf(name).uploads as { file: string; content: string; permissions: string }[];

  it("deploys without error and runs no self-check: the students have not configured anything yet", () => {
    assert.equal(run.error, undefined);
    assert.deepEqual(
      run.registered.filter((resource) => /verification/.test(resource.name)),
      [],
    );
  });

  it("gives the name server and mail hosts only their resolver and the lab CA: no lab zones, Sendmail or Dovecot files, no accounts", () => {
    assert.deepEqual(
      uploadsOf("mail-lab-dev-ns")
        .map((upload) => upload.file)
        .sort(),
      [PATHS.caTrust, PATHS.resolvConf].sort(),
    );
    assert.deepEqual(
      uploadsOf("mail-lab-dev-mail-naver-com")
        .map((upload) => upload.file)
        .sort(),
      [PATHS.caTrust, PATHS.dovecotStockCert, PATHS.dovecotStockKey, PATHS.resolvConf].sort(),
    );
    const key = uploadsOf("mail-lab-dev-mail-naver-com").find((upload) => upload.file === PATHS.dovecotStockKey)!;
    assert.equal(key.permissions, "0600");
  });

  it("boots those hosts in exercise mode, and keeps the PCs' presets, sending with STARTTLS only where offered", () => {
    assert.deepEqual(inputsOf("mail-lab-dev-ns").envs, ["MAIL_LAB_EXERCISE=1"]);
    assert.deepEqual(inputsOf("mail-lab-dev-mail-naver-com").envs, ["QUEUE_INTERVAL=1m", "MAIL_LAB_EXERCISE=1"]);
    assert.ok(!(inputsOf("mail-lab-dev-lee-pc").envs ?? []).includes("MAIL_LAB_EXERCISE=1"));
    const swaksrc = uploadsOf("mail-lab-dev-lee-pc").find((upload) => upload.file === PATHS.swaksrc)!;
    assert.match(swaksrc.content, /^tls-optional-strict$/m);
    assert.doesNotMatch(swaksrc.content, /^tls$/m);
    const muttrc = uploadsOf("mail-lab-dev-lee-pc").find((upload) => upload.file === PATHS.muttrc)!;
    assert.match(muttrc.content, /^set ssl_force_tls = no$/m);
  });
});

describe("bad config under mocks", () => {
  it("fails with every problem before registering any resource", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-mock-"));
    try {
      const stackFile = path.join(dir, "Pulumi.broken.yaml");
      fs.writeFileSync(
        stackFile,
        fs
          .readFileSync(path.join(root, "stacks", "Pulumi.dev.yaml"), "utf8")
          .replace("address: 10.0.2.200", "address: 10.0.3.200")
          .replace("maxMessageSize: 10MB", "maxMesageSize: 10MB"),
      );
      const run = runProgram(stackFile);
      assert.match(run.error ?? "", /mail-lab:domains\[1\]\.mailHost\.address: "10\.0\.3\.200" is outside the subnet/s);
      assert.match(run.error ?? "", /did you mean `maxMessageSize`/);
      assert.deepEqual(
        run.registered.filter((resource) => !resource.type.startsWith("mail-lab:")),
        [],
        "no resource may be created from a bad config",
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a stack on another Docker engine (docker:host) under mocks", () => {
  it("points every docker CLI command the program runs at that engine", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-mock-"));
    try {
      const engine = `unix://${path.join(dir, "no-engine.sock")}`;
      const stackFile = path.join(dir, "Pulumi.dev.yaml");
      const dev = fs.readFileSync(path.join(root, "stacks", "Pulumi.dev.yaml"), "utf8");
      fs.writeFileSync(stackFile, dev.replace(/^config:\n/m, `config:\n  docker:host: ${engine}\n`));
      const run = runProgram(stackFile);
      assert.equal(run.error, undefined);
      const commands = run.registered.filter(
        (resource) => resource.name.endsWith("-ready") || resource.name === "dev-verification-check",
      );
      assert.equal(commands.length, 6, "five readiness waits and the self-check");
      for (const command of commands) assert.equal(command.inputs.environment.DOCKER_HOST, engine, command.name);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
