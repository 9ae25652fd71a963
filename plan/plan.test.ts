/** The plan as a whole: the dev stack, defaults, the exercise lab, and how problems are reported. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "../config/errors";
import { allHosts, answerKeyOf, resolvePlan } from "./plan";
import { baseConfig, planOf, problemsOf } from "./test-configs";

describe("the dev stack's plan", () => {
  const plan = planOf("dev");

  it("places every host at the course's addresses with FQDN hostnames", () => {
    assert.deepEqual(
      allHosts(plan).map((host) => [host.role, host.containerName, host.fqdn, host.address]),
      [
        ["name-server", "mail-lab-dev-ns", "ns.naver.com", "10.0.2.53"],
        ["mail-host", "mail-lab-dev-mail-naver-com", "mail.naver.com", "10.0.2.100"],
        ["mail-host", "mail-lab-dev-mail-daum-net", "mail.daum.net", "10.0.2.200"],
        ["client", "mail-lab-dev-lee-pc", "lee-pc.naver.com", "10.0.2.10"],
        ["client", "mail-lab-dev-kim-pc", "kim-pc.daum.net", "10.0.2.11"],
      ],
    );
    assert.deepEqual(plan.network, {
      name: "mail-lab-dev-net",
      subnet: "10.0.2.0/24",
      gateway: "10.0.2.1",
      reverseZone: "2.0.10.in-addr.arpa",
    });
  });

  it("is the same plan every time", () => {
    assert.deepEqual(planOf("dev"), plan);
  });
});

describe("defaults", () => {
  it("keeps the smallest config short", () => {
    const plan = resolvePlan(
      {
        network: { subnet: "192.168.77.0/24" },
        domains: [{ name: "example.org", mailHost: { address: "192.168.77.25" } }],
      },
      { project: "mail-lab", stack: "tiny" },
    );
    assert.equal(plan.network.gateway, "192.168.77.1");
    assert.equal(plan.nameServer.address, "192.168.77.2");
    assert.equal(plan.nameServer.fqdn, "ns.example.org");
    assert.equal(plan.nameServer.ttl, "3H");
    assert.deepEqual(plan.nameServer.soa, { refresh: "1D", retry: "1H", expire: "1W", negativeTtl: "1H" });
    assert.equal(plan.mailHosts[0]!.fqdn, "mail.example.org");
    assert.equal(plan.mailHosts[0]!.maxMessageSize, 10485760);
    assert.equal(plan.baseImage, "debian:bookworm-slim");
    assert.deepEqual(plan.mailQueue, {
      runInterval: "1m",
      lifetime: "1h",
      runIntervalSeconds: 60,
      lifetimeSeconds: 3600,
      warnSeconds: 900,
    });
    assert.equal(plan.verify, true);
    assert.equal(plan.exercise, false);
    assert.deepEqual(plan.mailHosts[0]!.publishedPorts, [], "nothing is published unless asked");
  });

  it("makes an exercise lab that runs no self-check, with the configured lab as its answer key", () => {
    const configured = resolvePlan(baseConfig(), { project: "mail-lab", stack: "test" });
    const exercise = resolvePlan({ ...baseConfig(), exercise: true }, { project: "mail-lab", stack: "test" });
    assert.equal(exercise.exercise, true);
    assert.equal(exercise.verify, false, "its round trip fails until the students are done");
    assert.deepEqual(answerKeyOf(exercise), { ...configured, verify: false });
    assert.equal(answerKeyOf(configured), configured);
  });
});

describe("bad config as a whole (the cases of each step are beside it)", () => {
  it("reports every problem at once: shape and cross-field problems together", () => {
    const config = baseConfig();
    config.domains[0].users[0].password = ""; // shape
    config.domains[0].maxMesageSize = 1; // shape: unknown key
    config.domains[1].mailHost.address = "10.9.9.9"; // cross-field: outside the subnet
    config.clients.push({ name: "lee-pc", user: "kim@daum.net" }); // cross-field: duplicate name
    const messages = problemsOf(config);
    assert.equal(messages.length, 4, messages.join("\n"));
    assert.match(messages.join("\n"), /users\[0\]\.password: "" is empty/);
    assert.match(messages.join("\n"), /maxMesageSize: unknown key/);
    assert.match(messages.join("\n"), /domains\[1\]\.mailHost\.address: "10\.9\.9\.9" is outside the subnet/);
    assert.match(messages.join("\n"), /clients\[1\]\.name: "lee-pc" is already the name of another client/);
  });

  it("does not guess about clients of a user that failed the schema", () => {
    const config = baseConfig();
    config.domains[0].users[0].login = "Lee"; // the client lee-pc names lee@naver.com
    const messages = problemsOf(config);
    assert.deepEqual(messages.length, 1, messages.join("\n"));
  });

  it("prints one readable block", () => {
    const config = baseConfig();
    config.domains[0].mailHost.address = "10.0.3.1";
    try {
      resolvePlan(config, { project: "mail-lab", stack: "test" });
      assert.fail("accepted");
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.match(
        error.message,
        /^The mail-lab stack config has 1 problem:\n {2}- mail-lab:domains\[0\]\.mailHost\.address/,
      );
    }
  });
});
