/**
 * BIND 9 configuration of the lab's name server: a stand-alone named.conf and one zone file per
 * zone of the plan (every mail domain, plus the reverse zone of the lab subnet).
 *
 * Pure functions over the plan: no Pulumi, no clock, no randomness. The SOA serial is a hash of
 * the zone's content, so the same plan always renders byte-identical files.
 */
import { createHash } from "node:crypto";
import type { DnsRecord, LabPlan, ZonePlan } from "../plan/plan";
import { generatedHeader, PATHS, type RenderedFile, zoneFilePath } from "./files";

/** Config keys whose values end up in named.conf (zone names come from domains and the subnet). */
const NAMED_CONF_KEYS = ["mail-lab:nameServer", "mail-lab:domains", "mail-lab:network.subnet"] as const;
/** Config keys whose values end up in a forward zone: its hosts are the name server, the mail host and clients. */
const FORWARD_ZONE_KEYS = ["mail-lab:nameServer", "mail-lab:domains", "mail-lab:clients"] as const;
/** A reverse zone also follows the subnet, which decides its name and its owner names. */
const REVERSE_ZONE_KEYS = [...FORWARD_ZONE_KEYS, "mail-lab:network.subnet"] as const;
/** The root names the name server, whose FQDN is under the first domain. */
const ROOT_ZONE_KEYS = ["mail-lab:nameServer", "mail-lab:domains"] as const;

const ZONE_KEYS: Record<ZonePlan["kind"], readonly string[]> = {
  forward: FORWARD_ZONE_KEYS,
  reverse: REVERSE_ZONE_KEYS,
  root: ROOT_ZONE_KEYS,
};

/** Largest SOA serial that is still positive as a signed 32-bit number (RFC 1982 arithmetic is mod 2^32). */
const MAX_SERIAL = 2 ** 31 - 1;

/**
 * /etc/bind/named.conf. It stands alone: Debian's named.conf.options, named.conf.local and
 * named.conf.default-zones are not included, so what the lab serves is exactly what is written here.
 */
export function renderNamedConf(plan: LabPlan): string {
  const zones = plan.zones.map((zone) =>
    [
      ...describeZone(zone).map((line) => `// ${line}`),
      // The course's form; BIND 9.18 also spells `type master` as `type primary`.
      `zone "${zone.name}" IN {`,
      "\ttype master;",
      `\tfile "${zoneFilePath(zone.name)}";`,
      "\tallow-update { none; };",
      "};",
    ].join("\n"),
  );
  return [
    generatedHeader("//", plan.stack, NAMED_CONF_KEYS),
    `// The lab's name server ${plan.nameServer.fqdn} (${plan.nameServer.address}): authoritative for the`,
    "// lab's zones and for the lab's own root, which makes every other name a non-existent one.",
    "",
    "options {",
    "\t// Debian's working directory for named, writable by the bind user.",
    '\tdirectory "/var/cache/bind";',
    "\t// named runs in the foreground as the container's main process, so nothing needs a PID file,",
    "\t// and /run/named (the default's folder) is created by Debian's init scripts, which a container",
    "\t// does not run. `none` is a keyword here, not a file name (BIND 9 ARM, options: pid-file).",
    "\tpid-file none;",
    "",
    "\t// As the course: answer on every IPv4 address, not on IPv6, and answer every client.",
    "\tlisten-on { any; };",
    "\tlisten-on-v6 { none; };",
    "\tallow-query { any; };",
    "",
    "\t// Recursion is off on purpose. This server is authoritative only: the lab has no internet",
    "\t// to recurse to. Names outside the lab fall in the lab's root zone and get NXDOMAIN with",
    "\t// authority instead of timing out. Left unset, BIND would recurse for `localnets`, which",
    "\t// includes the whole Docker subnet.",
    "\trecursion no;",
    "\t// No secondaries exist, so no client may pull a whole zone (AXFR) either.",
    "\tallow-transfer { none; };",
    "",
    "\t// As the course. With recursion off there are no answers from elsewhere to validate anyway.",
    "\tdnssec-validation no;",
    "};",
    "",
    "// Everything to stderr, so `docker logs` shows it. `named -g` ignores this block and logs to",
    "// stderr by itself; `named -f` (foreground, logging as configured) uses it and gives the same output.",
    "logging {",
    "\tchannel console {",
    "\t\tstderr;",
    "\t\tseverity info;",
    "\t\tprint-time yes;",
    "\t\tprint-category yes;",
    "\t\tprint-severity yes;",
    "\t};",
    "\tcategory default { console; };",
    "};",
    "",
    zones.join("\n\n"),
    "",
  ].join("\n");
}

/** The SOA serial of a zone: a hash of everything else in the zone file, in 1..2^31-1. */
export function zoneSerial(plan: LabPlan, zone: ZonePlan): number {
  return serialOf(zoneBody(plan, zone));
}

/**
 * A zone file in the course's layout: `$TTL`, the SOA, then NS, A, MX and PTR records in the
 * plan's order, owners relative to `$ORIGIN`, targets fully qualified with a trailing dot.
 */
export function renderZone(plan: LabPlan, zone: ZonePlan): string {
  const body = zoneBody(plan, zone);
  const serial = serialOf(body);
  const soaIndent = " ".repeat(body.ownerWidth + "IN  SOA   ".length);
  const timer = (value: string | number, comment: string, close = "") =>
    `${soaIndent}${`${value}${close}`.padEnd(12)} ; ${comment}`;
  const { soa } = plan.nameServer;
  return [
    generatedHeader(";", plan.stack, ZONE_KEYS[zone.kind]),
    ...describeZone(zone).map((line) => `; ${line}`),
    ";",
    "; The serial is a hash of this file's records and timers, not a date or a counter: the same",
    "; config always gives the same file. A serial only has to grow for secondaries, which transfer",
    "; the zone again when the primary's serial is greater than theirs (RFC 1034 4.3.5, compared as",
    "; in RFC 1982). This lab has no secondaries, and every change replaces the name server",
    "; container, which loads its zones afresh.",
    `$TTL    ${plan.nameServer.ttl}`,
    `$ORIGIN ${absolute(zone.name)}`,
    `${"@".padEnd(body.ownerWidth)}IN  SOA   ${absolute(zone.primaryNameServer)} ${absolute(zone.hostmaster)} (`,
    timer(serial, "serial"),
    timer(soa.refresh, "refresh"),
    timer(soa.retry, "retry"),
    timer(soa.expire, "expire"),
    timer(soa.negativeTtl, "negative-answer TTL", " )"),
    ...body.recordLines,
    "",
  ].join("\n");
}

/** named.conf and every zone file, at the paths the name server image reads. */
export function renderNameServerFiles(plan: LabPlan): RenderedFile[] {
  return [
    { path: PATHS.namedConf, content: renderNamedConf(plan) },
    ...plan.zones.map((zone) => ({ path: zoneFilePath(zone.name), content: renderZone(plan, zone) })),
  ];
}

interface ZoneBody {
  /** Width of the owner column: the longest owner plus two spaces, at least the course's 8. */
  readonly ownerWidth: number;
  readonly recordLines: readonly string[];
  /** Everything in the file that the serial must follow (the header's stack name is not content). */
  readonly content: string;
}

function zoneBody(plan: LabPlan, zone: ZonePlan): ZoneBody {
  const ownerWidth = Math.max(8, ...zone.records.map((record) => record.owner.length + 2));
  const recordLines = zone.records.map(
    (record) => `${record.owner.padEnd(ownerWidth)}IN  ${record.type.padEnd(6)}${recordData(record)}`,
  );
  const { soa } = plan.nameServer;
  const content = [
    plan.nameServer.ttl,
    zone.name,
    zone.primaryNameServer,
    zone.hostmaster,
    soa.refresh,
    soa.retry,
    soa.expire,
    soa.negativeTtl,
    ...recordLines,
  ].join("\n");
  return { ownerWidth, recordLines, content };
}

function recordData(record: DnsRecord): string {
  switch (record.type) {
    case "NS":
    case "PTR":
      return absolute(record.target);
    case "A":
      return record.address;
    case "MX":
      return `${record.priority} ${absolute(record.target)}`;
    default: {
      const unknown: never = record;
      throw new Error(`renderZone: no zone-file syntax for record ${JSON.stringify(unknown)}`);
    }
  }
}

/** Reduces a SHA-256 of the zone's content into 1..2^31-1 (0 is avoided so no serial reads as unset). */
function serialOf(body: ZoneBody): number {
  const digest = createHash("sha256").update(body.content).digest();
  return Number(digest.readBigUInt64BE(0) % BigInt(MAX_SERIAL)) + 1;
}

/** A name with its trailing dot; the root zone `.` is already absolute. */
function absolute(name: string): string {
  return name === "." ? name : `${name}.`;
}

/** What a zone is, as comment lines (without the comment leader). */
function describeZone(zone: ZonePlan): string[] {
  switch (zone.kind) {
    case "forward":
      return [`Forward zone of the mail domain ${zone.name}: its name server, mail host (MX) and clients.`];
    case "reverse":
      return ["Reverse zone of the lab subnet: one PTR per host, so the MTAs can name connecting clients."];
    case "root":
      return [
        "The lab's own root zone: only its name server. Every name outside the lab's zones is",
        "NXDOMAIN with authority here (a permanent answer) instead of REFUSED (a temporary failure",
        "for mail programs). The lab is a closed world: it has no internet.",
      ];
    default: {
      const unknown: never = zone.kind;
      throw new Error(`describeZone: unknown zone kind ${String(unknown)}`);
    }
  }
}
