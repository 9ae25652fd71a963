/**
 * The plan's client PCs: unique names that clash with no other host, each the PC of an existing
 * user, with an address of its own or one from the client pool, and the way it sends mail.
 */
import { type ConfigProblem, problemAt } from "../config/errors";
import type { ClientConfig, DomainConfig } from "../config/schema";
import { accessRulesRelayFor } from "./access";
import type { AddressBook } from "./addresses";
import type { ClientPlan, MailHostPlan } from "./types";

/** What planning the clients needs from the rest of the plan. */
export interface ClientsContext {
  readonly problems: ConfigProblem[];
  readonly addresses: AddressBook;
  readonly nsHostName: string;
  readonly namePrefix: string;
  /** The declared domain names, by index (undefined where a domain failed the schema). */
  readonly domainNames: readonly (string | undefined)[];
  /** The mail hosts, by domain index. */
  readonly mailHosts: readonly (MailHostPlan | undefined)[];
}

/**
 * Every client of the config, by index; undefined for one that failed the schema or a check
 * (its problem is in `problems`). `domainsMissingUsers`: domains parsed without some of their
 * users, whose clients cannot be checked.
 */
export function planClients(
  config: {
    readonly domains: readonly (DomainConfig | undefined)[];
    readonly clients: readonly (ClientConfig | undefined)[];
    readonly domainsMissingUsers?: ReadonlySet<number>;
  },
  context: ClientsContext,
): (ClientPlan | undefined)[] {
  const { problems, addresses, nsHostName, namePrefix, domainNames, mailHosts } = context;
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
      configKey: `mail-lab:clients[${index}]`,
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
      return build(addresses.claim(["clients", index, "address"], client.address, `the client ${client.name}`));
    }
    pending.push({ index, build });
    return undefined;
  });
  // Allocation runs after every explicit address is claimed, so it never takes one a user chose.
  for (const { index, build } of pending) {
    const address = addresses.allocate(`the client ${config.clients[index]!.name}`);
    if (address === undefined) {
      problems.push({
        path: ["clients", index, "address"],
        message: `mail-lab:clients[${index}].address: no free address left in ${addresses.cidr} for client ${config.clients[index]!.name}; give it an address or use a larger subnet`,
      });
      continue;
    }
    clients[index] = build(address);
  }
  return clients;
}
