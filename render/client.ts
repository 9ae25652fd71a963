/**
 * A client PC's mail programs, preset for its user: mutt reads and sends the user's mail over
 * TLS, swaks sends test messages through the user's mail host. No password is stored: mutt asks
 * for the IMAP password, and sending needs none where the mail host relays for the PC (else mutt
 * and swaks authenticate on the submission port and ask for it too).
 */
import type { ClientPlan, LabPlan } from "../plan/plan";
import { generatedHeader, PATHS, type RenderedFile } from "./files";

/** The client image trusts the lab CA through update-ca-certificates, which writes this bundle. */
const SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

/**
 * A double-quoted muttrc string. Inside double quotes mutt expands `$VAR` and runs backticks
 * (muttrc(5), "Syntax of Initialization Files"), so those and `\` and `"` are escaped.
 */
function muttString(value: string): string {
  return `"${value.replace(/[\\"`$]/g, (c) => `\\${c}`)}"`;
}

/**
 * ~/.muttrc (PATHS.muttrc) for the client's user: mail is read over IMAP with implicit TLS (993)
 * and sent over SMTP on 25 with STARTTLS, both to the user's own mail host, as the course's
 * clients do. Certificates are checked against the system CA bundle, which holds the lab CA.
 */
export function renderMuttrc(plan: LabPlan, client: ClientPlan): string {
  const header = generatedHeader("#", plan.stack, [client.configKey]);
  const host = client.mailHostFqdn;
  return `${header}# mutt for ${client.email} on ${client.fqdn}; mail host ${host}. mutt asks for the password.

# The plan has no display name, so the login serves as one.
set realname = ${muttString(client.login)}
set from = ${muttString(client.email)}
set use_from = yes
# The SMTP envelope sender is the user's address too, not root@<client hostname>.
set envelope_from = yes

# Reading: IMAP over implicit TLS to the user's mail host (Dovecot, port 993).
set imap_user = ${muttString(client.login)}
set folder = ${muttString(`imaps://${host}/`)}
set spoolfile = "+INBOX"
# Sent mail and drafts live on the server, in Dovecot's ~/mail.
set record = "+Sent"
set postponed = "+Drafts"

${
  client.submission.authenticate
    ? `# Sending: Sendmail's submission port 587 on the user's mail host, with SMTP AUTH as ${client.login}
# (mutt asks for the password): no access rule of ${host} relays for this PC.
set smtp_url = ${muttString(`smtp://${client.login}@${host}:587/`)}`
    : `# Sending: Sendmail on the user's mail host, port 25. No user in the URL, so mutt does not
# authenticate: the mail host's access rules relay for this PC (as the course's \`10.0.2 RELAY\`).
set smtp_url = ${muttString(`smtp://${host}:25/`)}`
}

${
  plan.exercise
    ? `# Exercise lab: the course's Sendmail offers no STARTTLS, so sending uses it only when offered;
# reading is over TLS always (imaps://).
set ssl_starttls = yes
set ssl_force_tls = no`
    : `# TLS always: STARTTLS, and no fallback to plaintext if the server does not offer it.
set ssl_starttls = yes
set ssl_force_tls = yes`
}
# Debian's mutt is built with GnuTLS, which reads this setting (mutt manual, ssl_ca_certificates_file).
set ssl_ca_certificates_file = ${muttString(SYSTEM_CA_BUNDLE)}
`;
}

/**
 * ~/.swaksrc (PATHS.swaksrc) for the client's user. swaks(1), "Configuration files": `#` lines
 * are comments; every other line is an option, leading dashes optional, and everything after the
 * first space is its argument taken literally (no shell quoting).
 */
export function renderSwaksrc(plan: LabPlan, client: ClientPlan): string {
  for (const [name, value] of [
    ["email", client.email],
    ["mailHostFqdn", client.mailHostFqdn],
  ] as const) {
    // A line break would end the option and start another; the argument runs to the line end.
    if (/[\r\n]/.test(value) || value.trim() !== value || value === "") {
      throw new Error(
        `renderSwaksrc: client ${client.key}: ${name} ${JSON.stringify(value)} cannot be a swaks option argument`,
      );
    }
  }
  const header = generatedHeader("#", plan.stack, [client.configKey]);
  // An address in another lab domain, for the usage hint: the course's first test crosses domains.
  const otherDomain = plan.mailHosts.find((host) => host.domain !== client.domain && host.users.length > 0);
  const exampleRecipient = otherDomain?.users[0]?.email ?? client.email;
  return `${header}# swaks for ${client.email} on ${client.fqdn}: \`swaks --to ${exampleRecipient}\` sends a test message
# through ${client.mailHostFqdn}. Options given on the command line override these.
server ${client.mailHostFqdn}
from ${client.email}
${
  plan.exercise
    ? `# Exercise lab: the course's Sendmail offers no STARTTLS; use it when offered (then verified).
tls-optional-strict`
    : `# STARTTLS, required: swaks stops if the server does not offer it.
tls`
}
# Verify the mail host's certificate against the system CA bundle, which holds the lab's CA.
tls-verify
${
  client.submission.authenticate
    ? `# No access rule of ${client.mailHostFqdn} relays for this PC: submit on 587 with SMTP AUTH
# (swaks asks for the password).
port 587
auth PLAIN
auth-user ${client.login}
`
    : ""
}`;
}

/** The client's generated files: ~/.muttrc and ~/.swaksrc. */
export function renderClientFiles(plan: LabPlan, client: ClientPlan): RenderedFile[] {
  return [
    { path: PATHS.muttrc, content: renderMuttrc(plan, client), mode: "0644" },
    { path: PATHS.swaksrc, content: renderSwaksrc(plan, client), mode: "0644" },
  ];
}
