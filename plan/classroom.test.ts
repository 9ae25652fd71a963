/** A classroom of labs from one stack: each lab valid, on its own subnet, ports and passwords. */
import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, it } from "node:test";
import { type Classroom, classroomLabs, renderClassroomList, renderLabStackFile } from "./classroom";
import { type Ipv4Subnet, parseCidr, subnetsOverlap } from "../config/ipv4";
import { parseStackFile, readStackFile } from "../config/load";
import { allHosts, resolvePlan } from "./plan";

const root = path.join(__dirname, "..");
const dev = readStackFile(path.join(root, "stacks", "Pulumi.dev.yaml"));
const campus = readStackFile(path.join(root, "stacks", "Pulumi.campus.yaml"));
const desk = readStackFile(path.join(root, "test", "e2e", "stacks", "Pulumi.desk.yaml"));

const cidr = (text: string) => parseCidr(text) as Ipv4Subnet;
const plansOf = (classroom: Classroom) =>
  classroom.labs.map((lab) => resolvePlan(lab.config, { project: "mail-lab", stack: lab.stack }));
/** Every file, with the passwords taken out: what must not depend on randomness. */
const withoutPasswords = (classroom: Classroom) =>
  classroom.labs.map((lab) =>
    lab.passwords.reduce(
      (text, { password }) => text.replaceAll(password, "<password>"),
      renderLabStackFile(classroom, lab, "x"),
    ),
  );

describe("classroomLabs", () => {
  const thirty = classroomLabs(dev, { count: 30 });

  it("gives 30 labs that each pass the real validation, with distinct stacks and Docker names", () => {
    assert.equal(thirty.labs.length, 30);
    assert.deepEqual(
      thirty.labs.slice(0, 3).map((lab) => lab.stack),
      ["dev-01", "dev-02", "dev-03"],
    );
    const plans = plansOf(thirty);
    const names = plans.flatMap((plan) => [plan.network.name, ...allHosts(plan).map((host) => host.containerName)]);
    assert.equal(new Set(names).size, names.length, "no two labs share a network or container name");
    assert.equal(new Set(thirty.labs.map((lab) => lab.stack)).size, 30);
  });

  it("puts each lab on its own subnet, none overlapping another or the source's", () => {
    const subnets = [cidr("10.0.2.0/24"), ...thirty.labs.map((lab) => cidr(lab.subnet))];
    for (const [i, a] of subnets.entries()) {
      for (const b of subnets.slice(i + 1)) assert.equal(subnetsOverlap(a, b), false, `${a.network} / ${b.network}`);
    }
    assert.equal(thirty.labs[0]!.subnet, "10.0.3.0/24");
    assert.equal(thirty.labs[29]!.subnet, "10.0.32.0/24");
  });

  it("moves every address and the access rules with the subnet, so each lab relays as the source does", () => {
    const [plan] = plansOf(classroomLabs(dev, { count: 5, firstSubnet: "10.0.40.0/24" })).slice(4);
    assert.equal(plan!.network.subnet, "10.0.44.0/24");
    assert.equal(plan!.network.gateway, "10.0.44.1");
    assert.equal(plan!.nameServer.address, "10.0.44.53");
    assert.deepEqual(
      plan!.mailHosts.map((host) => host.address),
      ["10.0.44.100", "10.0.44.200"],
    );
    assert.deepEqual(
      plan!.clients.map((client) => client.address),
      ["10.0.44.10", "10.0.44.11"],
    );
    const lab = classroomLabs(dev, { count: 5, firstSubnet: "10.0.40.0/24" }).labs[4]!;
    const matches = (lab.config["domains"] as { access: { match: string }[] }[]).map((domain) =>
      domain.access.map((rule) => rule.match),
    );
    assert.deepEqual(matches, [
      ["naver.com", "daum.net", "10.0.44"],
      ["naver.com", "daum.net", "10.0.44"],
    ]);
  });

  it("moves single-address Connect rules of campus with their PCs, and leaves domain and sender rules", () => {
    const lab = classroomLabs(campus, { count: 3 }).labs[2]!;
    assert.equal(lab.subnet, "172.30.8.0/24");
    const domains = lab.config["domains"] as { access: { match: string }[]; mailHost: { address: string } }[];
    assert.deepEqual(
      domains.map((domain) => domain.access.map((rule) => rule.match)),
      [
        ["172.30.8.21", "@spam.test"],
        ["172.30.8.22", "babo@"],
        ["172.30.8.10", "spammer@"],
      ],
    );
    const plan = resolvePlan(lab.config, { project: "mail-lab", stack: lab.stack });
    assert.equal(plan.clients.find((client) => client.key === "lee-pc")!.address, "172.30.8.21");
    assert.equal(plan.clients.find((client) => client.key === "park-pc")!.address, "172.30.8.10");
  });

  it("gives no two labs (nor the source) the same host port, all below 65536", () => {
    const classroom = classroomLabs(desk, { count: 30 });
    const sourcePorts = [12525, 12587, 12993, 12995, 13525, 13587, 13993, 13995];
    const all = [...sourcePorts, ...classroom.labs.flatMap((lab) => lab.hostPorts)];
    assert.equal(new Set(all).size, all.length, "every host port once");
    assert.ok(Math.max(...all) <= 65535);
    assert.equal(classroom.portStep % 10, 0, "a round step per lab, easy to read off");
    assert.deepEqual(classroom.labs[0]!.hostPorts.slice(0, 2), [
      12525 + classroom.portStep,
      12587 + classroom.portStep,
    ]);
  });

  it("can leave publish out instead", () => {
    const classroom = classroomLabs(desk, { count: 3, dropPublish: true });
    assert.equal(classroom.portStep, 0);
    for (const plan of plansOf(classroom)) {
      assert.deepEqual(
        plan.mailHosts.flatMap((host) => host.publishedPorts),
        [],
      );
    }
  });

  it("refuses more labs than host ports allow, naming --no-publish", () => {
    assert.throws(() => classroomLabs(desk, { count: 999 }), /cannot each get their own host ports.*--no-publish/);
  });

  it("gives every user of every lab a password of their own, readable", () => {
    const passwords = thirty.labs.flatMap((lab) => lab.passwords.map((entry) => entry.password));
    assert.equal(passwords.length, 60);
    assert.equal(new Set(passwords).size, 60);
    for (const password of passwords) assert.match(password, /^[a-km-np-z2-9]{4}-[a-km-np-z2-9]{4}-[a-km-np-z2-9]{4}$/);
    assert.deepEqual(
      thirty.labs[0]!.passwords.map((entry) => entry.user),
      ["lee@naver.com", "kim@daum.net"],
    );
  });

  it("is deterministic but for the passwords; with a seed, entirely", () => {
    const again = classroomLabs(dev, { count: 30 });
    assert.deepEqual(withoutPasswords(again), withoutPasswords(thirty));
    assert.notDeepEqual(again.labs[0]!.passwords, thirty.labs[0]!.passwords);
    const seeded = (seed: string) =>
      classroomLabs(dev, { count: 4, seed }).labs.map((lab) =>
        renderLabStackFile(classroomLabs(dev, { count: 4, seed }), lab, "x"),
      );
    assert.deepEqual(seeded("room 101"), seeded("room 101"));
    assert.notDeepEqual(seeded("room 101"), seeded("room 102"));
  });

  it("replaces encrypted source passwords by generated ones", () => {
    const sealed = structuredClone(dev.config) as { domains: { users: { password: unknown }[] }[] };
    sealed.domains[0]!.users[0]!.password = { secure: "v1:abc" };
    const lab = classroomLabs({ stack: "dev", config: sealed }, { count: 1 }).labs[0]!;
    assert.match(
      String((lab.config["domains"] as typeof sealed.domains)[0]!.users[0]!.password),
      /^\w{4}-\w{4}-\w{4}$/,
    );
  });

  it("spaces the labs of a /25 by /24 blocks when a rule names the /24 prefix", () => {
    const config = structuredClone(dev.config) as Record<string, any>;
    config.network.subnet = "10.0.2.0/25";
    config.domains[1].mailHost.address = "10.0.2.120";
    const classroom = classroomLabs({ stack: "half", config }, { count: 3 });
    assert.equal(classroom.subnetStep, 256);
    assert.deepEqual(
      classroom.labs.map((lab) => lab.subnet),
      ["10.0.3.0/25", "10.0.4.0/25", "10.0.5.0/25"],
    );
    plansOf(classroom);
  });

  it("refuses a first subnet the rules cannot follow, or labs leaving the private range", () => {
    assert.throws(() => classroomLabs(dev, { count: 2, firstSubnet: "10.0.3.0/25" }), /--first-subnet: must be a \/24/);
    const config = structuredClone(dev.config) as Record<string, any>;
    config.network.subnet = "10.0.2.0/25";
    config.domains[1].mailHost.address = "10.0.2.120";
    assert.throws(
      () => classroomLabs({ stack: "half", config }, { count: 2, firstSubnet: "10.0.9.128/25" }),
      /--first-subnet: "10\.0\.9\.128\/25" must sit at the same place .* e\.g\. 10\.0\.9\.0\/25/,
    );
    const home = structuredClone(dev.config) as Record<string, any>;
    const moved = JSON.parse(JSON.stringify(home).replaceAll("10.0.2", "192.168.250"));
    assert.throws(() => classroomLabs({ stack: "home", config: moved }, { count: 10 }), /outside 192\.168\.0\.0\/16/);
    assert.throws(() => classroomLabs(dev, { count: 0 }), /--count: must be a whole number/);
  });
});

describe("the classroom's files", () => {
  const classroom = classroomLabs(campus, { count: 3, seed: "test" });

  it("each stack file reads back as its lab, with a header saying what to do with the passwords", () => {
    for (const lab of classroom.labs) {
      const text = renderLabStackFile(classroom, lab, "stacks/Pulumi.campus.yaml");
      assert.match(text, /^# Lab \d of 3 of a classroom made from stacks\/Pulumi\.campus\.yaml/);
      assert.match(text, /pulumi config set --stack campus-0\d --secret --path 'domains\[0\]\.users\[0\]\.password'/);
      const file = parseStackFile(text, lab.stack);
      assert.deepEqual(file.config, lab.config);
      resolvePlan(file.config, { project: "mail-lab", stack: lab.stack });
    }
  });

  it("keeps keys of other namespaces", () => {
    const withHost = classroomLabs(
      { stack: "dev", config: dev.config, otherConfig: { "docker:host": "unix:///run/docker.sock" } },
      { count: 1 },
    );
    assert.match(
      renderLabStackFile(withHost, withHost.labs[0]!, "x"),
      /^ {2}docker:host: unix:\/\/\/run\/docker\.sock$/m,
    );
  });

  it("the instructor's list names every lab's users and passwords", () => {
    const list = renderClassroomList(classroom, "stacks/Pulumi.campus.yaml").split("\n");
    const rows = list.filter((line) => /^\d/.test(line)).map((line) => line.split("\t"));
    assert.equal(rows.length, 3 * 4, "lee, kim, park and choi in each lab");
    assert.deepEqual(rows[0]!.slice(0, 5), ["1", "campus-01", "172.30.6.0/24", "-", "lee@naver.com"]);
    assert.equal(rows[0]![5], classroom.labs[0]!.passwords[0]!.password);
  });
});
