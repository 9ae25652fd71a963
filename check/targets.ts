/**
 * What the lab's checks need to know about a lab, and nothing more: container names, domains,
 * mail hosts, users with their passwords, and the clients with their mail hosts. It is taken
 * from the resolved plan (`targetsFromPlan`), or read back from JSON when `pulumi up` hands it
 * to scripts/check.ts through an environment variable (`parseTargets`).
 *
 * No Pulumi import: the checks run as a plain Node program.
 */
import { z } from "zod";
import type { LabPlan } from "../plan/plan";

const host = z.strictObject({
  /** Docker container name, for `docker exec`. */
  container: z.string().min(1),
  fqdn: z.string().min(1),
  address: z.string().min(1),
});

export const checkTargetsSchema = z.strictObject({
  /** The stack's name, for the report's heading. */
  stack: z.string().min(1),
  /**
   * SMTP's STARTTLS: `required` on a configured lab (its Sendmail offers it with the lab's
   * certificate); `if-offered` on an exercise lab, whose Sendmail, as the course builds it, has none.
   */
  smtpStarttls: z.enum(["required", "if-offered"]),
  /** The lab's name server: every DNS answer must come from it. */
  nameServer: host,
  domains: z.array(
    z.strictObject({
      name: z.string().min(1),
      mailHost: host,
      users: z.array(
        z.strictObject({
          login: z.string().min(1),
          password: z.string().min(1),
          email: z.string().min(1),
        }),
      ),
    }),
  ),
  clients: z.array(
    z.strictObject({
      /** Host label, e.g. lee-pc. */
      key: z.string().min(1),
      container: z.string().min(1),
      /** The PC's user, e.g. lee@naver.com. */
      email: z.string().min(1),
      login: z.string().min(1),
      domain: z.string().min(1),
      mailHostFqdn: z.string().min(1),
      /** How the PC sends: 25 where the access rules relay for it, else 587 with SMTP AUTH (plan/plan.ts). */
      submission: z.discriminatedUnion("port", [
        z.strictObject({ port: z.literal(25), authenticate: z.literal(false) }),
        z.strictObject({ port: z.literal(587), authenticate: z.literal(true) }),
      ]),
    }),
  ),
});

export type CheckTargets = z.infer<typeof checkTargetsSchema>;
export type DomainTarget = CheckTargets["domains"][number];
export type ClientTarget = CheckTargets["clients"][number];
export type UserTarget = DomainTarget["users"][number];

/** The part of the plan the checks read. */
export function targetsFromPlan(plan: LabPlan): CheckTargets {
  const hostOf = (planned: { containerName: string; fqdn: string; address: string }) => ({
    container: planned.containerName,
    fqdn: planned.fqdn,
    address: planned.address,
  });
  return {
    stack: plan.stack,
    smtpStarttls: plan.exercise ? "if-offered" : "required",
    nameServer: hostOf(plan.nameServer),
    domains: plan.mailHosts.map((mailHost) => ({
      name: mailHost.domain,
      mailHost: hostOf(mailHost),
      users: mailHost.users.map((user) => ({ login: user.login, password: user.password, email: user.email })),
    })),
    clients: plan.clients.map((client) => ({
      key: client.key,
      container: client.containerName,
      email: client.email,
      login: client.login,
      domain: client.domain,
      mailHostFqdn: client.mailHostFqdn,
      submission: client.submission,
    })),
  };
}

/** Reads targets from JSON (scripts/check.ts --plan-json-env); throws naming what is wrong. */
export function parseTargets(json: string): CheckTargets {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new Error(`the plan JSON does not parse: ${(error as Error).message}`);
  }
  const parsed = checkTargetsSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(top)"}: ${issue.message}`);
    throw new Error(`the plan JSON is not what the checks need: ${problems.join("; ")}`);
  }
  return parsed.data;
}

/** One message the round trip sends: from a client through its own mail host to a user of another domain. */
export interface RelayRoute {
  /** The sending PC. */
  readonly sender: ClientTarget;
  /** The sender's mail host, which must relay to the recipient's MX. */
  readonly senderMailHost: DomainTarget["mailHost"];
  /** The receiving user. */
  readonly recipient: UserTarget;
  readonly recipientDomain: DomainTarget;
  /** The PC that reads the recipient's mail (a client of the recipient). */
  readonly reader: ClientTarget;
}

/**
 * Every ordered pair of distinct domains that both have a client: the first client of one sends
 * to the user of the first client of the other, who reads it on that PC. So mail crosses between
 * every such pair of domains both ways, always between real PCs of the lab.
 */
export function relayRoutes(targets: CheckTargets): RelayRoute[] {
  const withClient = targets.domains.flatMap((domain) => {
    const client = targets.clients.find((candidate) => candidate.domain === domain.name);
    const user = client && domain.users.find((candidate) => candidate.email === client.email);
    return client && user ? [{ domain, client, user }] : [];
  });
  const routes: RelayRoute[] = [];
  for (const from of withClient) {
    for (const to of withClient) {
      if (from.domain.name === to.domain.name) continue;
      routes.push({
        sender: from.client,
        senderMailHost: from.domain.mailHost,
        recipient: to.user,
        recipientDomain: to.domain,
        reader: to.client,
      });
    }
  }
  return routes;
}
