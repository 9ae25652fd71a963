import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { HOST_ROLES, type LabPlan } from "../plan/plan";
import { CertificateAuthority } from "./CertificateAuthority";
import { asLabelList, imageLabels, type LabRole, labLabels } from "./container-defaults";
import { LabVerification } from "./LabVerification";
import { MailClient } from "./MailClient";
import { MailHost } from "./MailHost";
import { NameServer } from "./NameServer";

/** Arguments of a whole lab. */
export interface MailLabArgs {
  /** The resolved, validated plan (plan/plan.ts `resolvePlan`). */
  plan: LabPlan;
  /** Build context holding `<role>/Dockerfile` and `common/`. Default: this repository's images/. */
  imagesDir?: string;
}

export const ROLES: readonly LabRole[] = HOST_ROLES;

/**
 * Digest of the files an image is built from (its role folder and common/), so an image is
 * rebuilt exactly when those files change and not on every `pulumi up`.
 */
export function imageContentHash(imagesDir: string, role: LabRole): string {
  const hash = crypto.createHash("sha256");
  const walk = (relative: string): void => {
    const absolute = path.join(imagesDir, relative);
    if (!fs.existsSync(absolute)) return;
    for (const entry of fs
      .readdirSync(absolute, { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))) {
      const child = path.posix.join(relative, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) {
        hash.update(`${child}\0`);
        hash.update(fs.readFileSync(path.join(imagesDir, child)));
        hash.update(`\0${fs.statSync(path.join(imagesDir, child)).mode & 0o111 ? "x" : "-"}\0`);
      }
    }
  };
  walk(role);
  walk("common");
  return hash.digest("hex");
}

/**
 * Digest of what a role's image is built from (`imageContentHash`) and the base image it is built
 * on: the image's `mail-lab.content-hash` label. Its first 12 hex digits are the image's tag, so
 * every stack of the Docker host that builds the same files on the same base names the same image,
 * `<project>-<role>:<tag>` (e.g. `mail-lab-mail-host:3f2a9c01b7de`), and shares it.
 */
export function imageDigest(imagesDir: string, role: LabRole, baseImage: string): string {
  return crypto
    .createHash("sha256")
    .update(`${imageContentHash(imagesDir, role)}\0${baseImage}`)
    .digest("hex");
}

export function imageTag(imagesDir: string, role: LabRole, baseImage: string): string {
  return imageDigest(imagesDir, role, baseImage).slice(0, 12);
}

/** Stack outputs: what `pulumi stack output --json` shows. */
export interface MailLabOutputs {
  network: { name: string; subnet: string };
  nameServer: { container: string; address: string };
  mailHosts: Record<string, { container: string; fqdn: string; address: string }>;
  clients: Record<string, { container: string; address: string; email: string }>;
  caCertificate: string;
}

/**
 * The whole lab: network, images, CA, then the name server, the mail hosts once it answers,
 * and the clients beside them: every host starts once the name server answers.
 */
export class MailLab extends pulumi.ComponentResource {
  public readonly network: docker.Network;
  public readonly certificateAuthority: CertificateAuthority;
  public readonly nameServer: NameServer;
  public readonly mailHosts: MailHost[];
  public readonly clients: MailClient[];
  /** The lab's round trip, run by `pulumi up` after every host; absent when `mail-lab:verify` is false. */
  public readonly verification?: LabVerification;
  /** Everything the stack exports. */
  public readonly outputs: pulumi.Output<MailLabOutputs>;

  constructor(name: string, args: MailLabArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mail-lab:index:MailLab", name, {}, opts);
    const { plan } = args;
    const imagesDir = args.imagesDir ?? path.join(__dirname, "..", "images");

    this.network = new docker.Network(
      `${name}-network`,
      {
        name: plan.network.name,
        driver: "bridge",
        ipamConfigs: [{ subnet: plan.network.subnet, gateway: plan.network.gateway }],
        labels: asLabelList(labLabels(plan, "network")),
      },
      { parent: this },
    );

    // One image per role, named by its content and shared by every stack of the Docker host: a
    // second stack's build is a cache hit giving the same image, and destroying a stack leaves the
    // images (`keepLocally`), since another stack may run them. `npm run images:prune` removes the
    // lab's images that no container uses.
    const images = Object.fromEntries(
      ROLES.map((role) => {
        const digest = imageDigest(imagesDir, role, plan.baseImage);
        return [
          role,
          new docker.RemoteImage(
            `${name}-${role}-image`,
            {
              name: `${plan.project}-${role}:${digest.slice(0, 12)}`,
              build: {
                // Relative to the program's working directory (the project folder under `pulumi up`),
                // so the state does not depend on where the repository is checked out.
                context: path.relative(process.cwd(), imagesDir) || ".",
                dockerfile: `${role}/Dockerfile`,
                buildArgs: { BASE_IMAGE: plan.baseImage },
                label: imageLabels(plan.project, role, digest),
              },
              triggers: { contentHash: imageContentHash(imagesDir, role), baseImage: plan.baseImage },
              keepLocally: true,
            },
            { parent: this },
          ),
        ];
      }),
    ) as Record<LabRole, docker.RemoteImage>;

    this.certificateAuthority = new CertificateAuthority(
      `${name}-ca`,
      { commonName: `mail-lab ${plan.stack} CA` },
      { parent: this },
    );

    this.nameServer = new NameServer(
      `${name}-${plan.nameServer.key}`,
      {
        plan,
        network: this.network,
        image: images["name-server"],
        caCertificate: this.certificateAuthority.certificate,
      },
      { parent: this },
    );

    // Mail hosts resolve MX records at start-up, so they start once the name server answers.
    this.mailHosts = plan.mailHosts.map(
      (host) =>
        new MailHost(
          `${name}-${host.key}`,
          {
            plan,
            host,
            network: this.network,
            image: images["mail-host"],
            certificateAuthority: this.certificateAuthority,
          },
          { parent: this, dependsOn: [this.nameServer.ready] },
        ),
    );

    // A PC needs only the name server at start (its resolver and the lab CA); nothing in it talks
    // to its mail host until someone sends mail, so it starts beside the mail hosts.
    this.clients = plan.clients.map(
      (client) =>
        new MailClient(
          `${name}-${client.key}`,
          {
            plan,
            client,
            network: this.network,
            image: images.client,
            caCertificate: this.certificateAuthority.certificate,
          },
          { parent: this, dependsOn: [this.nameServer.ready] },
        ),
    );

    if (plan.verify) {
      const hosts = [this.nameServer, ...this.mailHosts, ...this.clients];
      const containers = hosts.map((host) => host.container);
      this.verification = new LabVerification(
        `${name}-verification`,
        { plan, containers },
        { parent: this, dependsOn: hosts.map((host) => host.ready) },
      );
    }

    this.outputs = pulumi.output({
      network: { name: this.network.name, subnet: plan.network.subnet },
      nameServer: { container: this.nameServer.containerName, address: this.nameServer.address },
      mailHosts: Object.fromEntries(
        this.mailHosts.map((mailHost, index) => [
          plan.mailHosts[index]!.domain,
          { container: mailHost.containerName, fqdn: mailHost.fqdn, address: mailHost.address },
        ]),
      ),
      clients: Object.fromEntries(
        this.clients.map((client, index) => [
          plan.clients[index]!.key,
          { container: client.containerName, address: client.address, email: client.email },
        ]),
      ),
      caCertificate: this.certificateAuthority.certificate,
    });
    this.registerOutputs({ outputs: this.outputs });
  }
}
