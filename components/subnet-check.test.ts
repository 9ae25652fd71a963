/**
 * The subnet check's pure parts (parsing `docker network inspect`, finding overlaps, the
 * message), its handling of the CLI's answers through a scripted runner, and one read-only run
 * against the real daemon's default bridge.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import {
  checkLabSubnet,
  type DockerCliResult,
  findSubnetOverlaps,
  overlapMessage,
  parseNetworkInspect,
} from "./subnet-check";

/** Shaped as `docker network inspect bridge host none other v6` prints it (fields trimmed). */
const INSPECT = JSON.stringify([
  {
    Name: "bridge",
    Driver: "bridge",
    IPAM: { Driver: "default", Config: [{ Subnet: "172.17.0.0/16", Gateway: "172.17.0.1" }] },
  },
  { Name: "host", Driver: "host", IPAM: { Driver: "default", Config: [] } },
  { Name: "none", Driver: "null", IPAM: { Driver: "default", Config: null } },
  { Name: "course-vm", Driver: "bridge", IPAM: { Config: [{ Subnet: "10.0.2.0/24" }] } },
  { Name: "dual", Driver: "bridge", IPAM: { Config: [{ Subnet: "fd00:7::/64" }, { Subnet: "10.0.7.128/25" }] } },
]);

describe("parseNetworkInspect", () => {
  it("gives each network's name and IPv4 subnets, null and empty IPAM configs as none", () => {
    assert.deepEqual(parseNetworkInspect(INSPECT), [
      { name: "bridge", subnets: ["172.17.0.0/16"] },
      { name: "host", subnets: [] },
      { name: "none", subnets: [] },
      { name: "course-vm", subnets: ["10.0.2.0/24"] },
      { name: "dual", subnets: ["10.0.7.128/25"] },
    ]);
  });

  it("refuses output it does not understand instead of reading it as no networks", () => {
    assert.throws(() => parseNetworkInspect("Error: permission denied"), /printed no JSON/);
    assert.throws(() => parseNetworkInspect('{"Name":"bridge"}'), /not a list of networks/);
    assert.throws(() => parseNetworkInspect('[{"Id":"abc"}]'), /entry 0 has no Name/);
    assert.throws(() => parseNetworkInspect('[{"Name":"x","IPAM":{"Config":{}}}]'), /IPAM\.Config of x is not a list/);
  });
});

describe("findSubnetOverlaps", () => {
  const networks = parseNetworkInspect(INSPECT);
  const cases: [string, string, string[]][] = [
    ["10.0.7.0/24", "mail-lab-desk-net", ["dual 10.0.7.128/25"]], // the other lies inside the lab's
    ["10.0.7.192/26", "mail-lab-desk-net", ["dual 10.0.7.128/25"]], // the lab's lies inside the other
    ["10.0.0.0/8", "mail-lab-big-net", ["course-vm 10.0.2.0/24", "dual 10.0.7.128/25"]], // several
    ["10.0.7.0/25", "mail-lab-desk-net", []], // adjacent: 10.0.7.0-127 and 10.0.7.128-255
    ["10.0.3.0/24", "mail-lab-dev-net", []],
    ["172.16.0.0/16", "mail-lab-dev-net", []], // adjacent to the default bridge's 172.17.0.0/16
    ["172.17.5.0/24", "mail-lab-dev-net", ["bridge 172.17.0.0/16"]],
  ];
  for (const [labSubnet, labNetworkName, expected] of cases) {
    it(`${labSubnet}: ${expected.length === 0 ? "free" : expected.join(", ")}`, () => {
      assert.deepEqual(
        findSubnetOverlaps(labSubnet, labNetworkName, networks).map((o) => `${o.networkName} ${o.subnet}`),
        expected,
      );
    });
  }

  it("leaves out the lab's own network (a second pulumi up), whatever its subnet", () => {
    const own = [...networks, { name: "mail-lab-dev-net", subnets: ["10.0.2.0/24"] }];
    assert.deepEqual(
      findSubnetOverlaps("10.0.2.0/24", "mail-lab-dev-net", own).map((o) => o.networkName),
      ["course-vm"],
    );
    assert.deepEqual(findSubnetOverlaps("10.0.2.0/24", "mail-lab-dev-net", own.slice(4)), []);
  });
});

describe("overlapMessage", () => {
  it("names the config key and value, each network in the way with its subnet, and the ways out", () => {
    const message = overlapMessage("10.0.7.0/24", [{ networkName: "dual", subnet: "10.0.7.128/25" }]);
    assert.equal(
      message,
      'mail-lab:network.subnet "10.0.7.0/24" overlaps Docker network "dual" (10.0.7.128/25) on this Docker host ' +
        "(the lab would use 10.0.7.0 to 10.0.7.255); move the lab to a free subnet (change network.subnet and " +
        "every address in the stack file with it) or remove that network (docker network rm dual)",
    );
  });
});

describe("checkLabSubnet with scripted docker CLI answers", () => {
  /** A runner that answers each call in turn and records the arguments it got. */
  function scripted(...answers: DockerCliResult[]) {
    const calls: string[][] = [];
    const run = (args: readonly string[]) => {
      calls.push([...args]);
      const answer = answers.shift();
      if (!answer) throw new Error(`unexpected docker call: ${args.join(" ")}`);
      return answer;
    };
    return { calls, run };
  }

  it("lists the networks, inspects them all and reports an overlap", () => {
    const cli = scripted({ kind: "ok", stdout: "id1\nid2\n" }, { kind: "ok", stdout: INSPECT });
    const result = checkLabSubnet("10.0.2.0/24", "mail-lab-dev-net", { run: cli.run });
    assert.equal(result.kind, "overlaps");
    assert.match(
      (result as { message: string }).message,
      /"10\.0\.2\.0\/24" overlaps Docker network "course-vm" \(10\.0\.2\.0\/24\)/,
    );
    assert.deepEqual(cli.calls, [
      ["network", "ls", "--no-trunc", "--quiet"],
      ["network", "inspect", "id1", "id2"],
    ]);
  });

  it("asks the provider's docker:host when one is configured", () => {
    const cli = scripted({ kind: "ok", stdout: "id1\n" }, { kind: "ok", stdout: INSPECT });
    assert.deepEqual(checkLabSubnet("10.9.0.0/24", "n", { run: cli.run, dockerHost: "ssh://lab@docker.example" }), {
      kind: "free",
    });
    assert.deepEqual(
      cli.calls.map((call) => call.slice(0, 2)),
      [
        ["--host", "ssh://lab@docker.example"],
        ["--host", "ssh://lab@docker.example"],
      ],
    );
  });

  it("still reads the others when a network vanished between ls and inspect", () => {
    const cli = scripted(
      { kind: "ok", stdout: "id1\ngone\n" },
      { kind: "failed", message: "Error response from daemon: network gone not found", stdout: INSPECT },
    );
    assert.equal(checkLabSubnet("10.0.7.0/24", "n", { run: cli.run }).kind, "overlaps");
  });

  it("reports that it could not look, with the reason, when the CLI is missing, fails or prints junk", () => {
    assert.deepEqual(checkLabSubnet("10.0.7.0/24", "n", scripted({ kind: "missing" })), {
      kind: "unchecked",
      reason: "the docker CLI is not on PATH",
    });
    const refused = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?";
    assert.deepEqual(checkLabSubnet("10.0.7.0/24", "n", scripted({ kind: "failed", message: refused, stdout: "" })), {
      kind: "unchecked",
      reason: `docker network ls failed: ${refused}`,
    });
    const denied = scripted(
      { kind: "ok", stdout: "id1\n" },
      { kind: "failed", message: "permission denied", stdout: "" },
    );
    assert.deepEqual(checkLabSubnet("10.0.7.0/24", "n", denied), {
      kind: "unchecked",
      reason: "docker network inspect failed: permission denied",
    });
    const junk = scripted({ kind: "ok", stdout: "id1\n" }, { kind: "ok", stdout: "<html>" });
    assert.equal(checkLabSubnet("10.0.7.0/24", "n", junk).kind, "unchecked");
  });
});

describe("checkLabSubnet against this Docker host (read-only)", () => {
  let bridgeSubnet: string | undefined;
  try {
    bridgeSubnet = execFileSync(
      "docker",
      ["network", "inspect", "bridge", "--format", "{{range .IPAM.Config}}{{.Subnet}}{{end}}"],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      },
    ).trim();
  } catch {
    bridgeSubnet = undefined;
  }
  it(
    "finds the default bridge network in its own subnet, and not when the lab is that network",
    { skip: bridgeSubnet ? false : "no docker CLI or daemon, or no default bridge with a subnet" },
    () => {
      const result = checkLabSubnet(bridgeSubnet!, "mail-lab-test-net");
      assert.equal(result.kind, "overlaps");
      assert.match(
        (result as { message: string }).message,
        new RegExp(`Docker network "bridge" \\(${bridgeSubnet!.replace(/\./g, "\\.")}\\)`),
      );
      const asOwn = checkLabSubnet(bridgeSubnet!, "bridge");
      assert.notEqual(asOwn.kind, "unchecked");
      if (asOwn.kind === "overlaps") assert.doesNotMatch(asOwn.message, /"bridge"/);
    },
  );
});
