/**
 * Sendmail's configuration for one mail host: /etc/mail/sendmail.mc, local-host-names, access and
 * /etc/aliases. Pure functions over the plan; the image builds sendmail.cf from the .mc with plain
 * m4 and the maps with makemap/newaliases at start (no sendmailconfig).
 *
 * Section names in comments refer to Sendmail's cf/README (Debian: sendmail-doc's cf.README.gz).
 */
import type { LabPlan, MailHostPlan } from "../spec/plan";
import type { AccessRule } from "../spec/schema";
import { generatedHeader, PATHS, type RenderedFile } from "./files";

/** Where the cf macros live (Debian package sendmail-cf). */
export const SENDMAIL_CF_M4 = "/usr/share/sendmail/cf/m4/cf.m4";

/** The queue directory; Debian's and Sendmail's default, named in the course. */
export const QUEUE_DIRECTORY = "/var/spool/mqueue";

/**
 * confCACERT_PATH: the folder of the lab's TLS files, which holds no CA but the lab's own (confCACERT),
 * so this host trusts only certificates the stack issued.
 */
export const TLS_DIRECTORY = PATHS.tlsCa.slice(0, PATHS.tlsCa.lastIndexOf("/"));

/**
 * Aliases Debian ships in /etc/aliases (sendmail-base's examples/db/aliases): the two RFC 5321 /
 * RFC 2142 mailboxes every domain needs, and the usual complaint addresses.
 */
export const STANDARD_ALIASES: readonly (readonly [alias: string, target: string])[] = [
  ["postmaster", "root"],
  ["MAILER-DAEMON", "postmaster"],
  ["abuse", "postmaster"],
  ["spam", "postmaster"],
];

/** Debian's access entries that let the host itself relay (sendmail-base's default access file). */
const LOCALHOST_RELAY: readonly (readonly [key: string, value: string])[] = [
  ["Connect:localhost.localdomain", "RELAY"],
  ["Connect:localhost", "RELAY"],
  ["Connect:127.0.0.1", "RELAY"],
];

/**
 * Tags of the per-client connection features this .mc enables; a value of 0 turns each off for a
 * client: greet_pause (cf/README, FEATURES, "greet_pause"), conncontrol and ratecontrol
 * (cf/README, CONNECTION CONTROL).
 */
const EXEMPTION_TAGS = ["GreetPause", "ClientRate", "ClientConn"] as const;

/** The index of `host` in `plan.mailHosts`, which follows `mail-lab:domains`; for config key names. */
function domainIndexOf(plan: LabPlan, host: MailHostPlan): number {
  const index = plan.mailHosts.findIndex((candidate) => candidate.key === host.key);
  if (index < 0) {
    const known = plan.mailHosts.map((candidate) => candidate.fqdn).join(", ");
    throw new Error(
      `unable to resolve mail host ${host.fqdn} in the plan of stack "${plan.stack}" (mail hosts: ${known})`,
    );
  }
  return index;
}

/** Two columns, the second aligned two spaces after the longest first column, as the course lays out access. */
function alignColumns(rows: readonly (readonly [string, string])[], separator = ""): string[] {
  const width = Math.max(0, ...rows.map(([left]) => left.length + separator.length));
  return rows.map(([left, right]) => `${(left + separator).padEnd(width)}  ${right}`);
}

/**
 * /etc/mail/sendmail.mc in the layout of Debian's own (cf/debian/sendmail.mc): cf.m4, VERSIONID,
 * OSTYPE(`debian'), DOMAIN(`debian-mta'), defines, FEATUREs, MAILERs last (cf/README,
 * INTRODUCTION AND EXAMPLE, for the order). Debian's dialup.m4/provider.m4 includes are left out:
 * the lab has no dial-up link and those files need not exist in the image.
 */
export function renderSendmailMc(plan: LabPlan, host: MailHostPlan): string {
  const domain = `mail-lab:domains[${domainIndexOf(plan, host)}]`;
  const lines = [
    generatedHeader("dnl", plan.stack, [`${domain}.maxMessageSize`]).trimEnd(),
    `dnl Mail host ${host.fqdn} (${host.address}). Build: m4 ${PATHS.sendmailMc} > /etc/mail/sendmail.cf`,
    "divert(-1)dnl",
    "divert(0)dnl",
    "define(`_USE_ETC_MAIL_')dnl",
    `include(\`${SENDMAIL_CF_M4}')dnl`,
    `VERSIONID(\`mail-lab ${plan.stack} ${host.fqdn}')dnl`,
    "OSTYPE(`debian')dnl",
    "DOMAIN(`debian-mta')dnl",
    "dnl #",
    "dnl # No persistent host status, as Debian's default sendmail.conf (DAEMON_HOSTSTATS=No).",
    "undefine(`confHOST_STATUS_DIRECTORY')dnl",
    "dnl #",
    "dnl # Daemons. Debian binds the MTA to Addr=127.0.0.1; the course deletes `Addr=127.0.0.1' from",
    "dnl # DaemonPortOptions so that other hosts can deliver to this one, so the MTA listens on every",
    "dnl # address. No MSA on the submission port: the lab's clients submit on port 25 as in the course.",
    "FEATURE(`no_default_msa')dnl",
    "DAEMON_OPTIONS(`Family=inet, Name=MTA-v4, Port=smtp')dnl",
    "dnl #",
    "dnl # Debian's privacy flags (cf/README, TWEAKING CONFIGURATION OPTIONS, confPRIVACY_FLAGS).",
    "define(`confPRIVACY_FLAGS',dnl",
    "`needmailhelo,needexpnhelo,needvrfyhelo,restrictqrun,restrictexpand,nobodyreturn,authwarnings')dnl",
    "dnl #",
    "dnl # Debian also sets confCONNECTION_RATE_THROTTLE 15: a limit on connections per second for the",
    "dnl # whole daemon that the access map cannot exempt, so it would skew the lab's load tests; left out.",
    "dnl # The window below is what ClientRate: entries count in (ratecontrol).",
    "define(`confCONNECTION_RATE_WINDOW_SIZE', `10m')dnl",
    "define(`confBAD_RCPT_THROTTLE', `3')dnl",
    "dnl #",
    "dnl # Largest message accepted, in bytes (the course's MaxMessageSize).",
    `define(\`confMAX_MESSAGE_SIZE', \`${host.maxMessageSize}')dnl`,
    "dnl #",
    "dnl # The queue: deferred mail waits here and is retried on every queue run (sendmail -q1m).",
    `define(\`QUEUE_DIR', \`${QUEUE_DIRECTORY}')dnl`,
    "dnl # Host status (a peer found down) is cached for Timeout.hoststatus, 30m by default; in the lab a",
    "dnl # receiver that comes back must be retried on the next queue run, so cache it for 1m only.",
    "define(`confTO_HOSTSTATUS', `1m')dnl",
    "dnl # Warn the sender of a delay after 1h (default 4h), so a lab session can see the warning;",
    "dnl # return the mail after 1d (default 5d), as the lab is torn down long before 5 days.",
    "define(`confTO_QUEUEWARN', `1h')dnl",
    "define(`confTO_QUEUERETURN', `1d')dnl",
    "dnl #",
    "dnl # STARTTLS (cf/README, STARTTLS) with the certificate the stack's CA issued for this host; the",
    "dnl # same pair serves when this host is the SMTP client of another mail host.",
    `define(\`confCACERT_PATH', \`${TLS_DIRECTORY}')dnl`,
    `define(\`confCACERT', \`${PATHS.tlsCa}')dnl`,
    `define(\`confSERVER_CERT', \`${PATHS.tlsCert}')dnl`,
    `define(\`confSERVER_KEY', \`${PATHS.tlsKey}')dnl`,
    `define(\`confCLIENT_CERT', \`${PATHS.tlsCert}')dnl`,
    `define(\`confCLIENT_KEY', \`${PATHS.tlsKey}')dnl`,
    "dnl # V: do not ask SMTP clients for a certificate (mutt, swaks and PCs have none), as Debian's",
    "dnl # starttls.m4 (cf/README, TWEAKING CONFIGURATION OPTIONS, confTLS_SRV_OPTIONS).",
    "define(`confTLS_SRV_OPTIONS', `V')dnl",
    "dnl # Secret files may be written 0640; without this flag Sendmail refuses a group-readable key and",
    "dnl # silently offers no STARTTLS. Debian's starttls.m4 adds the same flag.",
    "define(`confDONT_BLAME_SENDMAIL', defn(`confDONT_BLAME_SENDMAIL')`,GroupReadableKeyFile')dnl",
    "dnl #",
    `dnl # Class w (names delivered locally) from ${PATHS.localHostNames} (cf/README, FEATURES,`,
    "dnl # use_cw_file); Debian's OSTYPE makes the file mandatory and skips # comments in it.",
    "FEATURE(`use_cw_file')dnl",
    `dnl # Relay and reject rules from ${PATHS.access}.db (cf/README, ANTI-SPAM CONFIGURATION CONTROL).`,
    "FEATURE(`access_db')dnl",
    "dnl # Debian's anti-bot features, kept; the access map exempts the lab subnet from each so that",
    "dnl # tests are not slowed or cut off (GreetPause:, ClientRate:, ClientConn: entries).",
    "FEATURE(`greet_pause', `1000')dnl",
    "FEATURE(`delay_checks', `friend', `n')dnl",
    "FEATURE(`conncontrol', `nodelay', `terminate')dnl",
    "FEATURE(`ratecontrol', `nodelay', `terminate')dnl",
    "dnl #",
    "dnl # Mailers last. Debian's local mailer is sensible-mda, delivering to /var/mail/USER.",
    "MAILER(`local')dnl",
    "MAILER(`smtp')dnl",
  ];
  return `${lines.join("\n")}\n`;
}

/** /etc/mail/local-host-names: the domain and the mail host's FQDN, or mail to the domain loops back. */
export function renderLocalHostNames(plan: LabPlan, host: MailHostPlan): string {
  const domain = `mail-lab:domains[${domainIndexOf(plan, host)}]`;
  return [
    generatedHeader("#", plan.stack, [`${domain}.name`, `${domain}.mailHost.hostName`]).trimEnd(),
    ...host.localHostNames,
    "",
  ].join("\n");
}

/**
 * The right-hand side of an access entry (cf/README, ANTI-SPAM CONFIGURATION CONTROL). ERROR text
 * is quoted so Sendmail does not parse it as addresses; a 4xx reply gets an explicit 4.0.0 status
 * code, because without one Sendmail pairs it with 5.0.0.
 */
function accessValue(rule: AccessRule): string {
  if (rule.action !== "ERROR") return rule.action;
  const message = rule.message ?? "";
  return message.startsWith("4") ? `ERROR:4.0.0:"${message}"` : `ERROR:"${message}"`;
}

/**
 * /etc/mail/access: Debian's localhost relay entries, the domain's rules in config order, then the
 * exemptions of the lab subnet from greet_pause, ratecontrol and conncontrol.
 * Throws when two entries share a key: makemap rejects the whole file then (keys are case-insensitive).
 */
export function renderAccess(plan: LabPlan, host: MailHostPlan): string {
  const domain = `mail-lab:domains[${domainIndexOf(plan, host)}]`;
  const keyOf = (rule: AccessRule) => (rule.tag ? `${rule.tag}:${rule.match}` : rule.match);
  const owners = new Map<string, string>(LOCALHOST_RELAY.map(([key]) => [key.toLowerCase(), "the localhost entries"]));
  const ruleRows = host.accessRules.map((rule, index): [string, string] => {
    const key = keyOf(rule);
    const owner = owners.get(key.toLowerCase());
    if (owner !== undefined) {
      throw new Error(
        `${domain}.access[${index}]: key "${key}" is already set by ${owner}; makemap rejects duplicate keys, so remove one of them`,
      );
    }
    owners.set(key.toLowerCase(), `${domain}.access[${index}]`);
    return [key, accessValue(rule)];
  });
  const exemptionRows = host.labAccessPrefixes.flatMap((prefix) =>
    EXEMPTION_TAGS.map((tag): [string, string] => [`${tag}:${prefix}`, "0"]),
  );
  // One alignment over all three groups, so the values line up down the whole file.
  const aligned = alignColumns([...LOCALHOST_RELAY, ...ruleRows, ...exemptionRows]);
  const localhostLines = aligned.slice(0, LOCALHOST_RELAY.length);
  const ruleLines = aligned.slice(LOCALHOST_RELAY.length, LOCALHOST_RELAY.length + ruleRows.length);
  const exemptionLines = aligned.slice(LOCALHOST_RELAY.length + ruleRows.length);
  return [
    generatedHeader("#", plan.stack, [`${domain}.access`, "mail-lab:network.subnet"]).trimEnd(),
    "# The host itself may relay (Debian's default entries).",
    ...localhostLines,
    `# Rules of ${host.domain}, in config order.`,
    ...(ruleLines.length > 0 ? ruleLines : ["# (none)"]),
    `# The lab subnet ${plan.network.subnet} skips greet_pause, ratecontrol and conncontrol (0 = no limit).`,
    ...exemptionLines,
    "",
  ].join("\n");
}

/**
 * /etc/aliases: Debian's standard aliases, then each user's aliases pointing at the login.
 * Throws when a user's login or alias is a standard alias: newaliases would keep only one of them.
 */
export function renderAliases(plan: LabPlan, host: MailHostPlan): string {
  const domain = `mail-lab:domains[${domainIndexOf(plan, host)}]`;
  const standard = new Set(STANDARD_ALIASES.map(([alias]) => alias.toLowerCase()));
  host.users.forEach((user, index) => {
    for (const name of [user.login, ...user.aliases]) {
      if (standard.has(name.toLowerCase())) {
        throw new Error(
          `${domain}.users[${index}]: "${name}" is a standard alias in /etc/aliases (${[...standard].join(", ")}); choose another name`,
        );
      }
    }
  });
  const userRows = host.users.flatMap((user) => user.aliases.map((alias): [string, string] => [alias, user.login]));
  const aligned = alignColumns([...STANDARD_ALIASES, ...userRows], ":");
  return [
    generatedHeader("#", plan.stack, [`${domain}.users`]).trimEnd(),
    "# Required and common aliases, as Debian ships them.",
    ...aligned.slice(0, STANDARD_ALIASES.length),
    `# Aliases of the users of ${host.domain}.`,
    ...(userRows.length > 0 ? aligned.slice(STANDARD_ALIASES.length) : ["# (none)"]),
    "",
  ].join("\n");
}

/** Every Sendmail file of one mail host, at the paths its image reads. */
export function renderSendmailFiles(plan: LabPlan, host: MailHostPlan): RenderedFile[] {
  return [
    { path: PATHS.sendmailMc, content: renderSendmailMc(plan, host) },
    { path: PATHS.localHostNames, content: renderLocalHostNames(plan, host) },
    { path: PATHS.access, content: renderAccess(plan, host) },
    { path: PATHS.aliases, content: renderAliases(plan, host) },
  ];
}
