/**
 * Dovecot's configuration for one mail host: POP3 and IMAP with TLS over the mbox files that
 * Sendmail's local mailer writes. One complete dovecot.conf for Dovecot 2.3 (Debian bookworm);
 * Debian's conf.d is not included, so the file says everything the lab relies on.
 */
import type { LabPlan, MailHostPlan } from "../plan/plan";
import { FIRST_USER_UID, renderUsersFile } from "./accounts";
import { generatedHeader, PATHS, type RenderedFile } from "./files";

/** Where Dovecot finds the host's certificate and key (PEM files inside the container). */
export interface DovecotTlsPaths {
  /** Certificate chain, default PATHS.tlsCert. */
  readonly cert: string;
  /** Unencrypted private key, default PATHS.tlsKey. */
  readonly key: string;
}

/**
 * dovecot.conf for `host`. `tls` exists for checkers such as `doveconf`, which read the `<file`
 * values and so need real files outside the container.
 */
export function renderDovecotConf(
  plan: LabPlan,
  host: MailHostPlan,
  tls: DovecotTlsPaths = { cert: PATHS.tlsCert, key: PATHS.tlsKey },
): string {
  for (const [name, value] of Object.entries(tls)) {
    // Dovecot reads `<path` up to the end of the line; a space or newline would change the path.
    if (!value.startsWith("/") || /\s/.test(value)) {
      throw new Error(
        `renderDovecotConf: tls.${name} ${JSON.stringify(value)} must be an absolute path without spaces`,
      );
    }
  }
  const header = generatedHeader("#", plan.stack, [host.configKey]);
  return `${header}# Dovecot 2.3 for ${host.fqdn} (${host.domain}): POP3 and IMAP over Sendmail's mbox files.
# One complete file: Debian's conf.d is not included. \`doveconf -n\` shows the effective settings.

# As the course, without lmtp: Sendmail delivers with its own local mailer, not through Dovecot.
protocols = imap pop3
# As the course: every IPv4 (*) and IPv6 (::) address.
listen = *, ::
base_dir = /var/run/dovecot/

# Logs to stderr so that they reach \`docker logs\` (docs: "Logging"); there is no syslog here.
log_path = /dev/stderr
info_log_path = /dev/stderr

# TLS (docs: "SSL/TLS", "Dovecot SSL configuration"). As the course, ssl = yes: clients may use
# STARTTLS on 143/110 or implicit TLS on 993/995. The key must be readable by root only.
ssl = yes
ssl_cert = <${tls.cert}
ssl_key = <${tls.key}
ssl_min_protocol = TLSv1.2

# Passwords only over TLS (docs: "Authentication", disable_plaintext_auth): without STARTTLS,
# LOGIN and AUTHENTICATE are refused on 143/110. Dovecot counts connections from the host itself
# as secure, so test this from a client container.
disable_plaintext_auth = yes
auth_mechanisms = plain login
# Students may type lee or lee@${host.domain}: %Ln lowercases and drops the domain, so both name
# the system account lee (docs: "Authentication", auth_username_format; "Variables").
auth_username_format = %Ln

# The accounts are system accounts that the image's entry point creates from ${PATHS.users}
# (useradd with the SHA-512 crypt hash): the password is checked against /etc/shadow and the
# home directory and uid come from /etc/passwd (docs: "Shadow" and "Passwd" password/user
# databases). Shadow rather than PAM: no PAM stack to install or configure in the image, and
# nothing between Dovecot and the hash the lab rendered.
passdb {
  driver = shadow
}
userdb {
  driver = passwd
}
# Only the lab's users (uids from ${FIRST_USER_UID}) may log in, never root or a daemon account
# (docs: "Authentication", first_valid_uid).
first_valid_uid = ${FIRST_USER_UID}

# As the course: INBOX is the mbox Sendmail's local mailer appends to, other folders live in
# ~/mail (docs: "Mbox Configuration"). The entry point gives every user a writable home.
mail_location = mbox:~/mail:INBOX=/var/mail/%u
# The dotlock /var/mail/<user>.lock needs write access to /var/mail (root:mail 2775 on Debian);
# Dovecot gains group mail only while it creates the lock (docs: "Mbox Configuration",
# "/var/mail permissions"). The course's mail_access_groups = mail would keep the group for the
# whole session; this is the narrower grant for the same need.
mail_privileged_group = mail
# Locks must agree with the delivery agent, in the same order, or both may write at once or
# deadlock (docs: "Mbox Locking"). Debian's Sendmail delivers through /usr/sbin/sensible-mda,
# which passes the message to the first MDA linked in /etc/mail/smrsh: procmail, maildrop,
# deliver, then mail.local (sensible-mda(8)). Debian's sensible-mda depends on procmail, so
# procmail normally delivers; \`procmail -v\` (bookworm) says "Locking strategies: dotlocking,
# fcntl()". Without procmail, /usr/libexec/sendmail/mail.local delivers: Debian builds it with
# liblockfile, so it takes the dotlock /var/mail/<user>.lock (maillock(3)) and then an
# fcntl/lockf lock; the binary imports maillock, fcntl and lockf but not flock (nm -D), whatever
# mail.local(8) says about flock. Either way: dotlock, then fcntl, which are Dovecot's defaults.
mbox_read_locks = fcntl
mbox_write_locks = dotlock fcntl

namespace inbox {
  inbox = yes
}

# Listeners (docs: "Service configuration"): STARTTLS on the plain ports, implicit TLS on the
# others, as the course's clients use them.
service imap-login {
  inet_listener imap {
    port = 143
  }
  inet_listener imaps {
    port = 993
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 110
  }
  inet_listener pop3s {
    port = 995
    ssl = yes
  }
}
`;
}

/** Every file Dovecot and the account setup of `host` need: dovecot.conf and the users file. */
export function renderDovecotFiles(plan: LabPlan, host: MailHostPlan): RenderedFile[] {
  return [
    { path: PATHS.dovecotConf, content: renderDovecotConf(plan, host), mode: "0644" },
    renderUsersFile(plan, host),
  ];
}
