/**
 * The resolved plan: one pure function turns validated stack config into every host, address,
 * DNS record and relay rule of the lab. Renderers, components and tests read only the plan.
 * The steps live beside it: addresses.ts (the subnet, gateway and each host's address),
 * domains.ts (domains and their mail hosts: access, users, ports), clients.ts (the PCs),
 * zones.ts (DNS); types.ts is the plan's shape.
 */
import type { z } from "zod";
import { ConfigError, type ConfigProblem, problemsFromZod } from "../config/errors";
import { formatIpv4 } from "../config/ipv4";
import {
  accessRuleSchema,
  type ClientConfig,
  clientSchema,
  type DomainConfig,
  domainSchema,
  type LabConfig,
  labConfigSchema,
  userSchema,
} from "../config/schema";
import { AddressBook } from "./addresses";
import { planClients } from "./clients";
import { checkDomainNames, planMailHost } from "./domains";
import type { ClientPlan, LabHost, LabPlan, MailHostPlan, NameServerPlan, PlanContext } from "./types";
import { planMailQueue } from "./queue";
import { planZones } from "./zones";

export * from "./types";
export { accessRulesRelayFor } from "./access";
export { CLIENT_POOL_OFFSET } from "./addresses";
export { RESERVED_LOGINS } from "./domains";

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
  const addresses = new AddressBook(config.network, problems);

  const domainNames = checkDomainNames(config.domains, problems);
  const firstDomain = config.domains.find((domain) => domain !== undefined)?.name;
  if (firstDomain === undefined) throw new ConfigError(problems);
  const nsHostName = config.nameServer.hostName;
  const nameServerFqdn = `${nsHostName}.${firstDomain}`;
  const nameServerAddress = addresses.claim(
    ["nameServer", "address"],
    config.nameServer.address ?? addresses.defaultNameServerAddress(),
    `the name server ${nameServerFqdn}`,
  );

  const hostPorts = new Map<{ address: string; port: number }, string>();
  const mailHosts: (MailHostPlan | undefined)[] = config.domains.map((domain, index) =>
    domain ? planMailHost(domain, index, { problems, addresses, nsHostName, namePrefix, hostPorts }) : undefined,
  );
  const clients = planClients(config, { problems, addresses, nsHostName, namePrefix, domainNames, mailHosts });

  if (problems.length > 0) throw new ConfigError(problems);
  // Entries that failed the schema were skipped above; the caller reports their problems.
  if (mailHosts.includes(undefined) || clients.includes(undefined)) throw new ConfigError(problems);
  const resolvedMailHosts = mailHosts as MailHostPlan[];
  const resolvedClients = clients as ClientPlan[];

  const nameServer: NameServerPlan = {
    role: "name-server",
    configKey: "mail-lab:nameServer",
    key: "ns",
    containerName: `${namePrefix}-ns`,
    fqdn: nameServerFqdn,
    domain: firstDomain,
    address: nameServerAddress,
    ttl: config.nameServer.ttl,
    soa: config.nameServer.soa,
  };
  const { zones, reverseZone } = planZones({
    subnet: addresses.subnet,
    nameServer,
    mailHosts: resolvedMailHosts,
    clients: resolvedClients,
    nsHostName,
  });

  return {
    project: context.project,
    stack: context.stack,
    namePrefix,
    network: {
      name: `${namePrefix}-${config.network.name}`,
      subnet: addresses.cidr,
      gateway: formatIpv4(addresses.gateway),
      reverseZone,
    },
    nameServer,
    mailHosts: resolvedMailHosts,
    clients: resolvedClients,
    zones,
    baseImage: config.baseImage,
    mailQueue: planMailQueue(config.mailQueue),
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
export function allHosts(plan: LabPlan): LabHost[] {
  return [plan.nameServer, ...plan.mailHosts, ...plan.clients];
}
