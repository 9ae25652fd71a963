import type * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { PATHS } from "../render/files";
import { renderHostFiles } from "../render";
import type { LabPlan, MailHostPlan } from "../plan/plan";
import type { CertificateAuthority } from "./CertificateAuthority";
import { waitUntilReady } from "./readiness";
import { exerciseEnvs, hostContainerArgs, labLabels, replaceInPlace, toUpload } from "./container-defaults";

/** Arguments of one domain's mail host. */
export interface MailHostArgs {
  /** The resolved plan. */
  plan: LabPlan;
  /** This host's part of the plan: domain, FQDN, address, users, access rules. */
  host: MailHostPlan;
  /** The lab network. */
  network: docker.Network;
  /** The mail-host image (images/mail-host). */
  image: docker.RemoteImage;
  /** Issues the host's TLS certificate; its CA is trusted by every lab container. */
  certificateAuthority: CertificateAuthority;
}

/** Where each volume is mounted; they keep mail across container replacement. */
export const MAIL_HOST_VOLUMES = {
  /** Delivered mail: the INBOX mboxes /var/mail/<login>. */
  mail: "/var/mail",
  /** Sendmail's queue: accepted but not yet delivered or relayed mail. */
  queue: "/var/spool/mqueue",
  /** Users' homes, where Dovecot keeps their other IMAP folders (~/mail). */
  home: "/home",
} as const;

/**
 * Sendmail (SMTP with STARTTLS on 25; submission on 587, SMTP AUTH only after STARTTLS) and
 * Dovecot (POP3/IMAP with STARTTLS on 110/143, and
 * POP3S/IMAPS on 995/993) for one domain, with the domain's user accounts. Mailboxes, homes and
 * the queue live on named volumes, so replacing the container on a config change loses no mail.
 */
export class MailHost extends pulumi.ComponentResource {
  /** The running container. */
  public readonly container: docker.Container;
  /** Completes once the container passes its image's healthcheck (./readiness.ts). */
  public readonly ready: command.local.Command;
  /** Docker container name, e.g. mail-lab-dev-mail-naver-com. */
  public readonly containerName: pulumi.Output<string>;
  /** mail.<domain> */
  public readonly fqdn: string;
  /** Address on the lab network. */
  public readonly address: string;

  constructor(name: string, args: MailHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mail-lab:index:MailHost", name, {}, opts);
    const { plan, host } = args;
    const labels = labLabels(plan, "mail-host", host.domain);
    const volumes = Object.entries(MAIL_HOST_VOLUMES).map(([purpose, containerPath]) => {
      const volume = new docker.Volume(
        `${name}-${purpose}`,
        {
          name: `${host.containerName}-${purpose}`,
          labels: Object.entries(labels).map(([label, value]) => ({ label, value })),
        },
        // Mail must survive a replaced container; only `pulumi destroy` removes it.
        { parent: this },
      );
      return { volumeName: volume.name, containerPath };
    });
    const tls = args.certificateAuthority.issue(`${name}-certificate`, host, this);
    const uploads = [
      ...renderHostFiles(plan, host).map(toUpload),
      // An exercise host keeps Debian's stock TLS settings; its certificate is the lab's, where
      // those settings read it (the package's self-signed one would fail every PC's verification).
      ...(plan.exercise
        ? [
            { file: PATHS.dovecotStockCert, content: tls.certificate, permissions: "0644" },
            { file: PATHS.dovecotStockKey, content: tls.privateKey, permissions: "0600" },
          ]
        : [
            { file: PATHS.tlsCert, content: tls.certificate, permissions: "0644" },
            { file: PATHS.tlsKey, content: tls.privateKey, permissions: "0600" },
            { file: PATHS.tlsCa, content: args.certificateAuthority.certificate, permissions: "0644" },
          ]),
      { file: PATHS.caTrust, content: args.certificateAuthority.certificate, permissions: "0644" },
    ];
    this.container = new docker.Container(
      `${name}-container`,
      {
        ...hostContainerArgs(plan, host, args.network, args.image, labels),
        uploads,
        volumes,
        // The image's entry point runs `sendmail -bD -q$QUEUE_INTERVAL`.
        envs: [`QUEUE_INTERVAL=${plan.mailQueue.runInterval}`, ...exerciseEnvs(plan)],
        // On stop the entry point lets deliveries in progress finish (at most 20 s, its
        // STOP_DRAIN_SECONDS) rather than leave half a message in a mailbox; Docker's default of
        // 10 s would kill them first.
        stopTimeout: 30,
        // Opt-in desktop access; the plan defaults the address to 127.0.0.1, never all interfaces.
        ports: host.publishedPorts.map((port) => ({
          internal: port.containerPort,
          external: port.hostPort,
          ip: port.hostAddress,
          protocol: "tcp",
        })),
      },
      { parent: this, ...replaceInPlace },
    );
    this.ready = waitUntilReady(name, this.container, this);
    this.containerName = this.container.name;
    this.fqdn = host.fqdn;
    this.address = host.address;
    this.registerOutputs({ containerName: this.containerName, fqdn: this.fqdn, address: this.address });
  }
}
