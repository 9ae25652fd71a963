/**
 * The stack config of mail-lab: every key under `mail-lab:` in `stacks/Pulumi.<stack>.yaml`.
 *
 * This file is the single source of truth for the config's shape, its defaults and its per-field
 * rules; the TypeScript types come from `z.infer`. Rules that relate several fields (addresses
 * inside the subnet, unique names, a client's user existing) live in `plan.ts`, which sees the
 * whole config at once. Messages are phrased to follow the quoted value: `"x" is not ...; use ...`.
 */
import { z } from "zod";
import { parseCidr, parseIpv4 } from "./ipv4";

/** RFC 1123 label: letters, digits and inner hyphens, 1-63 characters. */
const LABEL = "[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?";
const DOMAIN_NAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})+$`);
const HOST_LABEL = new RegExp(`^${LABEL}$`);
/** Login names as Debian's `adduser` accepts them by default (NAME_REGEX), lower case. */
const LOGIN = /^[a-z][a-z0-9_-]{0,31}$/;
/** BIND time values: seconds, or units such as 3H, 1D, 1W, 1h30m (named.conf(5), "TTL"). */
const BIND_TIME = /^(?:\d+|(?:\d+[smhdwSMHDW])+)$/;
const MESSAGE_SIZE = /^(\d+)\s*(B|KB|MB|GB)?$/i;

/**
 * A config key's entry in the generated config reference (config/reference.ts, `npm run
 * docs:config`): what it is, and its default in words where the schema's own default (or
 * "required") does not say it. Attached with `.meta(doc(...))`; the README table and Pulumi.yaml's
 * comment block are generated from these.
 */
export type KeyDoc = {
  readonly description: string;
  readonly defaultText?: string;
  readonly [other: string]: unknown;
};
export const doc = (description: string, defaultText?: string): KeyDoc =>
  defaultText === undefined ? { description } : { description, defaultText };

export const ipv4Address = z
  .string({ error: "must be an IPv4 address such as 10.0.2.100" })
  .refine((text) => parseIpv4(text) !== undefined, {
    error: "is not an IPv4 address; write four decimal octets such as 10.0.2.100",
  });

export const domainName = z
  .string({ error: "must be a domain name such as naver.com" })
  .refine((text) => DOMAIN_NAME.test(text), {
    error:
      "is not a valid domain name (RFC 1123); use dot-separated labels of letters, digits and inner hyphens, such as naver.com",
  })
  .transform((text) => text.toLowerCase());

export const hostLabel = z
  .string({ error: "must be a host name label such as mail" })
  .refine((text) => HOST_LABEL.test(text), {
    error:
      "is not a valid host name label (RFC 1123); use letters, digits and inner hyphens, no dots, at most 63 characters, such as mail",
  })
  .transform((text) => text.toLowerCase());

const bindTime = (example: string) =>
  z
    .union([z.string(), z.number().int().positive()], {
      error: `must be a BIND time such as ${example} or a number of seconds`,
    })
    .transform((value) => String(value))
    .refine((text) => BIND_TIME.test(text), {
      error: `is not a BIND time; use seconds or units s/m/h/d/w such as ${example}`,
    });

/** Parses "10MB", "512KB", "1GB", "2048" or a number into bytes (1 KB = 1024 bytes, as Sendmail's docs count). */
export function parseMessageSize(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) && value > 0 ? value : undefined;
  const match = MESSAGE_SIZE.exec(value.trim());
  if (!match) return undefined;
  const unit = (match[2] ?? "B").toUpperCase();
  const factor = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[unit]!;
  const bytes = Number(match[1]) * factor;
  return bytes > 0 ? bytes : undefined;
}

const messageSize = z
  .union([z.string(), z.number()], { error: 'must be a size such as "10MB" or a number of bytes' })
  .refine((value) => parseMessageSize(value) !== undefined, {
    error: 'is not a positive message size; write a whole number of bytes or a size such as "10MB", "512KB"',
  })
  .transform((value) => parseMessageSize(value)!);

/** Sendmail time values for the queue: a number and one unit s, m, h, d or w (cf/README, "Timeout"). */
const SENDMAIL_TIME = /^\d+[smhdw]$/;
const sendmailTime = (example: string) =>
  z
    .string({ error: `must be a time such as ${example}` })
    .refine((text) => SENDMAIL_TIME.test(text) && !/^0+[smhdw]$/.test(text), {
      error: `is not a positive time; write a number and one unit s, m, h, d or w, such as ${example}`,
    });

const hostPort = z
  .number({ error: "must be a TCP port number such as 2525" })
  .int({ error: "is not a whole port number" })
  .min(1, { error: "is not a TCP port; use 1 to 65535" })
  .max(65535, { error: "is not a TCP port; use 1 to 65535" });

export const networkSchema = z.strictObject({
  name: hostLabel.default("net").meta(doc("network name, prefixed with `<project>-<stack>-`")),
  subnet: z
    .string({ error: "must be a CIDR such as 10.0.2.0/24" })
    .superRefine((text, context) => {
      const parsed = parseCidr(text);
      if (typeof parsed === "string") context.addIssue({ code: "custom", message: parsed, input: text });
    })
    .meta(doc("the lab subnet (CIDR, /8 to /29); every host gets a fixed address in it")),
  gateway: ipv4Address.optional().meta(doc("Docker's bridge address", "the subnet's first address")),
});

export const nameServerSchema = z.strictObject({
  hostName: hostLabel.default("ns").meta(doc("the name server's label (FQDN `<label>.<first domain>`)")),
  address: ipv4Address.optional().meta(doc("the name server's address", "the subnet's second address")),
  ttl: bindTime("3H").default("3H").meta(doc("`$TTL` of every zone (the course's zone files have 3H)")),
  soa: z
    .strictObject({
      refresh: bindTime("1D").default("1D"),
      retry: bindTime("1H").default("1H"),
      expire: bindTime("1W").default("1W"),
      negativeTtl: bindTime("1H").default("1H"),
    })
    .prefault({})
    .meta(doc("SOA timers `refresh`, `retry`, `expire`, `negativeTtl`", "`1D`, `1H`, `1W`, `1H` (the course's)")),
});

export const ACCESS_ACTIONS = ["RELAY", "OK", "REJECT", "DISCARD", "ERROR"] as const;
export const ACCESS_TAGS = ["Connect", "From", "To"] as const;

/**
 * One line of Sendmail's /etc/mail/access: `[tag:]match action`. The match is what the course
 * writes: a domain (`naver.com`), an IPv4 prefix (`10.0.2`), an address (`10.0.2.200`), a user
 * (`babo@`), a sender domain (`@daum.net`) or a whole mail address (`kim@daum.net`).
 * See Sendmail's cf/README, "Access Database".
 */
export const accessRuleSchema = z
  .strictObject({
    match: z.string({ error: 'must be text such as "naver.com", "10.0.2", "babo@" or "@daum.net"' }),
    action: z.enum(ACCESS_ACTIONS, {
      error: `must be one of ${ACCESS_ACTIONS.join(", ")}`,
    }),
    /** Restricts the rule to the connecting host (Connect), the envelope sender (From) or recipient (To). */
    tag: z.enum(ACCESS_TAGS, { error: `must be one of ${ACCESS_TAGS.join(", ")}` }).optional(),
    /** For ERROR: the SMTP reply, e.g. "550 We do not accept mail from you". */
    message: z.string().optional(),
  })
  .superRefine((rule, context) => {
    const problem = accessMatchProblem(rule.match);
    if (problem) context.addIssue({ code: "custom", path: ["match"], message: problem, input: rule.match });
    if (!problem && rule.tag === "Connect" && rule.match.includes("@")) {
      context.addIssue({
        code: "custom",
        path: ["match"],
        input: rule.match,
        message:
          "is a mail address form, but tag Connect matches the connecting host's name or address; use tag From (sender) or To (recipient), or a host such as naver.com or 10.0.2",
      });
    }
    if (rule.action === "ERROR" && !/^[45]\d\d [^"\n]+$/.test(rule.message ?? "")) {
      context.addIssue({
        code: "custom",
        path: ["message"],
        input: rule.message,
        message:
          'is not a valid reply for action ERROR; give a 4xx or 5xx code and text without quotes, such as "550 We do not accept mail from you"',
      });
    }
    if (rule.action !== "ERROR" && rule.message !== undefined) {
      context.addIssue({
        code: "custom",
        path: ["message"],
        input: rule.message,
        message: `is only used with action ERROR; remove it or change action ${rule.action} to ERROR`,
      });
    }
  });

/**
 * The rule's key in /etc/mail/access as Sendmail looks it up. The course writes a sender domain as
 * `@daum.net`, but Sendmail never looks up a key of that form: for the sender x@daum.net it tries
 * `From:x@daum.net`, `From:x@`, then `From:daum.net` and its parent domains (cf/README, "Access
 * Database", and proto.m4's SearchList), so `@daum.net REJECT` would silently reject nothing. The
 * key is therefore `From:daum.net` (or `To:daum.net` with tag To): the course's intent, rejecting
 * daum.net's users' mail, in the form Sendmail matches.
 */
export function accessKeyOf(rule: Pick<AccessRule, "match" | "tag">): string {
  if (rule.match.startsWith("@")) return `${rule.tag ?? "From"}:${rule.match.slice(1)}`;
  return rule.tag ? `${rule.tag}:${rule.match}` : rule.match;
}

/** Why an access match is malformed, or undefined when it is one of the forms Sendmail understands. */
export function accessMatchProblem(match: string): string | undefined {
  const domainOk = (text: string) => DOMAIN_NAME.test(text) || HOST_LABEL.test(text);
  const localOk = (text: string) => /^[A-Za-z0-9._+-]+$/.test(text);
  if (/^\d+(\.\d+){0,3}$/.test(match)) {
    return match.split(".").every((octet) => Number(octet) <= 255 && String(Number(octet)) === octet)
      ? undefined
      : "is not a valid IPv4 prefix; use whole octets from 0 to 255 such as 10.0.2";
  }
  if (match.includes("@")) {
    const [local, domain, ...rest] = match.split("@");
    const ok =
      rest.length === 0 &&
      (local === "" || localOk(local!)) &&
      (domain === "" || domainOk(domain!)) &&
      !(local === "" && domain === "");
    return ok ? undefined : 'is not a valid user or sender match; use "user@", "@domain" or "user@domain"';
  }
  return domainOk(match)
    ? undefined
    : 'is not a valid access match; use a domain (naver.com), an IPv4 prefix (10.0.2), "user@", "@domain" or "user@domain"';
}

export const userSchema = z.strictObject({
  /** Login name of the account on the mail host (and the local part of its mail address). */
  login: z.string({ error: "must be a login name such as lee" }).refine((text) => LOGIN.test(text), {
    error:
      "is not a valid login name; start with a lower-case letter, then lower-case letters, digits, _ or -, at most 32 characters",
  }),
  /** The account's password, plain or as a Pulumi secret (`pulumi config set --secret --path ...`). */
  password: z
    .string({ error: "must be a non-empty password (plain text or a Pulumi secret)" })
    .min(1, { error: "is empty; give the user a password (plain text or a Pulumi secret)" }),
  /** Other local parts delivered to this user through /etc/aliases. Default none. */
  aliases: z
    .array(
      z.string().refine((text) => LOGIN.test(text), {
        error: "is not a valid alias; use the same characters as a login name (lower case, digits, _ or -)",
      }),
    )
    .default([]),
});

export const domainSchema = z.strictObject({
  name: domainName.meta(doc("a mail domain, such as naver.com")),
  mailHost: z.strictObject({
    hostName: hostLabel.default("mail").meta(doc("its mail host's label: the MX target is `<label>.<domain>`")),
    address: ipv4Address.meta(doc("its mail host's address")),
    /**
     * Opt-in: publish the mail host's SMTP (25), submission (587), IMAPS (993) and POP3S (995) on
     * host ports, for desktop mail clients on the Docker host. Only the listed services are
     * published, on `address` (default 127.0.0.1: never all interfaces unless written here).
     */
    publish: z
      .strictObject({
        address: ipv4Address.default("127.0.0.1"),
        smtp: hostPort.optional(),
        submission: hostPort.optional(),
        imaps: hostPort.optional(),
        pop3s: hostPort.optional(),
      })
      .refine(
        (publish) =>
          [publish.smtp, publish.submission, publish.imaps, publish.pop3s].some((port) => port !== undefined),
        {
          error:
            "publishes nothing; give host ports for at least one of smtp, submission, imaps, pop3s (or remove publish)",
        },
      )
      .optional()
      .meta(
        doc(
          'opt-in: host ports for `smtp`, `submission`, `imaps`, `pop3s` on `address` (see "Desktop mail clients")',
          "nothing published; address `127.0.0.1`",
        ),
      ),
  }),
  users: z
    .array(userSchema)
    .default([])
    .meta(doc("the mail host's accounts: `login`, `password` (plain, or a Pulumi secret), `aliases`")),
  access: z
    .array(accessRuleSchema)
    .default([])
    .meta(
      doc(
        "`/etc/mail/access` lines, in order: `match` (`naver.com`, `10.0.2`, `babo@`, `@daum.net`, `kim@daum.net`), `action` (RELAY, OK, REJECT, DISCARD, ERROR), optional `tag` (Connect, From, To), `message` for ERROR",
      ),
    ),
  maxMessageSize: messageSize
    .default(10 * 1024 * 1024)
    .meta(doc('largest message accepted (confMAX_MESSAGE_SIZE): `"10MB"`, `"512KB"` or bytes', "`10MB`")),
});

export const clientSchema = z.strictObject({
  /** Host name label of the user's PC, e.g. lee-pc; its FQDN is `<name>.<user's domain>`. */
  name: hostLabel,
  /** The mail address of the user whose PC this is, e.g. lee@naver.com. */
  user: z
    .string({ error: "must be a mail address such as lee@naver.com" })
    .refine((text) => /^[^@\s]+@[^@\s]+$/.test(text), {
      error: "is not a mail address; write login@domain such as lee@naver.com",
    }),
  /** Fixed address. Default: the first free address from the subnet's 10th address upward. */
  address: ipv4Address.optional(),
});

export const labConfigSchema = z.strictObject({
  /** The lab's Docker network. */
  network: networkSchema,
  /** The BIND name server, authoritative for every domain and the reverse zone. */
  nameServer: nameServerSchema.prefault({}),
  /** Mail domains, each with one mail host (the name server serves their zones). */
  domains: z
    .array(domainSchema, { error: "must be a list of mail domains" })
    .min(1, { error: "is empty; declare at least one mail domain with its mail host" }),
  clients: z
    .array(clientSchema)
    .default([])
    .meta(
      doc(
        "the users' PCs, one container each: `name` (host label), `user` (`lee@naver.com`), optional `address`",
        "none; a PC's address: the first free from the subnet's 10th",
      ),
    ),
  baseImage: z.string().min(1).default("debian:bookworm-slim").meta(doc("base of every role's image")),
  // Sendmail's own queue lifetime is 5d: a lab session would never see a bounce.
  mailQueue: z
    .strictObject({
      runInterval: sendmailTime("1m")
        .default("1m")
        .meta(doc("time between Sendmail's queue runs (deferred mail is retried)")),
      lifetime: sendmailTime("1h")
        .default("1h")
        .meta(
          doc(
            "how long deferred mail waits before it bounces to the sender (the delay warning comes after a quarter of it, at most 4h)",
          ),
        ),
    })
    .prefault({}),
  verify: z
    .boolean({ error: "must be true or false" })
    .default(true)
    .meta(
      doc(
        "run the lab's round trip (DNS, relay both ways, POP3 and IMAP over TLS) at the end of every `pulumi up`, failing it with a report when the lab does not work; never on an exercise lab",
      ),
    ),
  exercise: z
    .boolean({ error: "must be true or false" })
    .default(false)
    .meta(
      doc(
        'an exercise lab: the hosts start as the course starts them (stock configuration, no lab zones, access rules or accounts) for students to configure; `npm run grade` checks each step, `npm run render` writes the answer key (see "Exercise labs")',
      ),
    ),
});

/** Stack config as written (before defaults). */
export type LabConfigInput = z.input<typeof labConfigSchema>;
/** Stack config with defaults applied and per-field rules checked. */
export type LabConfig = z.infer<typeof labConfigSchema>;
export type DomainConfig = z.infer<typeof domainSchema>;
export type UserConfig = z.infer<typeof userSchema>;
export type AccessRule = z.infer<typeof accessRuleSchema>;
export type ClientConfig = z.infer<typeof clientSchema>;

/** Every key the stack config accepts under `mail-lab:`, for messages and for the loader. */
export const CONFIG_KEYS = Object.keys(labConfigSchema.shape) as (keyof LabConfig)[];
