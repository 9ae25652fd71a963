import type * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { PATHS } from "../render/files";
import { renderHostFiles } from "../render";
import type { ClientPlan, LabPlan } from "../plan/plan";
import { waitUntilReady } from "./readiness";
import { hostContainerArgs, labLabels, replaceInPlace, toUpload } from "./container-defaults";

/** Arguments of one user's PC. */
export interface MailClientArgs {
  /** The resolved plan. */
  plan: LabPlan;
  /** This client's part of the plan: its user, address and mail host. */
  client: ClientPlan;
  /** The lab network. */
  network: docker.Network;
  /** The client image (images/client). */
  image: docker.RemoteImage;
  /** PEM of the lab CA, trusted so that TLS is verified with no insecure flag. */
  caCertificate: pulumi.Input<string>;
}

/**
 * A user's PC: mutt, swaks, curl, dig and openssl, preset for the user's own mail host
 * (`docker exec -it <container> mutt`).
 */
export class MailClient extends pulumi.ComponentResource {
  /** The running container. */
  public readonly container: docker.Container;
  /** Completes once the container passes its image's healthcheck (./readiness.ts). */
  public readonly ready: command.local.Command;
  /** Docker container name, e.g. mail-lab-dev-lee-pc. */
  public readonly containerName: pulumi.Output<string>;
  /** Address on the lab network. */
  public readonly address: string;
  /** The user's mail address. */
  public readonly email: string;

  constructor(name: string, args: MailClientArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mail-lab:index:MailClient", name, {}, opts);
    const { plan, client } = args;
    const uploads = [
      ...renderHostFiles(plan, client).map(toUpload),
      { file: PATHS.caTrust, content: args.caCertificate, permissions: "0644" },
    ];
    this.container = new docker.Container(
      `${name}-container`,
      { ...hostContainerArgs(plan, client, args.network, args.image, labLabels(plan, "client")), uploads },
      { parent: this, ...replaceInPlace },
    );
    this.ready = waitUntilReady(name, this.container, this);
    this.containerName = this.container.name;
    this.address = client.address;
    this.email = client.email;
    this.registerOutputs({ containerName: this.containerName, address: this.address, email: this.email });
  }
}
