import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

/** Arguments of the stack's certificate authority. */
export interface CertificateAuthorityArgs {
  /** Common name of the CA certificate, e.g. "mail-lab dev CA". */
  commonName: string;
  /** Lifetime of the CA certificate in days. Default 3650: a lab CA outlives many courses. */
  validityDays?: number;
}

/** Lifetime of host certificates in days. */
export const HOST_CERTIFICATE_DAYS = 825;

/** The certificate and private key of one host, issued by the lab's CA. */
export interface HostCertificate {
  /** PEM certificate for the host's FQDN and address. */
  readonly certificate: pulumi.Output<string>;
  /** PEM private key; a secret in state. */
  readonly privateKey: pulumi.Output<string>;
}

// The CA's key is made once by `openssl` when the stack is first deployed and then kept in
// state as a secret: a later `pulumi up` does not run `create` again, so every client's trust
// and every issued certificate stay valid. (The design fixes the package list, so no @pulumi/tls.)
const CREATE_CA = `set -eu
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$CA_DAYS" -subj "/O=mail-lab/CN=$CA_NAME" \\
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \\
  -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>"$dir/err" || { cat "$dir/err" >&2; exit 1; }
cat "$dir/ca.key" "$dir/ca.pem"`;

// Issues a server certificate (also usable as an SMTP client certificate between the MTAs)
// whose subjectAltName carries the FQDN and the address, so clients can verify either.
const ISSUE_HOST_CERTIFICATE = `set -eu
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
printf '%s\\n' "$CA_KEY" > "$dir/ca.key"
printf '%s\\n' "$CA_CERT" > "$dir/ca.pem"
printf 'subjectAltName=DNS:%s,IP:%s\\nbasicConstraints=critical,CA:FALSE\\nkeyUsage=critical,digitalSignature,keyEncipherment\\nextendedKeyUsage=serverAuth,clientAuth\\n' "$HOST_FQDN" "$HOST_ADDRESS" > "$dir/ext"
openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "/O=mail-lab/CN=$HOST_FQDN" \\
  -keyout "$dir/host.key" -out "$dir/host.csr" 2>"$dir/err" || { cat "$dir/err" >&2; exit 1; }
openssl x509 -req -sha256 -days "$HOST_DAYS" -in "$dir/host.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \\
  -set_serial "0x$(openssl rand -hex 16)" -extfile "$dir/ext" -out "$dir/host.pem" 2>"$dir/err" || { cat "$dir/err" >&2; exit 1; }
cat "$dir/host.key" "$dir/host.pem"`;

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----\n?/g;

/** Splits `openssl` output into its private key and certificate PEM blocks. */
export function splitKeyAndCertificate(pem: string): { privateKey: string; certificate: string } {
  const blocks = pem.match(PEM_BLOCK) ?? [];
  const privateKey = blocks.find((block) => block.includes("PRIVATE KEY"));
  const certificate = blocks.find((block) => block.startsWith("-----BEGIN CERTIFICATE-----"));
  if (!privateKey || !certificate) {
    throw new Error("openssl did not print a private key and a certificate; is openssl installed where pulumi runs?");
  }
  const withNewline = (block: string) => (block.endsWith("\n") ? block : `${block}\n`);
  return { privateKey: withNewline(privateKey), certificate: withNewline(certificate) };
}

/**
 * The stack's certificate authority. Mail hosts get certificates from `issue`; every container
 * trusts `certificate`, so TLS is verified everywhere without an insecure flag.
 */
export class CertificateAuthority extends pulumi.ComponentResource {
  /** PEM certificate of the CA (public; a stack output). */
  public readonly certificate: pulumi.Output<string>;
  /** PEM private key of the CA; a secret in state. */
  public readonly privateKey: pulumi.Output<string>;

  constructor(name: string, args: CertificateAuthorityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mail-lab:index:CertificateAuthority", name, {}, opts);
    const created = new command.local.Command(
      `${name}-ca`,
      {
        create: CREATE_CA,
        environment: { CA_NAME: args.commonName, CA_DAYS: String(args.validityDays ?? 3650) },
        logging: "stderr",
      },
      { parent: this, additionalSecretOutputs: ["stdout"] },
    );
    const parts = created.stdout.apply(splitKeyAndCertificate);
    this.certificate = pulumi.unsecret(parts.apply((part) => part.certificate));
    this.privateKey = pulumi.secret(parts.apply((part) => part.privateKey));
    this.registerOutputs({ certificate: this.certificate });
  }

  /** Issues a certificate for a host; the resource is a child of `parent`. */
  issue(name: string, host: { fqdn: string; address: string }, parent: pulumi.Resource): HostCertificate {
    const issued = new command.local.Command(
      name,
      {
        create: ISSUE_HOST_CERTIFICATE,
        environment: {
          CA_KEY: this.privateKey,
          CA_CERT: this.certificate,
          HOST_FQDN: host.fqdn,
          HOST_ADDRESS: host.address,
          HOST_DAYS: String(HOST_CERTIFICATE_DAYS),
        },
        logging: "stderr",
      },
      { parent, additionalSecretOutputs: ["stdout"] },
    );
    const parts = issued.stdout.apply(splitKeyAndCertificate);
    return {
      certificate: pulumi.unsecret(parts.apply((part) => part.certificate)),
      privateKey: pulumi.secret(parts.apply((part) => part.privateKey)),
    };
  }
}
