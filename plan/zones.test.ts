/** The DNS zones: forward, reverse and the lab's root (plan/zones.ts). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolvePlan } from "./plan";
import { baseConfig, planOf } from "./test-configs";

describe("the dev stack's zones", () => {
  const plan = planOf("dev");

  it("gives each domain NS, A and MX 10 records for its mail host", () => {
    const naver = plan.zones.find((zone) => zone.name === "naver.com")!;
    assert.deepEqual(naver.records, [
      { owner: "@", type: "NS", target: "ns.naver.com" },
      { owner: "@", type: "A", address: "10.0.2.100" },
      { owner: "@", type: "MX", priority: 10, target: "mail.naver.com" },
      { owner: "ns", type: "A", address: "10.0.2.53" },
      { owner: "mail", type: "A", address: "10.0.2.100" },
      { owner: "lee-pc", type: "A", address: "10.0.2.10" },
    ]);
    const daum = plan.zones.find((zone) => zone.name === "daum.net")!;
    assert.ok(daum.records.some((record) => record.type === "MX" && record.target === "mail.daum.net"));
  });

  it("has a PTR for every host in the subnet's reverse zone", () => {
    const reverse = plan.zones.find((zone) => zone.kind === "reverse")!;
    assert.equal(reverse.name, "2.0.10.in-addr.arpa");
    assert.deepEqual(
      reverse.records
        .filter((record) => record.type === "PTR")
        .map((record) => [record.owner, "target" in record && record.target]),
      [
        ["10", "lee-pc.naver.com"],
        ["11", "kim-pc.daum.net"],
        ["53", "ns.naver.com"],
        ["100", "mail.naver.com"],
        ["200", "mail.daum.net"],
      ],
    );
  });
});

describe("a /20 subnet", () => {
  it("uses the covering /16 reverse zone and one access prefix per /24", () => {
    const config = baseConfig();
    config.network = { subnet: "10.8.16.0/20" };
    config.nameServer = { address: "10.8.16.53" };
    config.domains[0].mailHost.address = "10.8.17.100";
    config.domains[1].mailHost.address = "10.8.31.200";
    const plan = resolvePlan(config, { project: "mail-lab", stack: "wide" });
    assert.equal(plan.network.reverseZone, "8.10.in-addr.arpa");
    const reverse = plan.zones.at(-1)!;
    assert.ok(reverse.records.some((record) => record.owner === "100.17" && record.type === "PTR"));
    assert.equal(plan.mailHosts[0]!.labAccessPrefixes.length, 16);
    assert.equal(plan.mailHosts[0]!.labAccessPrefixes[0], "10.8.16");
    assert.equal(plan.mailHosts[0]!.labAccessPrefixes[15], "10.8.31");
  });
});
