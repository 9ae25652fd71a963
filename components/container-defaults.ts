/**
 * What every lab container shares: labels, network attachment, resolver, healthcheck and upload
 * encoding. Kept here so the three host components differ only in what makes each role distinct.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { LabPlan, PlannedHost } from "../spec/plan";
import type { RenderedFile } from "../render/files";

export type LabRole = "name-server" | "mail-host" | "client";

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

/** How long `pulumi up` waits for a container to report healthy before it fails. */
export const HEALTHY_TIMEOUT_SECONDS = 180;

/**
 * Container arguments common to every lab host: fixed address on the lab network, FQDN as
 * hostname (Sendmail sleeps on an unqualified name), the lab's name server as resolver,
 * the image's healthcheck script, and a restart policy that brings the lab back with dockerd.
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
    healthcheck: {
      tests: ["CMD-SHELL", "/usr/local/bin/healthcheck"],
      interval: "10s",
      timeout: "5s",
      retries: 3,
      startPeriod: "60s",
    },
    // `pulumi up` returns only once the host really serves: later hosts depend on this one.
    wait: true,
    waitTimeout: HEALTHY_TIMEOUT_SECONDS,
  };
}

/**
 * Fixed names and addresses cannot exist twice, so a replaced container must be removed before
 * its successor is created (pulumi-docker's "port is already allocated" trap).
 */
export const replaceInPlace: pulumi.CustomResourceOptions = { deleteBeforeReplace: true };
