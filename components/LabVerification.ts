import * as crypto from "node:crypto";
import * as path from "node:path";
import * as command from "@pulumi/command";
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { targetsFromPlan } from "../check/targets";
import { renderLab } from "../render";
import { dockerHostEnvironment } from "./docker-host";
import type { LabPlan } from "../plan/plan";

/** Environment variable that carries the checks' targets (with passwords) to scripts/check.ts. */
export const PLAN_VARIABLE = "MAIL_LAB_CHECK_PLAN";

/** Arguments of the lab's self-check. */
export interface LabVerificationArgs {
  /** The resolved plan; the checks read its hosts, users and clients. */
  plan: LabPlan;
  /**
   * Every host container of the lab (name server, mail hosts, clients). The checks run once all
   * of them are healthy, and again whenever any of them is replaced (their ids are triggers).
   */
  containers: docker.Container[];
  /** Repository root, holding scripts/check.ts and node_modules (tsx). Default: this repository. */
  repositoryRoot?: string;
  /** How long each test message may take to reach its recipient's mailbox, in seconds. Default 120. */
  deliveryTimeoutSeconds?: number;
}

/**
 * Digest of everything about the lab the checks depend on besides the containers' ids: every
 * rendered config file of every host and the checks' targets without passwords (a changed
 * password changes the rendered users file, hence the digest, without being in it).
 */
export function labConfigDigest(plan: LabPlan): string {
  const hash = crypto.createHash("sha256");
  for (const { host, files } of renderLab(plan)) {
    for (const file of files) hash.update(`${host.key}\0${file.path}\0${file.content}\0`);
  }
  const targets = targetsFromPlan(plan);
  const withoutPasswords = {
    ...targets,
    domains: targets.domains.map((domain) => ({
      ...domain,
      users: domain.users.map(({ login, email }) => ({ login, email })),
    })),
  };
  hash.update(JSON.stringify(withoutPasswords));
  return hash.digest("hex");
}

/**
 * The lab checks itself as part of `pulumi up`: once every host is healthy, a local command runs
 * scripts/check.ts (DNS from every PC, relay both ways, POP3S and IMAP with STARTTLS; see check/)
 * with the real clients inside the client containers. If any check fails the command exits 1,
 * so `pulumi up` fails and shows the report's table; when all pass, `report` holds the table.
 */
export class LabVerification extends pulumi.ComponentResource {
  /** The command that runs the checks. */
  public readonly command: command.local.Command;
  /** The report: a table of every check with its result and detail (the command's stdout). */
  public readonly report: pulumi.Output<string>;

  constructor(name: string, args: LabVerificationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mail-lab:index:LabVerification", name, {}, opts);
    const repositoryRoot = args.repositoryRoot ?? path.join(__dirname, "..");
    const timeout = args.deliveryTimeoutSeconds ?? 120;
    this.command = new command.local.Command(
      `${name}-check`,
      {
        // `node` and `docker` are on the machine that runs `pulumi up` (the nodejs runtime and
        // the docker provider need them); tsx comes with the repository's node_modules.
        create: `node --import tsx scripts/check.ts --plan-json-env ${PLAN_VARIABLE} --timeout ${timeout}`,
        dir: repositoryRoot,
        // Passwords: a secret in state, and never on a command line.
        // The checks' `docker exec` must reach the engine the lab runs on (`docker:host`).
        environment: {
          [PLAN_VARIABLE]: pulumi.secret(JSON.stringify(targetsFromPlan(args.plan))),
          ...dockerHostEnvironment(),
        },
        // A replaced container (new id) or any change to the rendered config runs the checks again.
        triggers: [...args.containers.map((container) => container.id), labConfigDigest(args.plan)],
        logging: "stdoutAndStderr",
      },
      { parent: this, dependsOn: args.containers },
    );
    this.report = this.command.stdout;
    this.registerOutputs({ report: this.report });
  }
}
