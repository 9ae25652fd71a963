import { spawnSync } from "node:child_process";
import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, it } from "node:test";
import { readStackFile } from "../config/load";
import { resolvePlan } from "../plan/plan";
import { parseTargets, relayRoutes, targetsFromPlan } from "./targets";

const root = path.join(__dirname, "..");
const targetsOf = (stackFile: string) => {
  const file = readStackFile(path.join(root, stackFile));
  return targetsFromPlan(resolvePlan(file.config, { project: "mail-lab", stack: file.stack }));
};

describe("targetsFromPlan", () => {
  it("takes containers, domains, mail hosts, users and clients from the plan", () => {
    const targets = targetsOf("stacks/Pulumi.dev.yaml");
    assert.equal(targets.stack, "dev");
    assert.deepEqual(targets.nameServer, { container: "mail-lab-dev-ns", fqdn: "ns.naver.com", address: "10.0.2.53" });
    assert.deepEqual(targets.domains[0], {
      name: "naver.com",
      mailHost: { container: "mail-lab-dev-mail-naver-com", fqdn: "mail.naver.com", address: "10.0.2.100" },
      users: [{ login: "lee", password: "lee", email: "lee@naver.com" }],
    });
    assert.deepEqual(targets.clients[1], {
      key: "kim-pc",
      container: "mail-lab-dev-kim-pc",
      email: "kim@daum.net",
      login: "kim",
      domain: "daum.net",
      mailHostFqdn: "mail.daum.net",
      submission: { port: 25, authenticate: false },
    });
  });

  it("survives the JSON round trip that `pulumi up` uses, and refuses JSON that lacks a field", () => {
    const targets = targetsOf("stacks/Pulumi.campus.yaml");
    assert.deepEqual(parseTargets(JSON.stringify(targets)), targets);
    const broken = JSON.parse(JSON.stringify(targets));
    delete broken.domains[0].users[0].password;
    assert.throws(() => parseTargets(JSON.stringify(broken)), /domains\.0\.users\.0\.password/);
    assert.throws(() => parseTargets("{"), /does not parse/);
  });
});

describe("relayRoutes", () => {
  it("sends both ways between the two domains of the dev stack, read on the recipient's PC", () => {
    const routes = relayRoutes(targetsOf("stacks/Pulumi.dev.yaml")).map((route) => [
      route.sender.container,
      route.senderMailHost.fqdn,
      route.recipient.email,
      route.recipientDomain.mailHost.fqdn,
      route.reader.container,
    ]);
    assert.deepEqual(routes, [
      ["mail-lab-dev-lee-pc", "mail.naver.com", "kim@daum.net", "mail.daum.net", "mail-lab-dev-kim-pc"],
      ["mail-lab-dev-kim-pc", "mail.daum.net", "lee@naver.com", "mail.naver.com", "mail-lab-dev-lee-pc"],
    ]);
  });

  it("covers every ordered pair of domains with a PC, from each domain's first PC", () => {
    const routes = relayRoutes(targetsOf("stacks/Pulumi.campus.yaml")).map(
      (route) => `${route.sender.email} -> ${route.recipient.email}`,
    );
    assert.deepEqual(routes, [
      "lee@naver.com -> kim@daum.net",
      "lee@naver.com -> park@nate.com",
      "kim@daum.net -> lee@naver.com",
      "kim@daum.net -> park@nate.com",
      "park@nate.com -> lee@naver.com",
      "park@nate.com -> kim@daum.net",
    ]);
  });

  it("has nothing to send when only one domain has a PC", () => {
    const targets = targetsOf("stacks/Pulumi.dev.yaml");
    assert.deepEqual(relayRoutes({ ...targets, clients: targets.clients.slice(0, 1) }), []);
  });
});

describe("submissionOf", () => {
  it("sends on 25 without AUTH where the rules relay, and on 587 with the user's password elsewhere", async () => {
    const { submissionOf } = await import("./run");
    const targets = targetsOf("stacks/Pulumi.campus.yaml");
    const lee = targets.clients.find((client) => client.key === "lee-pc")!;
    const outsider = targets.clients.find((client) => client.key === "outsider-pc")!;
    assert.deepEqual(submissionOf(targets, lee), { args: ["--port", "25", "--no-auth", "--no-auth-user"] });
    const authenticated = submissionOf(targets, outsider);
    assert.deepEqual(authenticated.args, ["--port", "587", "--auth", "PLAIN", "--auth-user", "choi"]);
    assert.ok(!authenticated.args.includes("choi-campus"), "no password among the arguments");
    assert.equal(authenticated.stdin, "choi-campus\n");
  });

  it("gives swaks the password on stdin, where its prompt reads it", async () => {
    const { submissionOf } = await import("./run");
    const targets = targetsOf("stacks/Pulumi.campus.yaml");
    const outsider = targets.clients.find((client) => client.key === "outsider-pc")!;
    const { args, stdin } = submissionOf(targets, outsider);
    // swaks itself: --dump prints the options it resolved (after its password prompt) and sends nothing.
    const dump = spawnSync("swaks", [...args, "--to", "kim@daum.net", "--server", "127.0.0.1", "--dump", "AUTH"], {
      input: stdin,
      encoding: "utf8",
    });
    assert.equal(dump.status, 0, dump.stderr);
    assert.match(dump.stdout, /username\s+= 'choi'/);
    assert.match(dump.stdout, /password\s+= 'choi-campus'/);
  });
});
