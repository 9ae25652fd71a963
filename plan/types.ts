/**
 * The shape of the resolved plan: every host, address, DNS record and relay rule of the lab, as
 * plan/plan.ts resolves it from the validated stack config. Renderers, components and checks
 * read only these types.
 */
import type { AccessRule } from "../config/schema";

/** The three kinds of lab host, each with its own image (images/<role>). */
export const HOST_ROLES = ["name-server", "mail-host", "client"] as const;
export type HostRole = (typeof HOST_ROLES)[number];

/** What every container of the lab has. */
export interface PlannedHost {
  readonly role: HostRole;
  /**
   * The stack config key the host comes from, named in its generated files' headers:
   * `mail-lab:nameServer`, `mail-lab:domains[0]`, `mail-lab:clients[1]`.
   */
  readonly configKey: string;
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

/** Any host of the lab, told apart by its `role`: what renderers and components switch on. */
export type LabHost = NameServerPlan | MailHostPlan | ClientPlan;

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
  readonly mailQueue: MailQueuePlan;
  /** Whether `pulumi up` runs the lab's round trip after every host is healthy. */
  readonly verify: boolean;
  /**
   * An exercise lab (`mail-lab:exercise`): the hosts boot with their packages' stock configuration
   * and the students configure them; the rest of the plan is the answer key.
   */
  readonly exercise: boolean;
}

/** Sendmail's queue timing (plan/queue.ts): the config's values, and in seconds. */
export interface MailQueuePlan {
  /** Time between queue runs as the config writes it (`sendmail -q<runInterval>`), e.g. `1m`. */
  readonly runInterval: string;
  /** How long a message may stay queued before it is returned to its sender, e.g. `1h`. */
  readonly lifetime: string;
  readonly runIntervalSeconds: number;
  readonly lifetimeSeconds: number;
  /** When the sender is told of the delay; undefined when no queue run falls before the return. */
  readonly warnSeconds: number | undefined;
}

export interface PlanContext {
  readonly project: string;
  readonly stack: string;
}
