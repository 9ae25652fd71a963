/**
 * The BIND renderer, checked by BIND's own tools: named-checkconf loads named.conf and every zone
 * from a tree laid out as in the container, and named-checkzone's canonical dump (-D) is compared
 * with addresses and names computed here from the plan's hosts, not from the plan's records.
 * Needs the Debian package bind9-utils (named-checkconf, named-checkzone).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { readStackFile } from "../config/load";
import { allHosts, type LabPlan, resolvePlan, type ZonePlan } from "../plan/plan";
import { renderNamedConf, renderNameServerFiles, renderZone, zoneSerial } from "./bind";
import { PATHS, zoneFilePath } from "./files";

const devFile = readStackFile(path.join(__dirname, "../stacks/Pulumi.dev.yaml"));
const devPlan = (): LabPlan => resolvePlan(devFile.config, { project: "mail-lab", stack: devFile.stack });

/** Three domains on a /24 other than the course's, with non-default TTL and SOA timers. */
const threeDomainsConfig = {
  network: { subnet: "172.30.5.0/24" },
  nameServer: {
    address: "172.30.5.2",
    ttl: "300",
    soa: { refresh: "2h", retry: "15m", expire: "2w", negativeTtl: "5m" },
  },
  domains: [
    { name: "kakao.com", mailHost: { address: "172.30.5.25" }, users: [{ login: "park", password: "park" }] },
    { name: "nate.com", mailHost: { address: "172.30.5.26" }, users: [{ login: "choi", password: "choi" }] },
    { name: "korea.ac.kr", mailHost: { address: "172.30.5.254" }, users: [{ login: "jung", password: "jung" }] },
  ],
  clients: [
    { name: "park-pc", user: "park@kakao.com" },
    { name: "choi-pc", user: "choi@nate.com", address: "172.30.5.100" },
    { name: "jung-pc", user: "jung@korea.ac.kr" },
  ],
};

/** A /20, whose reverse zone is the covering /16 (30.172.in-addr.arpa) with two-label owners. */
const wideSubnetConfig = {
  network: { subnet: "172.30.16.0/20" },
  nameServer: { hostName: "dns", address: "172.30.16.53" },
  domains: [
    { name: "alpha.test", mailHost: { address: "172.30.17.25" }, users: [{ login: "ann", password: "ann" }] },
    { name: "beta.test", mailHost: { address: "172.30.24.1" }, users: [{ login: "bob", password: "bob" }] },
    { name: "gamma.example", mailHost: { address: "172.30.31.254" }, users: [{ login: "cy", password: "cy" }] },
  ],
  clients: [
    { name: "ann-pc", user: "ann@alpha.test" },
    { name: "bob-pc", user: "bob@beta.test", address: "172.30.20.7" },
    { name: "cy-pc", user: "cy@gamma.example", address: "172.30.31.1" },
  ],
};

const plans: readonly { readonly label: string; readonly plan: () => LabPlan }[] = [
  { label: "dev stack", plan: devPlan },
  {
    label: "three domains on 172.30.5.0/24",
    plan: () => resolvePlan(threeDomainsConfig, { project: "mail-lab", stack: "three" }),
  },
  {
    label: "three domains on 172.30.16.0/20",
    plan: () => resolvePlan(wideSubnetConfig, { project: "mail-lab", stack: "wide" }),
  },
];

interface ToolRun {
  readonly status: number | null;
  /** stdout and stderr together: the checkers split their messages between both. */
  readonly output: string;
  readonly stdout: string;
}

/** Runs a bind9-utils tool; a missing tool fails the test and names the package to install. */
function runBindTool(tool: "named-checkconf" | "named-checkzone", args: readonly string[]): ToolRun {
  const result = spawnSync(tool, args, { encoding: "utf8" });
  if (result.error) {
    const missing = (result.error as NodeJS.ErrnoException).code === "ENOENT";
    assert.fail(
      missing
        ? `${tool} is not installed; install the Debian package bind9-utils (apt-get install bind9-utils)`
        : `${tool} could not run: ${result.error.message}`,
    );
  }
  return { status: result.status, output: `${result.stdout}${result.stderr}`, stdout: result.stdout };
}

function withTempDir<T>(use: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-bind-"));
  try {
    return use(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes the rendered files under `root` at their container paths, as the name server image holds them. */
function writeTree(root: string, plan: LabPlan): void {
  for (const file of renderNameServerFiles(plan)) {
    const target = path.join(root, file.path);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, file.content);
  }
  // named.conf's `directory`; in the image Debian's bind9 package creates it.
  fs.mkdirSync(path.join(root, "var/cache/bind"), { recursive: true });
}

/** Checks one zone text; asserts it loads with no warning at all, and returns its canonical records. */
function checkZoneClean(zoneName: string, text: string): { serial: number; records: CanonicalRecord[] } {
  return withTempDir((dir) => {
    const file = path.join(dir, "zone");
    fs.writeFileSync(file, text);
    const check = runBindTool("named-checkzone", ["-k", "fail", zoneName, file]);
    assert.equal(check.status, 0, `named-checkzone ${zoneName} failed:\n${check.output}`);
    // Warnings such as "MX 'x' has no address records" still exit 0; the lab wants none.
    const loaded = /^zone [^ ]+\/IN: loaded serial (\d+)\nOK\n$/.exec(check.output);
    assert.ok(loaded, `named-checkzone ${zoneName} printed more than the load line and OK:\n${check.output}`);
    const dump = runBindTool("named-checkzone", ["-D", "-o", "-", zoneName, file]);
    assert.equal(dump.status, 0, `named-checkzone -D ${zoneName} failed:\n${dump.output}`);
    return { serial: Number(loaded[1]), records: parseCanonical(dump.stdout) };
  });
}

interface CanonicalRecord {
  readonly name: string;
  readonly ttl: number;
  readonly type: string;
  readonly data: string;
}

/** Parses named-checkzone -D output: `name ttl IN type rdata...`, names absolute, TTLs in seconds. */
function parseCanonical(text: string): CanonicalRecord[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith(";"))
    .map((line) => {
      const [name, ttl, klass, type, ...data] = line.trim().split(/\s+/);
      assert.equal(klass, "IN", `unexpected class in canonical line: ${line}`);
      return { name: name!, ttl: Number(ttl), type: type!, data: data.join(" ") };
    });
}

const sorted = (values: Iterable<string>) => [...values].sort();

/** `a.b.c.d` -> `d.c.b.a.in-addr.arpa.`, written out here rather than taken from config/ipv4. */
const reverseName = (address: string) => `${address.split(".").reverse().join(".")}.in-addr.arpa.`;

/** BIND time text (3H, 1D, 2w, 15m, 300) in seconds, to compare with the canonical dump. */
function seconds(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  let total = 0;
  for (const [, count, letter] of text.matchAll(/(\d+)([smhdw])/gi))
    total += Number(count) * unit[letter!.toLowerCase()]!;
  return total;
}

for (const { label, plan: makePlan } of plans) {
  describe(`BIND files for ${label}`, () => {
    const plan = makePlan();

    test("named-checkconf -z loads named.conf and every zone from the container tree", () => {
      withTempDir((root) => {
        writeTree(root, plan);
        // -t chroots into the tree, so the absolute paths in named.conf resolve as in the container.
        const check = runBindTool("named-checkconf", ["-z", "-t", root, PATHS.namedConf]);
        assert.equal(check.status, 0, `named-checkconf -z failed:\n${check.output}`);
        for (const zone of plan.zones) {
          assert.match(
            check.output,
            new RegExp(`^zone ${zone.name.replace(/\./g, "\\.")}/IN: loaded serial ${zoneSerial(plan, zone)}$`, "m"),
          );
        }
        assert.equal(check.output.match(/loaded serial/g)?.length, plan.zones.length, check.output);
      });
    });

    test("named.conf's effective options are the lab's: authoritative only, no transfers", () => {
      withTempDir((root) => {
        writeTree(root, plan);
        // -p prints the configuration as named parsed it. Its spacing and quoting vary by statement,
        // so both are flattened before comparing: `listen-on  {\n\t\t"any";\n\t};` -> `listen-on { any; };`.
        const printed = runBindTool("named-checkconf", ["-p", "-t", root, PATHS.namedConf]);
        assert.equal(printed.status, 0, printed.output);
        const flatten = (text: string) => text.replace(/"/g, "").replace(/\s+/g, " ");
        // Top-level statements end with `};` at the start of a line.
        const options = flatten(/^options \{\n([\s\S]*?)^\};$/m.exec(printed.stdout)?.[1] ?? "");
        const flat = flatten(printed.stdout);
        for (const statement of [
          "directory /var/cache/bind;",
          "listen-on { any; };",
          "listen-on-v6 { none; };",
          "allow-query { any; };",
          "allow-transfer { none; };",
          "dnssec-validation no;",
          "recursion no;",
        ]) {
          assert.ok(options.includes(` ${statement}`), `options lack ${JSON.stringify(statement)}:\n${printed.stdout}`);
        }
        const zones = [...flat.matchAll(/zone (\S+) IN \{ (.*?) \}; \};/g)].map((match) => `${match[1]}: ${match[2]}`);
        assert.deepEqual(
          zones,
          plan.zones.map((zone) => `${zone.name}: type master; file ${zoneFilePath(zone.name)}; allow-update { none;`),
        );
      });
    });

    for (const mailHost of plan.mailHosts) {
      test(`zone ${mailHost.domain}: MX, A records, SOA and TTL as named-checkzone reads them`, () => {
        const zone = plan.zones.find((candidate) => candidate.name === mailHost.domain)!;
        const { serial, records } = checkZoneClean(zone.name, renderZone(plan, zone));
        assert.equal(serial, zoneSerial(plan, zone));
        const apex = `${mailHost.domain}.`;

        assert.deepEqual(
          records.filter((record) => record.type === "MX").map((record) => `${record.name} ${record.data}`),
          [`${apex} 10 mail.${mailHost.domain}.`],
        );
        assert.deepEqual(
          records.filter((record) => record.type === "NS").map((record) => `${record.name} ${record.data}`),
          [`${apex} ${plan.nameServer.fqdn.split(".")[0]}.${apex}`],
        );
        // Every host of the domain, the domain itself (the course's A for the mail server), and the
        // name server under the domain's name; nothing else.
        const expectedA = [
          `${apex} ${mailHost.address}`,
          `${plan.nameServer.fqdn.split(".")[0]}.${apex} ${plan.nameServer.address}`,
          ...allHosts(plan)
            .filter((host) => host.role !== "name-server" && host.domain === mailHost.domain)
            .map((host) => `${host.fqdn}. ${host.address}`),
        ];
        assert.deepEqual(
          sorted(records.filter((record) => record.type === "A").map((record) => `${record.name} ${record.data}`)),
          sorted(expectedA),
        );

        const soa = records.filter((record) => record.type === "SOA");
        assert.equal(soa.length, 1);
        const { refresh, retry, expire, negativeTtl } = plan.nameServer.soa;
        assert.equal(
          soa[0]!.data,
          `${zone.primaryNameServer}. root.${mailHost.domain}. ${serial} ${[refresh, retry, expire, negativeTtl].map(seconds).join(" ")}`,
        );
        assert.ok(
          records.every((record) => record.ttl === seconds(plan.nameServer.ttl)),
          "every record has the $TTL",
        );
      });
    }

    test("reverse zone: one PTR per host, pointing at its FQDN", () => {
      const zone = plan.zones.find((candidate) => candidate.kind === "reverse")!;
      assert.equal(zone.name, plan.network.reverseZone);
      const { serial, records } = checkZoneClean(zone.name, renderZone(plan, zone));
      assert.equal(serial, zoneSerial(plan, zone));
      assert.deepEqual(
        sorted(records.filter((record) => record.type === "PTR").map((record) => `${record.name} ${record.data}`)),
        sorted(allHosts(plan).map((host) => `${reverseName(host.address)} ${host.fqdn}.`)),
      );
      assert.deepEqual(
        records.filter((record) => record.type === "NS").map((record) => `${record.name} ${record.data}`),
        [`${zone.name}. ${plan.nameServer.fqdn}.`],
      );
    });

    test("root zone: its name server and that server's address, nothing else", () => {
      const zone = plan.zones.find((candidate) => candidate.kind === "root")!;
      assert.equal(zone.name, ".");
      assert.equal(plan.zones[0], zone, "the root comes first in named.conf, as in Debian's default zones");
      const { serial, records } = checkZoneClean(zone.name, renderZone(plan, zone));
      assert.equal(serial, zoneSerial(plan, zone));
      assert.deepEqual(
        records
          .filter((record) => record.type !== "SOA")
          .map((record) => `${record.name} ${record.type} ${record.data}`),
        [`. NS ${plan.nameServer.fqdn}.`, `${plan.nameServer.fqdn}. A ${plan.nameServer.address}`],
      );
    });

    test("named.conf and zone files start with the generated header in their comment syntax", () => {
      const [namedConf, ...zoneFiles] = renderNameServerFiles(plan);
      assert.equal(namedConf!.path, PATHS.namedConf);
      assert.match(namedConf!.content, new RegExp(`^// Generated by mail-lab for stack "${plan.stack}"`));
      assert.deepEqual(
        zoneFiles.map((file) => file.path),
        plan.zones.map((zone) => zoneFilePath(zone.name)),
      );
      plan.zones.forEach((zone, index) => {
        const file = zoneFiles[index]!;
        assert.match(file.content, new RegExp(`^; Generated by mail-lab for stack "${plan.stack}"`));
        // The root names only the name server (under the first domain), not the clients.
        const keys =
          zone.kind === "root"
            ? /^; Edit mail-lab:nameServer, mail-lab:domains in/m
            : /^; Edit mail-lab:nameServer, mail-lab:domains, mail-lab:clients/m;
        assert.match(file.content, keys);
      });
    });
  });
}

describe("determinism and the SOA serial", () => {
  test("rendering twice, from two separately resolved plans, gives identical files", () => {
    for (const { plan } of plans) {
      assert.deepEqual(renderNameServerFiles(plan()), renderNameServerFiles(plan()));
    }
  });

  test("every serial lies in 1..2^31-1", () => {
    for (const { plan: makePlan } of plans) {
      const plan = makePlan();
      for (const zone of plan.zones) {
        const serial = zoneSerial(plan, zone);
        assert.ok(Number.isInteger(serial) && serial >= 1 && serial <= 2 ** 31 - 1, `${zone.name}: ${serial}`);
      }
    }
  });

  test("a changed record changes the zone's serial; other zones and the stack name do not", () => {
    const before = devPlan();
    // One more client in daum.net: its forward zone and the reverse zone change, naver.com does not.
    const grown = resolvePlan(
      {
        ...devFile.config,
        clients: [...(devFile.config.clients as unknown[]), { name: "kim-laptop", user: "kim@daum.net" }],
      },
      { project: "mail-lab", stack: devFile.stack },
    );
    const serials = (plan: LabPlan) => new Map(plan.zones.map((zone) => [zone.name, zoneSerial(plan, zone)]));
    const [old, now] = [serials(before), serials(grown)];
    assert.equal(now.get("naver.com"), old.get("naver.com"));
    assert.notEqual(now.get("daum.net"), old.get("daum.net"));
    assert.notEqual(now.get("2.0.10.in-addr.arpa"), old.get("2.0.10.in-addr.arpa"));

    // A single address changed in place.
    const naver = before.zones.find((zone) => zone.name === "naver.com")!;
    const moved: ZonePlan = {
      ...naver,
      records: naver.records.map((record) =>
        record.type === "A" && record.owner === "mail" ? { ...record, address: "10.0.2.101" } : record,
      ),
    };
    assert.notEqual(zoneSerial(before, moved), zoneSerial(before, naver));
    assert.notEqual(renderZone(before, moved), renderZone(before, naver));

    // The header names the stack, but the zone's content, and so its serial, is the same.
    const otherStack = resolvePlan(devFile.config, { project: "mail-lab", stack: "other" });
    assert.deepEqual(serials(otherStack), old);
  });

  test("changed timers or $TTL change every serial", () => {
    const base = devPlan();
    const withConfig = (nameServer: object) =>
      resolvePlan(
        { ...devFile.config, nameServer: { ...(devFile.config.nameServer as object), ...nameServer } },
        { project: "mail-lab", stack: devFile.stack },
      );
    for (const changed of [withConfig({ ttl: "1H" }), withConfig({ soa: { retry: "2H" } })]) {
      for (const zone of base.zones) {
        const same = changed.zones.find((candidate) => candidate.name === zone.name)!;
        assert.notEqual(zoneSerial(changed, same), zoneSerial(base, zone), zone.name);
      }
    }
  });

  test("named.conf does not depend on record content, only on the zones' names", () => {
    const plan = devPlan();
    const renamed = resolvePlan({ ...devFile.config, clients: [] }, { project: "mail-lab", stack: devFile.stack });
    assert.equal(renderNamedConf(renamed), renderNamedConf(plan));
  });
});

describe("the checkers reject broken zones (so the checks above can fail)", () => {
  const plan = devPlan();
  const naver = plan.zones.find((zone) => zone.name === "naver.com")!;
  const good = renderZone(plan, naver);

  test("a syntax error: MX without its priority", () => {
    const broken = good.replace("MX    10 mail.naver.com.", "MX    mail.naver.com.");
    assert.notEqual(broken, good);
    withTempDir((dir) => {
      fs.writeFileSync(path.join(dir, "zone"), broken);
      const check = runBindTool("named-checkzone", [naver.name, path.join(dir, "zone")]);
      assert.notEqual(check.status, 0, check.output);
      assert.match(check.output, /not a valid number/);
    });
  });

  test("the NS target without an address record in the zone", () => {
    const broken = good.replace(/^ns +IN {2}A .*\n/m, "");
    assert.notEqual(broken, good);
    withTempDir((dir) => {
      fs.writeFileSync(path.join(dir, "zone"), broken);
      const check = runBindTool("named-checkzone", [naver.name, path.join(dir, "zone")]);
      assert.notEqual(check.status, 0, check.output);
      assert.match(check.output, /NS 'ns\.naver\.com' has no address records/);
    });
  });

  test("the MX target without an address record: named-checkzone only warns, and the clean check fails", () => {
    const broken = good.replace(/^mail +IN {2}A .*\n/m, "");
    assert.notEqual(broken, good);
    assert.throws(() => checkZoneClean(naver.name, broken), /MX 'mail\.naver\.com' has no address records/);
  });

  test("named-checkconf -z fails when a zone file is missing from the tree", () => {
    withTempDir((root) => {
      writeTree(root, plan);
      fs.rmSync(path.join(root, zoneFilePath("daum.net")));
      const check = runBindTool("named-checkconf", ["-z", "-t", root, PATHS.namedConf]);
      assert.notEqual(check.status, 0, check.output);
      assert.match(check.output, /daum\.net/);
    });
  });
});
