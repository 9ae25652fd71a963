/**
 * Sendmail's configuration for one mail host: /etc/mail/sendmail.mc, local-host-names, access and
 * /etc/aliases. Pure functions over the plan; the image builds sendmail.cf from the .mc with plain
 * m4 and the maps with makemap/newaliases at start (no sendmailconfig).
 *
 * Section names in comments refer to Sendmail's cf/README (Debian: sendmail-doc's cf.README.gz).
 */
import type { LabPlan, MailHostPlan } from "../plan/plan";
import { formatSendmailTime } from "../plan/queue";
import { type AccessRule, accessKeyOf } from "../config/schema";
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

/** Two columns, the second aligned two spaces after the longest first column, as the course lays out access. */
function alignColumns(rows: readonly (readonly [string, string])[], separator = ""): string[] {
  const width = Math.max(0, ...rows.map(([left]) => left.length + separator.length));
  return rows.map(([left, right]) => `${(left + separator).padEnd(width)}  ${right}`);
}

/** The .mc lines of the queue's warning and return timeouts (cf/README, confTO_QUEUEWARN/RETURN). */
function queueLifetimeLines(plan: LabPlan): string[] {
  const { lifetime, runInterval } = plan.mailQueue;
  const warn = plan.mailQueue.warnSeconds;
  const warnLines =
    warn === undefined
      ? [
          `dnl # No delay warning: a quarter of the lifetime plus one queue run (${runInterval}) does not come`,
          "dnl # before the return, and Sendmail never warns about a message it returns. 0 turns it off.",
          "define(`confTO_QUEUEWARN', `0')dnl",
        ]
      : [
          "dnl # Warn the sender of the delay after a quarter of the lifetime (never later than Sendmail's",
          "dnl # own 4h), so the warning comes well before the return.",
          `define(\`confTO_QUEUEWARN', \`${formatSendmailTime(warn)}')dnl`,
        ];
  return [
    `dnl # Return undelivered mail to its sender after ${lifetime} (mail-lab:mailQueue.lifetime; Sendmail's`,
    "dnl # default is 5d), so a lab session sees the bounce.",
    `define(\`confTO_QUEUERETURN', \`${lifetime}')dnl`,
    ...warnLines,
  ];
}

/**
 * /etc/mail/sendmail.mc in the layout of Debian's own (cf/debian/sendmail.mc): cf.m4, VERSIONID,
 * OSTYPE(`debian'), DOMAIN(`debian-mta'), defines, FEATUREs, MAILERs last (cf/README,
 * INTRODUCTION AND EXAMPLE, for the order). Debian's dialup.m4/provider.m4 includes are left out:
 * the lab has no dial-up link and those files need not exist in the image.
 */
export function renderSendmailMc(plan: LabPlan, host: MailHostPlan): string {
  const domain = host.configKey;
  const lines = [
    generatedHeader("dnl", plan.stack, [`${domain}.maxMessageSize`, "mail-lab:mailQueue"]).trimEnd(),
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
    "dnl # address. Port 25 works as in the course: it relays by the access rules and offers no SMTP",
    "dnl # AUTH (M=A), since it is the MX where other mail hosts deliver and no password belongs there.",
    "dnl # Port 587 is the submission port (RFC 6409) of the MSA that cf/README builds by hand after",
    "dnl # no_default_msa: M=a requires SMTP AUTH before MAIL, M=E refuses ETRN. An authenticated user",
    "dnl # may relay from any address (TRUST_AUTH_MECH below).",
    "dnl # Listen=256: the kernel's queue of connections not yet accepted (Sendmail's default is 10).",
    "dnl # A burst makes the sending mail host open one connection per message at once; past 10 the",
    "dnl # kernel here drops the handshake's last step, the sender believes it is connected and waits",
    "dnl # for a greeting that never comes (5 minutes, Timeout.initial), and relay stalls.",
    "FEATURE(`no_default_msa')dnl",
    "DAEMON_OPTIONS(`Family=inet, Name=MTA-v4, Port=smtp, M=A, Listen=256')dnl",
    "DAEMON_OPTIONS(`Family=inet, Name=MSA-v4, Port=submission, M=Ea, Listen=256')dnl",
    "dnl #",
    "dnl # SMTP AUTH (cf/README, SMTP AUTHENTICATION; op guide, AuthOptions). Cyrus SASL checks the",
    "dnl # passwords through saslauthd against the system accounts Dovecot uses too (the image's",
    "dnl # /etc/mail/sasl/Sendmail.conf.2: pwcheck_method saslauthd, mech_list PLAIN LOGIN).",
    "dnl # PLAIN and LOGIN send the password as it is, so `p' offers them only inside a security layer:",
    "dnl # after STARTTLS. `y' refuses anonymous logins. A successful AUTH with either may relay.",
    "define(`confAUTH_MECHANISMS', `PLAIN LOGIN')dnl",
    "define(`confAUTH_OPTIONS', `p,y')dnl",
    "TRUST_AUTH_MECH(`PLAIN LOGIN')dnl",
    "dnl #",
    "dnl # Privacy flags (op guide, PrivacyOptions): Debian's, and over SMTP no EXPN, VRFY, VERB or ETRN,",
    "dnl # which Debian leaves open: they show a stranger who the users and aliases are (EXPN, VRFY),",
    "dnl # turn on verbose delivery traces (VERB) or start queue runs (ETRN). Not `goaway', which also",
    "dnl # drops delivery status notifications (noreceipts). On the host itself root keeps what the",
    "dnl # course uses: `sendmail -bv lee' and `sendmail -v' (restrictexpand limits them to root).",
    "define(`confPRIVACY_FLAGS',dnl",
    "`needmailhelo,noexpn,novrfy,noverb,noetrn,restrictqrun,restrictexpand,nobodyreturn,authwarnings')dnl",
    "dnl #",
    "dnl # Debian also sets confCONNECTION_RATE_THROTTLE 15: a limit on connections per second for the",
    "dnl # whole daemon that the access map cannot exempt, so it would skew the lab's load tests; left out.",
    "dnl # The window below is what ClientRate: entries count in (ratecontrol).",
    "define(`confCONNECTION_RATE_WINDOW_SIZE', `10m')dnl",
    "define(`confBAD_RCPT_THROTTLE', `3')dnl",
    "dnl #",
    "dnl # Load limits (cf/README, confQUEUE_LA, confREFUSE_LA, confDELAY_LA). Sendmail reads the load",
    "dnl # average of the whole Docker host: a container has none of its own. With the defaults (queue",
    "dnl # only above 8, refuse connections above 12) one busy lab, or the host's own work, makes every",
    "dnl # lab on the host refuse mail: a burst of 1,000 messages on 2 cores took the load to 25 and",
    "dnl # Sendmail closed its port. So the load never refuses, queues or slows mail here (0: no delay);",
    "dnl # what bounds one host's work is the number of SMTP sessions it serves at once, below.",
    "define(`confQUEUE_LA', `1000')dnl",
    "define(`confREFUSE_LA', `1000')dnl",
    "define(`confDELAY_LA', `0')dnl",
    "dnl # At most 256 SMTP sessions at once (default: no limit), so a runaway client cannot fork this",
    "dnl # host out of memory and starve the other labs. Not fewer: in background delivery mode every",
    "dnl # accepted message opens its own connection to the next mail host, so a burst of 1,000 at 10",
    "dnl # sessions reached 64 at once, and past the limit Sendmail refuses connections (the sender",
    "dnl # then queues and retries on its next queue run; nothing is lost, but relay is far slower).",
    "define(`confMAX_DAEMON_CHILDREN', `256')dnl",
    "dnl #",
    "dnl # Largest message accepted, in bytes (the course's MaxMessageSize).",
    `define(\`confMAX_MESSAGE_SIZE', \`${host.maxMessageSize}')dnl`,
    "dnl #",
    `dnl # The queue: deferred mail waits here and is retried on every queue run (sendmail -q${plan.mailQueue.runInterval}).`,
    `define(\`QUEUE_DIR', \`${QUEUE_DIRECTORY}')dnl`,
    "dnl # Host status (a peer found down) is cached for Timeout.hoststatus, 30m by default; in the lab a",
    "dnl # receiver that comes back must be retried on the next queue run, so cache it for 1m only.",
    "define(`confTO_HOSTSTATUS', `1m')dnl",
    ...queueLifetimeLines(plan),
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
    "dnl # TLS 1.2 at least, as a server and as a client of other mail hosts (op guide, ServerSSLOptions,",
    "dnl # ClientSSLOptions: OpenSSL's SSL_OP_ flags), whatever the system's OpenSSL default says.",
    "define(`confSERVER_SSL_OPTIONS', `+SSL_OP_NO_SSLv2 +SSL_OP_NO_SSLv3 +SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1')dnl",
    "define(`confCLIENT_SSL_OPTIONS', `+SSL_OP_NO_SSLv2 +SSL_OP_NO_SSLv3 +SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1')dnl",
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
  const domain = host.configKey;
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
 */
export function renderAccess(plan: LabPlan, host: MailHostPlan): string {
  const domain = host.configKey;
  // The plan refuses a key twice (makemap would reject the whole file), the localhost ones included.
  const ruleRows = host.accessRules.map((rule): [string, string] => [accessKeyOf(rule), accessValue(rule)]);
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
    ...host.accessRules
      .filter((rule) => rule.match.startsWith("@"))
      .map(
        (rule) =>
          `# ${rule.tag ? `${rule.tag}:` : ""}${rule.match} is written ${accessKeyOf(rule)}: Sendmail looks up no key of the form @domain.`,
      ),
    ...(ruleLines.length > 0 ? ruleLines : ["# (none)"]),
    `# The lab subnet ${plan.network.subnet} skips greet_pause, ratecontrol and conncontrol (0 = no limit).`,
    ...exemptionLines,
    "",
  ].join("\n");
}

/**
 * /etc/aliases: Debian's standard aliases, then each user's aliases pointing at the login.
 */
export function renderAliases(plan: LabPlan, host: MailHostPlan): string {
  const domain = host.configKey;
  // The plan refuses a login or alias that is a standard alias (RESERVED_LOGINS), which newaliases
  // would keep only once.
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
