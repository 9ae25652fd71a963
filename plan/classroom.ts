/**
 * A classroom: N labs derived from one stack, side by side on one Docker host.
 *
 * Each lab k (1..N) is the source stack moved to a subnet of its own: the subnet and every address
 * the config names in it (gateway, name server, mail hosts, PCs, access rules naming addresses or
 * prefixes of it) shift by the same distance, so the topology and the relay rules stay what the
 * source says. Published host ports shift by k times a step chosen so that no two labs (nor the
 * source) share a port. Every user gets a password of their own per lab. Stack names are
 * `<source>-01` ... so every Docker object name differs.
 *
 * Pure: the caller reads and writes files; passwords come from `options.random` (crypto in the
 * CLI) or, with `options.seed`, from an HMAC of the seed, so that a run can be repeated exactly.
 */
import { createHmac, randomBytes } from "node:crypto";
import { stringify as stringifyYaml } from "yaml";
import { PROJECT } from "../config/errors";
import { formatCidr, formatIpv4, type Ipv4Subnet, parseCidr, parseIpv4, subnetsOverlap } from "../config/ipv4";
import { withEncryptedStandIns } from "../config/load";
import { resolvePlan } from "./plan";

export interface ClassroomOptions {
  /** How many labs, at least 1. */
  readonly count: number;
  /** The first lab's subnet (CIDR, the source's prefix length). Default: the block right after the source's. */
  readonly firstSubnet?: string;
  /** Derive the passwords from this text instead of random bytes: the same seed gives the same files. */
  readonly seed?: string;
  /** Leave out every `publish` instead of shifting its ports. */
  readonly dropPublish?: boolean;
  /** Random bytes for passwords (default crypto's); ignored with `seed`. */
  readonly random?: (size: number) => Buffer;
}

export interface ClassroomLab {
  /** 1-based. */
  readonly index: number;
  readonly stack: string;
  readonly subnet: string;
  /** The lab's `mail-lab:` keys, without the namespace, as they go into the stack file. */
  readonly config: Record<string, unknown>;
  /** Keys of other namespaces (`docker:host`), copied unchanged. */
  readonly otherConfig: Record<string, unknown>;
  /** The generated passwords, in the order of the config's users. */
  readonly passwords: readonly { readonly user: string; readonly password: string }[];
  /** Host ports the lab publishes, sorted. */
  readonly hostPorts: readonly number[];
}

export interface Classroom {
  readonly source: string;
  readonly labs: readonly ClassroomLab[];
  /** How far each lab's ports are from the previous lab's (0: nothing published, or dropped). */
  readonly portStep: number;
  /** The distance between two labs' subnets, in addresses. */
  readonly subnetStep: number;
}

const PUBLISHED_SERVICES = ["smtp", "submission", "imaps", "pop3s"] as const;
/** 32 letters and digits without the look-alikes 0/o, 1/l: 5 bits a character, read aloud easily. */
const PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789";
/** RFC 1918: a lab that starts in one stays in it. */
const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map((cidr) => parseCidr(cidr) as Ipv4Subnet);

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/** A classroom that cannot be made as asked; the message names the option or key and what to change. */
export class ClassroomError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ClassroomError";
  }
}

function fail(key: string, message: string): never {
  throw new ClassroomError(`${key}: ${message}`);
}

/** An IPv4 address or a leading part of one (`10.0.2`, `10.0`), as access rules write them. */
interface AddressPrefix {
  readonly value: number;
  readonly octets: number;
  /** Addresses the prefix covers: 256^(4 - octets). */
  readonly size: number;
}

function parsePrefix(text: string): AddressPrefix | undefined {
  if (!/^\d{1,3}(\.\d{1,3}){0,3}$/.test(text)) return undefined;
  const octets = text.split(".").length;
  const value = parseIpv4([...text.split("."), ...Array(4 - octets).fill("0")].join("."));
  if (value === undefined) return undefined;
  return { value, octets, size: 256 ** (4 - octets) };
}

function formatPrefix(value: number, octets: number): string {
  return formatIpv4(value).split(".").slice(0, octets).join(".");
}

/** A readable password of 3 groups of 4 (60 bits): `k7qm-x3tb-ha9e`. */
function passwordFrom(bytes: Buffer): string {
  const characters = [...bytes.subarray(0, 12)].map((byte) => PASSWORD_ALPHABET[byte % 32]);
  return [0, 4, 8].map((start) => characters.slice(start, start + 4).join("")).join("-");
}

/** The addresses and prefixes of the source config that lie in its subnet, with where they are. */
interface Shiftable {
  readonly path: readonly (string | number)[];
  readonly prefix: AddressPrefix;
}

function shiftables(config: Json, subnet: Ipv4Subnet): Shiftable[] {
  const found: Shiftable[] = [];
  const inSubnet = (prefix: AddressPrefix) =>
    subnetsOverlap({ network: prefix.value, prefixLength: 32 - Math.log2(prefix.size), size: prefix.size }, subnet);
  const add = (path: (string | number)[], value: unknown, wholeAddress: boolean) => {
    if (typeof value !== "string") return;
    const prefix = parsePrefix(value);
    if (!prefix || (wholeAddress && prefix.octets !== 4) || !inSubnet(prefix)) return;
    found.push({ path, prefix });
  };
  const network = config["network"];
  if (isObject(network)) add(["network", "gateway"], network["gateway"], true);
  const nameServer = config["nameServer"];
  if (isObject(nameServer)) add(["nameServer", "address"], nameServer["address"], true);
  const domains = Array.isArray(config["domains"]) ? config["domains"] : [];
  domains.forEach((domain, index) => {
    if (!isObject(domain)) return;
    const mailHost = domain["mailHost"];
    if (isObject(mailHost)) add(["domains", index, "mailHost", "address"], mailHost["address"], true);
    const access = Array.isArray(domain["access"]) ? domain["access"] : [];
    access.forEach((rule, ruleIndex) => {
      if (isObject(rule)) add(["domains", index, "access", ruleIndex, "match"], rule["match"], false);
    });
  });
  const clients = Array.isArray(config["clients"]) ? config["clients"] : [];
  clients.forEach((client, index) => {
    if (isObject(client)) add(["clients", index, "address"], client["address"], true);
  });
  return found;
}

function setPath(target: Json, path: readonly (string | number)[], value: unknown): void {
  let node: unknown = target;
  for (const step of path.slice(0, -1)) node = (node as Record<string | number, unknown>)[step];
  (node as Record<string | number, unknown>)[path[path.length - 1]!] = value;
}

/** Host ports of the source's `publish` entries. */
function publishedPorts(config: Json): number[] {
  const ports: number[] = [];
  for (const domain of Array.isArray(config["domains"]) ? config["domains"] : []) {
    const publish = isObject(domain) && isObject(domain["mailHost"]) ? domain["mailHost"]["publish"] : undefined;
    if (!isObject(publish)) continue;
    for (const service of PUBLISHED_SERVICES) {
      if (typeof publish[service] === "number") ports.push(publish[service] as number);
    }
  }
  return ports;
}

/**
 * The smallest multiple of 10 such that the source's ports shifted by 0, s, 2s ... N*s never meet
 * (two ports d apart meet when d is a multiple of s of at most N steps) and the last lab's stay
 * below 65536.
 */
function portStepFor(ports: readonly number[], count: number): number {
  if (ports.length === 0) return 0;
  const differences = ports.flatMap((a) => ports.filter((b) => b > a).map((b) => b - a));
  const highest = Math.max(...ports);
  for (let step = 10; highest + count * step <= 65535; step += 10) {
    if (differences.every((difference) => difference % step !== 0 || difference / step > count)) return step;
  }
  return fail(
    `${PROJECT}:domains[].mailHost.publish`,
    `${count} labs cannot each get their own host ports below 65536 (the source publishes ${ports.join(", ")}); ` +
      "use fewer labs, lower ports, or --no-publish",
  );
}

/** The N labs of a classroom from the source stack's `mail-lab:` config (`otherConfig`: its other keys). */
export function classroomLabs(
  source: { readonly stack: string; readonly config: Json; readonly otherConfig?: Json },
  options: ClassroomOptions,
): Classroom {
  const { count } = options;
  if (!Number.isInteger(count) || count < 1 || count > 999) {
    fail("--count", `must be a whole number from 1 to 999, got ${String(count)}`);
  }
  // The source must itself be a valid lab: every lab is checked again below, but a mistake is
  // clearer named once, in the source.
  // (Encrypted passwords are replaced by generated ones anyway.)
  resolvePlan(withEncryptedStandIns(source.config), { project: PROJECT, stack: source.stack });
  const network = source.config["network"] as Json;
  const subnet = parseCidr(String(network["subnet"])) as Ipv4Subnet;
  const found = shiftables(source.config, subnet);

  // Labs are spaced so that every shifted prefix is still a whole prefix: a `10.0.2` rule of a
  // /25 lab moves by /24 blocks, a `10.0` rule by /16 blocks.
  const subnetStep = Math.max(subnet.size, ...found.map((item) => item.prefix.size));
  const blockOf = (value: number) => value - (value % subnetStep);
  let first: number;
  if (options.firstSubnet !== undefined) {
    const parsed = parseCidr(options.firstSubnet);
    if (typeof parsed === "string") fail("--first-subnet", `"${options.firstSubnet}" ${parsed}`);
    if (parsed.prefixLength !== subnet.prefixLength) {
      fail("--first-subnet", `must be a /${subnet.prefixLength} like the source's ${formatCidr(subnet)}`);
    }
    if ((parsed.network - subnet.network) % subnetStep !== 0) {
      fail(
        "--first-subnet",
        `"${options.firstSubnet}" must sit at the same place in its block of ${subnetStep} addresses as the source's ` +
          `${formatCidr(subnet)} (access rules name prefixes that must shift whole), e.g. ` +
          `${formatIpv4(blockOf(parsed.network) + (subnet.network % subnetStep))}/${subnet.prefixLength}`,
      );
    }
    first = parsed.network;
  } else {
    first = subnet.network + subnetStep;
  }
  const last = first + (count - 1) * subnetStep;
  const range = PRIVATE_RANGES.find((privateRange) =>
    subnetsOverlap(privateRange, { network: subnet.network, prefixLength: subnet.prefixLength, size: subnet.size }),
  );
  if (
    last + subnet.size > 2 ** 32 ||
    (range && (first < range.network || last + subnet.size > range.network + range.size))
  ) {
    fail(
      "--count",
      `${count} labs from ${formatIpv4(first)}/${subnet.prefixLength}, ${subnetStep} addresses apart, end at ` +
        `${formatIpv4(Math.min(last, 2 ** 32 - 1))}, outside ${range ? formatCidr(range) : "IPv4"}; use fewer labs or another --first-subnet`,
    );
  }
  const labSubnets = Array.from({ length: count }, (_, index) => first + index * subnetStep);
  if (labSubnets.some((network) => network === subnet.network)) {
    fail("--first-subnet", `one of the labs would get the source's own subnet ${formatCidr(subnet)}`);
  }

  const sourcePorts = options.dropPublish ? [] : publishedPorts(source.config);
  const portStep = portStepFor(sourcePorts, count);
  const width = Math.max(2, String(count).length);
  const labs = labSubnets.map((network, index): ClassroomLab => {
    const number = index + 1;
    const stack = `${source.stack}-${String(number).padStart(width, "0")}`;
    const delta = network - subnet.network;
    const config = structuredClone(source.config);
    (config["network"] as Json)["subnet"] = `${formatIpv4(network)}/${subnet.prefixLength}`;
    for (const item of found) setPath(config, item.path, formatPrefix(item.prefix.value + delta, item.prefix.octets));

    const passwords: { user: string; password: string }[] = [];
    const hostPorts: number[] = [];
    for (const domain of config["domains"] as Json[]) {
      const mailHost = domain["mailHost"] as Json;
      if (isObject(mailHost["publish"])) {
        if (options.dropPublish) delete mailHost["publish"];
        else {
          const publish = mailHost["publish"];
          for (const service of PUBLISHED_SERVICES) {
            if (typeof publish[service] !== "number") continue;
            publish[service] = (publish[service] as number) + number * portStep;
            hostPorts.push(publish[service] as number);
          }
        }
      }
      for (const user of Array.isArray(domain["users"]) ? (domain["users"] as Json[]) : []) {
        const login = `${String(user["login"])}@${String(domain["name"])}`;
        const bytes = options.seed
          ? createHmac("sha256", options.seed).update(`${stack}\0${login}`).digest()
          : (options.random ?? randomBytes)(12);
        user["password"] = passwordFrom(bytes);
        passwords.push({ user: login, password: user["password"] as string });
      }
    }
    // The real validation: a lab that would not deploy is never written.
    resolvePlan(config, { project: PROJECT, stack });
    return {
      index: number,
      stack,
      subnet: `${formatIpv4(network)}/${subnet.prefixLength}`,
      config,
      otherConfig: structuredClone(source.otherConfig ?? {}),
      passwords,
      hostPorts: hostPorts.sort((a, b) => a - b),
    };
  });
  return { source: source.stack, labs, portStep, subnetStep };
}

/** The stack file of one lab: a header saying where it came from and what to do with the passwords, then the config. */
export function renderLabStackFile(classroom: Classroom, lab: ClassroomLab, sourceFile: string): string {
  const header = [
    `# Lab ${lab.index} of ${classroom.labs.length} of a classroom made from ${sourceFile} by \`npm run classroom\`:`,
    `# the same lab on ${lab.subnet}, every address and access rule moved with it.`,
    ...(classroom.portStep > 0
      ? [
          `# Published host ports: the source's + ${lab.index * classroom.portStep} (${lab.index} x ${classroom.portStep}).`,
        ]
      : []),
    "# Change the source and generate the labs again rather than editing this file.",
    "#",
    "# The users' passwords were generated for this lab (every lab has its own) and are written in plain",
    "# text so that the instructor can hand them out with the classroom's list; `npm run e2e:up` reads",
    "# them as they are. To keep one encrypted in this file instead (pulumi up decrypts it):",
    `#   pulumi config set --stack ${lab.stack} --secret --path 'domains[0].users[0].password' <password>`,
  ];
  const config: Json = {};
  for (const [key, value] of Object.entries(lab.config)) config[`${PROJECT}:${key}`] = value;
  Object.assign(config, lab.otherConfig);
  return `${header.join("\n")}\n${stringifyYaml({ config }, { lineWidth: 0 })}`;
}

/** The instructor's list: per lab its stack, subnet, ports and each user's password. */
export function renderClassroomList(classroom: Classroom, sourceFile: string): string {
  const lines = [
    `# Classroom of ${classroom.labs.length} labs from ${sourceFile} (npm run classroom).`,
    "# Hand each lab's passwords to its students; keep this file out of version control.",
    ["lab", "stack", "subnet", "host ports", "user", "password"].join("\t"),
  ];
  for (const lab of classroom.labs) {
    const ports = lab.hostPorts.length > 0 ? lab.hostPorts.join(",") : "-";
    for (const { user, password } of lab.passwords) {
      lines.push([lab.index, lab.stack, lab.subnet, ports, user, password].join("\t"));
    }
    if (lab.passwords.length === 0) lines.push([lab.index, lab.stack, lab.subnet, ports, "-", "-"].join("\t"));
  }
  return `${lines.join("\n")}\n`;
}
