/**
 * mail-lab: `pulumi up` creates the lab described by the stack's `mail-lab:` config.
 *
 * The config is validated and resolved into a plan before any resource is declared, so a
 * mistake fails with every problem listed at once and nothing half-created.
 */
import * as pulumi from "@pulumi/pulumi";
import { MailLab } from "./components/MailLab";
import { ensureLabSubnetIsFree } from "./components/subnet-check";
import { renderMermaidDiagram } from "./render/diagram";
import { ConfigError } from "./config/errors";
import { configFromEngine } from "./config/load";
import { resolvePlan } from "./plan/plan";

function planFromStackConfig() {
  try {
    return resolvePlan(configFromEngine(pulumi.runtime.allConfig()), {
      project: pulumi.getProject(),
      stack: pulumi.getStack(),
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      // A RunError prints the message alone, without a stack trace that would bury it.
      throw new pulumi.RunError(error.message);
    }
    throw error;
  }
}

const plan = planFromStackConfig();
// Another network on the Docker host in the lab's subnet fails here, naming both, before anything exists.
ensureLabSubnetIsFree(plan.network);
const lab = new MailLab(pulumi.getStack(), { plan });

export const network = lab.outputs.network;
export const nameServer = lab.outputs.nameServer;
export const mailHosts = lab.outputs.mailHosts;
export const clients = lab.outputs.clients;
export const caCertificate = lab.outputs.caCertificate;
/** The table of the lab's self-check (absent when `mail-lab:verify` is false). */
export const verification = lab.verification?.report;
/** The lab as a Mermaid flowchart (`npm run diagram` prints the same without deploying). */
export const diagram = renderMermaidDiagram(plan);
