/**
 * The resolved plan: one pure function turns validated stack config into every host, address,
 * DNS record and relay rule of the lab. Renderers, components and tests read only the plan.
 */
import type { z } from "zod";
import { ConfigError, type ConfigProblem, problemAt, problemsFromZod } from "../config/errors";
import {
  accessPrefixesOf,
  broadcastOf,
  formatCidr,
  formatIpv4,
  type Ipv4Subnet,
  parseCidr,
  parseIpv4,
  reverseOwnerName,
  reverseZoneOf,
  subnetContains,
} from "../config/ipv4";
import {
  accessKeyOf,
  type AccessRule,
  accessRuleSchema,
  type ClientConfig,
  clientSchema,
  type DomainConfig,
  domainSchema,
  type LabConfig,
  labConfigSchema,
  userSchema,
} from "../config/schema";

export type HostRole = "name-server" | "mail-host" | "client";

/** What every container of the lab has. */
export interface PlannedHost {
  readonly role: HostRole;
  /** Container-safe name, unique in the lab: `ns`, `mail-naver-com`, `lee-pc`. Also the render folder. */
  readonly key: string;
  /** Docker container name: `<project>-<stack>-<key>`. */
  readonly containerName: string;
  /** Fully qualified host name, also the container's hostname: `mail.naver.com`. */
  readonly fqdn: string;
  /** The DNS domain the host's name lives in. */
  readonly domain: string;
  /** Fixed IPv4 address on the lab network. */
  readonly address: string;
}

export interface NameServerPlan extends PlannedHost {
  readonly role: "name-server";
  readonly ttl: string;
  readonly soa: {
    readonly refresh: string;
    readonly retry: string;
    readonly expire: string;
    readonly negativeTtl: string;
  };
}

export interface MailUserPlan {
  readonly login: string;
  readonly password: string;
  readonly aliases: readonly string[];
  /** login@domain */
  readonly email: string;
}

export interface MailHostPlan extends PlannedHost {
  readonly role: "mail-host";
  /** Names Sendmail treats as local (class w, local-host-names): the domain and the host's FQDN. */
  readonly localHostNames: readonly string[];
  /** The domain's access rules, in the order the config gives them. */
  readonly accessRules: readonly AccessRule[];
  /** Sendmail access prefixes covering the lab subnet, for the lab's greet_pause/rate exemptions. */
  readonly labAccessPrefixes: readonly string[];
  readonly users: readonly MailUserPlan[];
  /** Bytes. */
  readonly maxMessageSize: number;
  /** Services published on the Docker host for desktop clients (opt-in; empty by default). */
  readonly publishedPorts: readonly PublishedPort[];
}

export type PublishedService = "smtp" | "submission" | "imaps" | "pop3s";

/** The port each publishable service listens on inside the mail host. */
export const SERVICE_PORTS: Record<PublishedService, number> = { smtp: 25, submission: 587, imaps: 993, pop3s: 995 };

export interface PublishedPort {
  readonly service: PublishedService;
  readonly containerPort: number;
  readonly hostAddress: string;
  readonly hostPort: number;
}

export interface ClientPlan extends PlannedHost {
  readonly role: "client";
  /** The user whose PC this is. */
  readonly login: string;
  readonly email: string;
  /** The mail host of the user's domain. */
  readonly mailHostFqdn: string;
  readonly mailHostAddress: string;
  /**
   * How the PC sends mail: on 25 without authentication when its mail host's access rules relay
   * for it (the course's way), otherwise on the submission port 587 with SMTP AUTH.
   */
  readonly submission:
    { readonly port: 25; readonly authenticate: false } | { readonly port: 587; readonly authenticate: true };
}

/**
 * Whether a RELAY rule of the access map covers a client connecting from `address` with the
 * host name `fqdn` (Sendmail looks up the connecting host's name in the lab's reverse zone).
 * Untagged and Connect: rules count; a more specific REJECT for the same client is not modelled.
 */
export function accessRulesRelayFor(rules: readonly AccessRule[], address: string, fqdn: string): boolean {
  return rules.some((rule) => {
    if (rule.action !== "RELAY" || (rule.tag !== undefined && rule.tag !== "Connect") || rule.match.includes("@")) {
      return false;
    }
    const match = rule.match.toLowerCase();
    if (/^\d+(\.\d+){0,3}$/.test(match)) return address === match || address.startsWith(`${match}.`);
    return fqdn === match || fqdn.endsWith(`.${match}`);
  });
}

export type DnsRecord =
  | { readonly owner: string; readonly type: "NS"; readonly target: string }
  | { readonly owner: string; readonly type: "A"; readonly address: string }
  | { readonly owner: string; readonly type: "MX"; readonly priority: number; readonly target: string }
  | { readonly owner: string; readonly type: "PTR"; readonly target: string };

export interface ZonePlan {
  /** Zone apex without trailing dot: `naver.com`, `2.0.10.in-addr.arpa`; the root zone is `.`. */
  readonly name: string;
  /**
   * `forward`: a mail domain; `reverse`: the lab subnet's PTRs; `root`: the lab's own root, which
   * delegates the lab's zones and so makes every other name a non-existent one.
   */
  readonly kind: "forward" | "reverse" | "root";
  /** SOA MNAME, fully qualified without trailing dot. */
  readonly primaryNameServer: string;
  /** SOA RNAME in mailbox form (root@naver.com -> root.naver.com). */
  readonly hostmaster: string;
  /** Owner names are relative to the zone (`@` for the apex); targets are fully qualified without trailing dot. */
  readonly records: readonly DnsRecord[];
}

export interface LabPlan {
  readonly project: string;
  readonly stack: string;
  /** `<project>-<stack>`, the prefix of every Docker object's name. */
  readonly namePrefix: string;
  readonly network: {
    /** Docker network name. */
    readonly name: string;
    readonly subnet: string;
    readonly gateway: string;
    readonly reverseZone: string;
  };
  readonly nameServer: NameServerPlan;
  readonly mailHosts: readonly MailHostPlan[];
  readonly clients: readonly ClientPlan[];
  readonly zones: readonly ZonePlan[];
  readonly baseImage: string;
  /** Sendmail queue timing (sendmail time values such as 1m, 1h). */
  readonly mailQueue: { readonly runInterval: string; readonly lifetime: string };
  /** Whether `pulumi up` runs the lab's round trip after every host is healthy. */
  readonly verify: boolean;
  /**
   * An exercise lab (`mail-lab:exercise`): the hosts boot with their packages' stock configuration
   * and the students configure them; the rest of the plan is the answer key.
   */
  readonly exercise: boolean;
}

export interface PlanContext {
  readonly project: string;
  readonly stack: string;
}

/**
 * Accounts that already exist in the images (Debian base, bind9, sendmail, dovecot) or that
 * Sendmail's aliases reserve; a lab user with one of these names would take over a system account.
 */
export const RESERVED_LOGINS = new Set([
  "root",
  "daemon",
  "bin",
  "sys",
  "sync",
  "games",
  "man",
  "lp",
  "mail",
  "news",
  "uucp",
  "proxy",
  "www-data",
  "backup",
  "list",
  "irc",
  "gnats",
  "nobody",
  "bind",
  "smmta",
  "smmsp",
  "dovecot",
  "dovenull",
  "syslog",
  "messagebus",
  "postmaster",
  "abuse",
  "mailer-daemon",
  "hostmaster",
  "webmaster",
  "spam",
]);

/** First address handed to clients without an explicit one, as an offset from the network address. */
export const CLIENT_POOL_OFFSET = 10;

const STACK_NAME = /^[a-z0-9]([a-z0-9_.-]*[a-z0-9])?$/;

/**
 * Validates raw stack config (as parsed from YAML or Pulumi config) and resolves the plan.
 * Throws a ConfigError listing every problem at once; nothing is created before this returns.
 */
export function resolvePlan(rawConfig: unknown, context: PlanContext): LabPlan {
  const parsed = labConfigSchema.safeParse(rawConfig, { reportInput: true });
  if (parsed.success) return buildPlan(parsed.data, context);
  const problems = problemsFromZod(labConfigSchema as z.ZodType, parsed.error.issues);
  // Report cross-field problems (addresses, names, users) of the entries that did parse, so that
  // one run lists every problem: a bad login and a clashing address are fixed in one go.
  const partial = partialConfig(dropKeys(rawConfig, parsed.error.issues));
  if (partial) {
    try {
      checkAndBuild(partial, context);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  throw new ConfigError(problems);
}

/**
 * Config in which some domains or clients failed the schema. Cross-field checks skip those
 * entries (their own problems are already reported) but keep every index as written.
 */
interface PartialLabConfig extends Omit<LabConfig, "domains" | "clients"> {
  readonly domains: readonly (DomainConfig | undefined)[];
  readonly clients: readonly (ClientConfig | undefined)[];
  /** Indexes of domains parsed without some of their users, whose clients cannot be checked. */
  readonly domainsMissingUsers?: ReadonlySet<number>;
}

/**
 * A domain that failed the schema, parsed again without its invalid users, access rules and
 * message size, so that its name and mail host still take part in the cross-field checks.
 */
function partialDomain(raw: unknown): { domain: DomainConfig; missingUsers: boolean } | undefined {
  const whole = domainSchema.safeParse(raw);
  if (whole.success) return { domain: whole.data, missingUsers: false };
  if (raw === null || typeof raw !== "object") return undefined;
  const parts = { ...(raw as Record<string, unknown>) };
  const validItems = (items: unknown, schema: z.ZodType) =>
    Array.isArray(items) ? items.filter((item) => schema.safeParse(item).success) : undefined;
  const users = validItems(parts.users, userSchema);
  const missingUsers = !Array.isArray(parts.users) || users!.length !== parts.users.length;
  parts.users = users;
  parts.access = validItems(parts.access, accessRuleSchema);
  if (!domainSchema.shape.maxMessageSize.safeParse(parts.maxMessageSize).success) delete parts.maxMessageSize;
  const retried = domainSchema.safeParse(parts);
  return retried.success ? { domain: retried.data, missingUsers } : undefined;
}

/** Parses each part of a config that failed as a whole; undefined when the network or name server did not parse. */
function partialConfig(raw: unknown): PartialLabConfig | undefined {
  if (raw === null || typeof raw !== "object") return undefined;
  const parts = raw as Record<string, unknown>;
  const shape = labConfigSchema.shape;
  const network = shape.network.safeParse(parts.network);
  const nameServer = shape.nameServer.safeParse(parts.nameServer);
  if (!network.success || !nameServer.success || !Array.isArray(parts.domains)) return undefined;
  const clients = parts.clients === undefined ? [] : parts.clients;
  if (!Array.isArray(clients)) return undefined;
  // A key that failed the schema falls back to the schema's own default (it does not take part in the cross-field checks).
  const orDefault = <T>(result: { success: boolean; data?: T }, schema: { parse(value: undefined): T }): T =>
    result.success ? result.data! : schema.parse(undefined);
  const domains = parts.domains.map(partialDomain);
  return {
    network: network.data,
    nameServer: nameServer.data,
    domains: domains.map((domain) => domain?.domain),
    domainsMissingUsers: new Set(domains.flatMap((domain, index) => (domain?.missingUsers ? [index] : []))),
    clients: clients.map((client) => clientSchema.safeParse(client).data),
    baseImage: orDefault(shape.baseImage.safeParse(parts.baseImage), shape.baseImage),
    mailQueue: orDefault(shape.mailQueue.safeParse(parts.mailQueue), shape.mailQueue),
    verify: orDefault(shape.verify.safeParse(parts.verify), shape.verify),
    exercise: orDefault(shape.exercise.safeParse(parts.exercise), shape.exercise),
  };
}

/** A copy of `value` without the keys that zod reported as unrecognized. */
function dropKeys(value: unknown, issues: readonly z.core.$ZodIssue[]): unknown {
  const copy = structuredClone(value);
  for (const issue of issues) {
    if (issue.code !== "unrecognized_keys") continue;
    let target: unknown = copy;
    for (const segment of issue.path) target = (target as Record<PropertyKey, unknown>)[segment as string];
    for (const key of issue.keys) delete (target as Record<string, unknown>)[key];
  }
  return copy;
}

/** Cross-field validation and resolution of config that already passed the schema. */
export function buildPlan(config: LabConfig, context: PlanContext): LabPlan {
  return checkAndBuild(config, context);
}

function checkAndBuild(config: PartialLabConfig, context: PlanContext): LabPlan {
  const problems: ConfigProblem[] = [];
  const stack = context.stack.toLowerCase().replace(/[^a-z0-9_.-]/g, "-");
  if (!STACK_NAME.test(stack)) {
    problems.push({
      path: [],
      message: `stack name ${JSON.stringify(context.stack)} cannot be used in Docker names; use letters, digits, -, _ or .`,
    });
  }
  const namePrefix = `${context.project}-${stack}`;
  const subnet = parseCidr(config.network.subnet) as Ipv4Subnet; // the schema already checked it
  const cidr = formatCidr(subnet);
  const broadcast = broadcastOf(subnet);
  const firstUsable = subnet.network + 1;
  const lastUsable = broadcast - 1;
  const usableRange = `${formatIpv4(firstUsable + 1)} to ${formatIpv4(lastUsable)}`;

  // Gateway: the Docker bridge's own address, so no host may take it.
  let gateway = firstUsable;
  if (config.network.gateway !== undefined) {
    const value = parseIpv4(config.network.gateway)!;
    if (!subnetContains(subnet, value) || value === subnet.network || value === broadcast) {
      problems.push(
        problemAt(
          ["network", "gateway"],
          config.network.gateway,
          `is not a usable address of ${cidr}; use one from ${formatIpv4(firstUsable)} to ${formatIpv4(lastUsable)} (default ${formatIpv4(firstUsable)})`,
        ),
      );
    } else {
      gateway = value;
    }
  }

  /** Addresses taken so far, with the key that took them, for uniqueness messages. */
  const taken = new Map<number, string>();
  const claimAddress = (path: PropertyKey[], text: string, owner: string): string => {
    const value = parseIpv4(text)!;
    const where = `use an address from ${usableRange} that no other host has`;
    if (!subnetContains(subnet, value)) {
      problems.push(problemAt(path, text, `is outside the subnet ${cidr}; ${where}`));
    } else if (value === subnet.network) {
      problems.push(problemAt(path, text, `is the network address of ${cidr}; ${where}`));
    } else if (value === broadcast) {
      problems.push(problemAt(path, text, `is the broadcast address of ${cidr}; ${where}`));
    } else if (value === gateway) {
      problems.push(problemAt(path, text, `is the network's gateway (mail-lab:network.gateway); ${where}`));
    } else if (taken.has(value)) {
      problems.push(problemAt(path, text, `is already the address of ${taken.get(value)}; ${where}`));
    } else {
      taken.set(value, owner);
    }
    return formatIpv4(value);
  };

  // Domains: unique, and no domain inside another (their zones would overlap).
  const domainNames = config.domains.map((domain) => domain?.name);
  config.domains.forEach((domain, index) => {
    if (!domain) return;
    const first = domainNames.indexOf(domain.name);
    if (first !== index) {
      problems.push(
        problemAt(
          ["domains", index, "name"],
          domain.name,
          `is already declared at mail-lab:domains[${first}]; each domain appears once`,
        ),
      );
      return;
    }
    const parent = domainNames.find(
      (other) => other !== undefined && other !== domain.name && domain.name.endsWith(`.${other}`),
    );
    if (parent) {
      problems.push(
        problemAt(
          ["domains", index, "name"],
          domain.name,
          `lies inside the lab domain ${parent}, so their zones would overlap; use a separate domain`,
        ),
      );
    }
  });

  const firstDomain = config.domains.find((domain) => domain !== undefined)?.name;
  if (firstDomain === undefined) throw new ConfigError(problems);
  const nsHostName = config.nameServer.hostName;
  const nameServerFqdn = `${nsHostName}.${firstDomain}`;
  const nsAddressText = config.nameServer.address ?? formatIpv4(firstUsable + (gateway === firstUsable ? 1 : 0));
  const nameServerAddress = claimAddress(["nameServer", "address"], nsAddressText, `the name server ${nameServerFqdn}`);

  /** Host ports published so far (`address:port`), for uniqueness messages. */
  const hostPorts = new Map<{ address: string; port: number }, string>();
  const mailHosts: (MailHostPlan | undefined)[] = config.domains.map((domain, index) => {
    if (!domain) return undefined;
    const fqdn = `${domain.mailHost.hostName}.${domain.name}`;
    if (domain.mailHost.hostName === nsHostName) {
      problems.push(
        problemAt(
          ["domains", index, "mailHost", "hostName"],
          domain.mailHost.hostName,
          `is the name server's host name (every zone has ${nsHostName}.<domain> for it); choose another, such as mail`,
        ),
      );
    }
    const address = claimAddress(
      ["domains", index, "mailHost", "address"],
      domain.mailHost.address,
      `the mail host ${fqdn}`,
    );
    // makemap refuses a whole access file whose keys repeat (compared without case), including
    // the host's own `Connect:localhost`-style entries that the renderer adds.
    const accessKeys = new Map<string, string>(
      ["localhost.localdomain", "localhost", "127.0.0.1"].map((match) => [
        `connect:${match}`,
        "the built-in localhost entries",
      ]),
    );
    domain.access.forEach((rule, ruleIndex) => {
      const key = accessKeyOf(rule).toLowerCase();
      const path = ["domains", index, "access", ruleIndex, "match"];
      if (accessKeys.has(key)) {
        problems.push(
          problemAt(
            path,
            rule.match,
            `repeats the access key of ${accessKeys.get(key)}; Sendmail's makemap refuses duplicate keys, so merge the two rules`,
          ),
        );
      } else {
        accessKeys.set(key, `mail-lab:domains[${index}].access[${ruleIndex}]`);
      }
    });
    const seen = new Map<string, string>();
    domain.users.forEach((user, userIndex) => {
      const names: [string, PropertyKey[]][] = [
        [user.login, ["domains", index, "users", userIndex, "login"]],
        ...user.aliases.map((alias, aliasIndex): [string, PropertyKey[]] => [
          alias,
          ["domains", index, "users", userIndex, "aliases", aliasIndex],
        ]),
      ];
      for (const [name, path] of names) {
        if (RESERVED_LOGINS.has(name)) {
          problems.push(
            problemAt(path, name, "is a system account or reserved mail alias on the mail host; choose another name"),
          );
        } else if (seen.has(name)) {
          problems.push(
            problemAt(
              path,
              name,
              `is already used by ${seen.get(name)} in ${domain.name}; names must be unique per domain`,
            ),
          );
        } else {
          seen.set(name, path.length === 5 ? `user ${user.login}` : `an alias of ${user.login}`);
        }
      }
    });
    const publish = domain.mailHost.publish;
    const publishedPorts: PublishedPort[] = [];
    if (publish) {
      for (const service of Object.keys(SERVICE_PORTS) as PublishedService[]) {
        const hostPort = publish[service];
        if (hostPort === undefined) continue;
        const path = ["domains", index, "mailHost", "publish", service];
        // 0.0.0.0 takes the port on every address, so it clashes with any other use of the port.
        const clash = [...hostPorts].find(
          ([taken]) =>
            taken.port === hostPort &&
            (taken.address === publish.address || taken.address === "0.0.0.0" || publish.address === "0.0.0.0"),
        );
        if (clash) {
          problems.push(
            problemAt(
              path,
              hostPort,
              `is already published on ${clash[0].address} for ${clash[1]}; give each service its own host port`,
            ),
          );
        } else {
          hostPorts.set({ address: publish.address, port: hostPort }, `${service} of ${fqdn}`);
        }
        publishedPorts.push({ service, containerPort: SERVICE_PORTS[service], hostAddress: publish.address, hostPort });
      }
      // A connection through a published port reaches Sendmail from the lab network's gateway, so
      // a RELAY rule covering the gateway relays for whoever reaches the published SMTP port: on
      // loopback that is the Docker host alone, on any other address a whole LAN (an open relay).
      // Submission (587) needs SMTP AUTH before relaying, and POP3S/IMAPS do not relay at all.
      const gatewayAddress = formatIpv4(gateway);
      const loopback = publish.address.startsWith("127.");
      if (publish.smtp !== undefined && !loopback) {
        domain.access.forEach((rule, ruleIndex) => {
          if (!accessRulesRelayFor([rule], gatewayAddress, "")) return;
          problems.push(
            problemAt(
              ["domains", index, "mailHost", "publish", "address"],
              publish.address,
              `publishes SMTP (port ${publish.smtp}) beyond the Docker host, and mail-lab:domains[${index}].access[${ruleIndex}] ` +
                `("${accessKeyOf(rule)} RELAY") relays for every connection through it, since they arrive ` +
                `from the gateway ${gatewayAddress}: an open relay for that network. Publish on 127.0.0.1, leave smtp out of publish ` +
                `(submission on 587 asks for a password), or narrow mail-lab:domains[${index}].access[${ruleIndex}] to the PCs' own addresses`,
            ),
          );
        });
      }
    }
    return {
      role: "mail-host",
      key: fqdn.replace(/\./g, "-"),
      containerName: `${namePrefix}-${fqdn.replace(/\./g, "-")}`,
      fqdn,
      domain: domain.name,
      address,
      localHostNames: [domain.name, fqdn],
      accessRules: domain.access,
      labAccessPrefixes: accessPrefixesOf(subnet),
      users: domain.users.map((user) => ({
        login: user.login,
        password: user.password,
        aliases: user.aliases,
        email: `${user.login}@${domain.name}`,
      })),
      maxMessageSize: domain.maxMessageSize,
      publishedPorts,
    };
  });

  // Clients: unique names that clash with no other host, existing users, addresses explicit or allocated.
  const reservedKeys = new Set(["ns", nsHostName, ...mailHosts.flatMap((host) => (host ? [host.key] : []))]);
  const clientNames = config.clients.map((client) => client?.name);
  const pending: { index: number; build: (address: string) => ClientPlan }[] = [];
  const clients: (ClientPlan | undefined)[] = config.clients.map((client, index) => {
    if (!client) return undefined;
    const namePath = ["clients", index, "name"];
    if (clientNames.indexOf(client.name) !== index) {
      problems.push(
        problemAt(namePath, client.name, "is already the name of another client; give each client its own name"),
      );
    } else if (reservedKeys.has(client.name)) {
      problems.push(
        problemAt(
          namePath,
          client.name,
          "is the name of the name server or a mail host; choose another, such as lee-pc",
        ),
      );
    }
    const [login, domainName] = client.user.toLowerCase().split("@") as [string, string];
    const domainIndex = domainNames.indexOf(domainName);
    const domain = config.domains[domainIndex];
    // A domain that failed the schema may be the one meant; its own problem is reported already.
    if (!domain && config.domains.includes(undefined)) return undefined;
    if (!domain) {
      problems.push(
        problemAt(
          ["clients", index, "user"],
          client.user,
          `names domain ${domainName}, which is not in mail-lab:domains (${domainNames.filter(Boolean).join(", ")}); use one of those`,
        ),
      );
      return undefined;
    }
    if (!domain.users.some((user) => user.login === login)) {
      if (config.domainsMissingUsers?.has(domainIndex)) return undefined; // the user may be the invalid one
      const known = domain.users.map((user) => user.login).join(", ") || "none";
      problems.push(
        problemAt(
          ["clients", index, "user"],
          client.user,
          `is not a user of ${domainName} (users: ${known}); add it to mail-lab:domains[${domainIndex}].users or fix the address`,
        ),
      );
      return undefined;
    }
    const mailHost = mailHosts[domainIndex]!;
    if (client.name === domain.mailHost.hostName) {
      problems.push(
        problemAt(
          namePath,
          client.name,
          `would give the client the FQDN ${mailHost.fqdn}, which is the mail host's; choose another, such as ${login}-pc`,
        ),
      );
    }
    const fqdn = `${client.name}.${domainName}`;
    const build = (address: string): ClientPlan => ({
      role: "client",
      key: client.name,
      containerName: `${namePrefix}-${client.name}`,
      fqdn,
      domain: domainName,
      address,
      login,
      email: `${login}@${domainName}`,
      mailHostFqdn: mailHost.fqdn,
      mailHostAddress: mailHost.address,
      submission: accessRulesRelayFor(mailHost.accessRules, address, fqdn)
        ? { port: 25, authenticate: false }
        : { port: 587, authenticate: true },
    });
    if (client.address !== undefined) {
      return build(claimAddress(["clients", index, "address"], client.address, `the client ${client.name}`));
    }
    pending.push({ index, build });
    return undefined;
  });
  // Allocation runs after every explicit address is claimed, so it never takes one a user chose.
  let candidate = subnet.network + CLIENT_POOL_OFFSET;
  for (const { index, build } of pending) {
    while (candidate <= lastUsable && (taken.has(candidate) || candidate === gateway)) candidate++;
    if (candidate > lastUsable) {
      problems.push({
        path: ["clients", index, "address"],
        message: `mail-lab:clients[${index}].address: no free address left in ${cidr} for client ${config.clients[index]!.name}; give it an address or use a larger subnet`,
      });
      continue;
    }
    taken.set(candidate, `the client ${config.clients[index]!.name}`);
    clients[index] = build(formatIpv4(candidate));
  }

  if (problems.length > 0) throw new ConfigError(problems);
  // Entries that failed the schema were skipped above; the caller reports their problems.
  if (mailHosts.includes(undefined) || clients.includes(undefined)) throw new ConfigError(problems);
  const resolvedMailHosts = mailHosts as MailHostPlan[];

  const nameServer: NameServerPlan = {
    role: "name-server",
    key: "ns",
    containerName: `${namePrefix}-ns`,
    fqdn: nameServerFqdn,
    domain: firstDomain,
    address: nameServerAddress,
    ttl: config.nameServer.ttl,
    soa: config.nameServer.soa,
  };
  const resolvedClients = clients as ClientPlan[];
  const reverse = reverseZoneOf(subnet);
  const zones: ZonePlan[] = resolvedMailHosts.map((mailHost) => {
    const relative = (fqdn: string) => fqdn.slice(0, -(mailHost.domain.length + 1));
    const records: DnsRecord[] = [
      { owner: "@", type: "NS", target: `${nsHostName}.${mailHost.domain}` },
      // The course gives the domain itself an A record for its mail server.
      { owner: "@", type: "A", address: mailHost.address },
      { owner: "@", type: "MX", priority: 10, target: mailHost.fqdn },
      { owner: nsHostName, type: "A", address: nameServerAddress },
      { owner: relative(mailHost.fqdn), type: "A", address: mailHost.address },
      ...resolvedClients
        .filter((client) => client.domain === mailHost.domain)
        .map((client): DnsRecord => ({ owner: relative(client.fqdn), type: "A", address: client.address })),
    ];
    return {
      name: mailHost.domain,
      kind: "forward",
      primaryNameServer: `${nsHostName}.${mailHost.domain}`,
      hostmaster: `root.${mailHost.domain}`,
      records,
    };
  });
  const ptr = (host: PlannedHost): DnsRecord => ({
    owner: reverseOwnerName(parseIpv4(host.address)!, reverse.octets),
    type: "PTR",
    target: host.fqdn,
  });
  const hostsByAddress = [nameServer, ...resolvedMailHosts, ...resolvedClients].sort(
    (a, b) => parseIpv4(a.address)! - parseIpv4(b.address)!,
  );
  zones.push({
    name: reverse.zone,
    kind: "reverse",
    primaryNameServer: nameServerFqdn,
    hostmaster: `root.${firstDomain}`,
    records: [{ owner: "@", type: "NS", target: nameServerFqdn }, ...hostsByAddress.map(ptr)],
  });
  // The lab is a closed world. Without a root, a name outside the lab gets REFUSED (recursion is
  // off), which every mail program takes for a temporary failure: a stranger's relay attempt is
  // told to retry (450), an outside sender domain gets 451 instead of the access map's REJECT,
  // and mail to an outside domain waits the whole queue lifetime. With the lab's own root zone on
  // the same server, every other name is NXDOMAIN with authority: a permanent answer. The root
  // holds only its own NS and that name server's address; the lab's zones need no delegation
  // from it, since BIND answers from the closest zone it serves (naver.com for mail.naver.com).
  zones.unshift({
    name: ".",
    kind: "root",
    primaryNameServer: nameServerFqdn,
    hostmaster: `root.${firstDomain}`,
    records: [
      { owner: "@", type: "NS", target: nameServerFqdn },
      { owner: nameServerFqdn, type: "A", address: nameServerAddress },
    ],
  });

  return {
    project: context.project,
    stack: context.stack,
    namePrefix,
    network: {
      name: `${namePrefix}-${config.network.name}`,
      subnet: cidr,
      gateway: formatIpv4(gateway),
      reverseZone: reverse.zone,
    },
    nameServer,
    mailHosts: resolvedMailHosts,
    clients: resolvedClients,
    zones,
    baseImage: config.baseImage,
    mailQueue: config.mailQueue,
    // An exercise lab's hosts start unconfigured: its round trip is for `npm run grade`, later.
    verify: config.verify && !config.exercise,
    exercise: config.exercise,
  };
}

/**
 * The configured lab of an exercise plan (the same plan with `exercise` off): its rendered files
 * are the exercise's answer key (`npm run render`). A configured plan is its own answer key.
 */
export function answerKeyOf(plan: LabPlan): LabPlan {
  return plan.exercise ? { ...plan, exercise: false, verify: false } : plan;
}

/** Every host of the plan, name server first, in the order they are created. */
export function allHosts(plan: LabPlan): PlannedHost[] {
  return [plan.nameServer, ...plan.mailHosts, ...plan.clients];
}
