/**
 * What every lab container shares: labels, network attachment, resolver, healthcheck and upload
 * encoding. Kept here so the three host components differ only in what makes each role distinct.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { HostRole, LabPlan, PlannedHost } from "../plan/plan";
import type { RenderedFile } from "../render/files";

/** A host role (plan/types.ts): each role is one image. */
export type LabRole = HostRole;

/** Labels on every container, network and volume of a stack, so its objects can be found and removed. */
export function labLabels(plan: LabPlan, role: LabRole | "network", domain?: string): Record<string, string> {
  return {
    "mail-lab.project": plan.project,
    "mail-lab.stack": plan.stack,
    "mail-lab.role": role,
    ...(domain === undefined ? {} : { "mail-lab.domain": domain }),
  };
}

/** The label naming an image's content hash; `npm run images:prune` finds the lab's images by it. */
export const CONTENT_HASH_LABEL = "mail-lab.content-hash";

/**
 * Labels of a lab image. Images are shared by every stack of the Docker host, so nothing here may
 * depend on the stack: labels are part of the image config, and a per-stack label would make each
 * stack's build a different image.
 */
export function imageLabels(project: string, role: LabRole, contentHash: string): Record<string, string> {
  return { "mail-lab.project": project, "mail-lab.role": role, [CONTENT_HASH_LABEL]: contentHash };
}

export function asLabelList(labels: Record<string, string>): docker.types.input.ContainerLabel[] {
  return Object.entries(labels).map(([label, value]) => ({ label, value }));
}

/** A rendered file as a container upload; credentials go into state as secrets. */
export function toUpload(file: RenderedFile): docker.types.input.ContainerUpload {
  return {
    file: file.path,
    content: file.secret ? pulumi.secret(file.content) : file.content,
    permissions: file.mode ?? (file.secret ? "0600" : "0644"),
  };
}

/**
 * Container arguments common to every lab host: fixed address on the lab network, FQDN as
 * hostname (Sendmail sleeps on an unqualified name), the lab's name server as resolver,
 * the image's healthcheck script, and a restart policy that brings the lab back with dockerd.
 * `pulumi up` does not wait for Docker's health status (`wait`): it polls the same healthcheck
 * itself while the host starts (./readiness.ts), so Docker's interval can stay slow.
 */
export function hostContainerArgs(
  plan: LabPlan,
  host: PlannedHost,
  network: docker.Network,
  image: docker.RemoteImage,
  labels: Record<string, string>,
): docker.ContainerArgs {
  return {
    name: host.containerName,
    image: image.imageId,
    hostname: host.fqdn,
    networksAdvanced: [{ name: network.name, ipv4Address: host.address }],
    dns: [plan.nameServer.address],
    dnsSearches: [host.domain],
    labels: asLabelList(labels),
    restart: "unless-stopped",
    // Every 30 s: an idle lab costs one check per host and half a minute (a mail host's check is
    // four TCP dialogues, each a line in Sendmail's log). Docker's status is for `docker ps`, the
    // restart policy and people; the deploy does not wait for it.
    healthcheck: {
      tests: ["CMD-SHELL", "/usr/local/bin/healthcheck"],
      interval: "30s",
      timeout: "10s",
      retries: 3,
      startPeriod: "60s",
    },
    wait: false,
  };
}

/**
 * The environment that makes a name server's or mail host's image boot as an exercise host
 * (images/common/exercise-boot.sh): stock configuration, daemons under mail-lab's systemctl.
 */
export function exerciseEnvs(plan: LabPlan): string[] {
  return plan.exercise ? ["MAIL_LAB_EXERCISE=1"] : [];
}

/**
 * Fixed names and addresses cannot exist twice, so a replaced container must be removed before
 * its successor is created (pulumi-docker's "port is already allocated" trap).
 */
export const replaceInPlace: pulumi.CustomResourceOptions = { deleteBeforeReplace: true };
