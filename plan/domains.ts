/**
 * The plan's mail domains: each declared once and none inside another, and each domain's mail
 * host with its address, access rules (no key twice: makemap refuses the file), users and aliases
 * (no system account, unique per domain) and published ports (each host port once; no SMTP open
 * relay beyond the Docker host).
 */
import { type ConfigProblem, problemAt } from "../config/errors";
import { accessPrefixesOf, formatIpv4 } from "../config/ipv4";
import { accessKeyOf, type DomainConfig } from "../config/schema";
import { accessRulesRelayFor } from "./access";
import type { AddressBook } from "./addresses";
import { type MailHostPlan, type PublishedPort, type PublishedService, SERVICE_PORTS } from "./types";

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

/** The declared domain names (undefined where a domain failed the schema), after checking them. */
export function checkDomainNames(
  domains: readonly (DomainConfig | undefined)[],
  problems: ConfigProblem[],
): (string | undefined)[] {
  // Domains: unique, and no domain inside another (their zones would overlap).
  const domainNames = domains.map((domain) => domain?.name);
  domains.forEach((domain, index) => {
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
  return domainNames;
}

/** What planning one mail host needs from the rest of the plan. */
export interface MailHostContext {
  readonly problems: ConfigProblem[];
  readonly addresses: AddressBook;
  /** The name server's host label (`ns`), which every zone has for it. */
  readonly nsHostName: string;
  /** `<project>-<stack>`, the prefix of every Docker object's name. */
  readonly namePrefix: string;
  /** Host ports published so far (`address:port`), for uniqueness messages; shared by all mail hosts. */
  readonly hostPorts: Map<{ address: string; port: number }, string>;
}

/** The mail host of `domain` (mail-lab:domains[index]). */
export function planMailHost(domain: DomainConfig, index: number, context: MailHostContext): MailHostPlan {
  const { problems, addresses, nsHostName, namePrefix, hostPorts } = context;
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
  const address = addresses.claim(
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
    const gatewayAddress = formatIpv4(addresses.gateway);
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
    configKey: `mail-lab:domains[${index}]`,
    key: fqdn.replace(/\./g, "-"),
    containerName: `${namePrefix}-${fqdn.replace(/\./g, "-")}`,
    fqdn,
    domain: domain.name,
    address,
    localHostNames: [domain.name, fqdn],
    accessRules: domain.access,
    labAccessPrefixes: accessPrefixesOf(addresses.subnet),
    users: domain.users.map((user) => ({
      login: user.login,
      password: user.password,
      aliases: user.aliases,
      email: `${user.login}@${domain.name}`,
    })),
    maxMessageSize: domain.maxMessageSize,
    publishedPorts,
  };
}
