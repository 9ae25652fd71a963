import type * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { PATHS } from "../render/files";
import { renderHostFiles } from "../render";
import type { LabPlan } from "../plan/plan";
import { waitUntilReady } from "./readiness";
import { exerciseEnvs, hostContainerArgs, labLabels, replaceInPlace, toUpload } from "./container-defaults";

/** Arguments of the lab's BIND name server. */
export interface NameServerArgs {
  /** The resolved plan; the server's name, address and zones come from it. */
  plan: LabPlan;
  /** The lab network the server joins at `plan.nameServer.address`. */
  network: docker.Network;
  /** The name-server image (images/name-server). */
  image: docker.RemoteImage;
  /** PEM of the lab CA, installed in the container's trust store. */
  caCertificate: pulumi.Input<string>;
}

/**
 * BIND 9, authoritative for every lab domain and the subnet's reverse zone. Every other host
 * resolves through it, so the lab creates it first and waits until it answers.
 */
export class NameServer extends pulumi.ComponentResource {
  /** The running container. */
  public readonly container: docker.Container;
  /** Completes once the container passes its image's healthcheck (./readiness.ts). */
  public readonly ready: command.local.Command;
  /** Docker container name, e.g. mail-lab-dev-ns. */
  public readonly containerName: pulumi.Output<string>;
  /** Address on the lab network. */
  public readonly address: string;

  constructor(name: string, args: NameServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mail-lab:index:NameServer", name, {}, opts);
    const { plan } = args;
    const host = plan.nameServer;
    const uploads = [
      ...renderHostFiles(plan, host).map(toUpload),
      { file: PATHS.caTrust, content: args.caCertificate, permissions: "0644" },
    ];
    this.container = new docker.Container(
      `${name}-container`,
      {
        ...hostContainerArgs(plan, host, args.network, args.image, labLabels(plan, "name-server")),
        uploads,
        envs: exerciseEnvs(plan),
      },
      { parent: this, ...replaceInPlace },
    );
    this.ready = waitUntilReady(name, this.container, this);
    this.containerName = this.container.name;
    this.address = host.address;
    this.registerOutputs({ containerName: this.containerName, address: this.address });
  }
}
