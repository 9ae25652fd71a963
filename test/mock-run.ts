/**
 * Runs the program (index.ts) under Pulumi's unit-test mocks without Docker and prints, as JSON
 * on stdout, every resource it registered with its inputs, plus the stack outputs or the error.
 * One process per run: Pulumi's runtime state is global. Usage: tsx test/mock-run.ts <stack-file>
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { engineConfigOf, readStackFile } from "../config/load";
import { containsSecret, unwrapSecrets } from "../harness/inputs";

/** The resource types the lab declares; anything else is a bug the test must see. */
export const EXPECTED_TYPES = new Set([
  "mail-lab:index:MailLab",
  "mail-lab:index:CertificateAuthority",
  "mail-lab:index:NameServer",
  "mail-lab:index:MailHost",
  "mail-lab:index:MailClient",
  "mail-lab:index:LabVerification",
  "docker:index/network:Network",
  "docker:index/remoteImage:RemoteImage",
  "docker:index/volume:Volume",
  "docker:index/container:Container",
  "command:local:Command",
]);

/** Stand-in openssl output: the components only split it into key and certificate. */
const FAKE_PEM =
  "-----BEGIN PRIVATE KEY-----\nMOCKKEY\n-----END PRIVATE KEY-----\n" +
  "-----BEGIN CERTIFICATE-----\nMOCKCERT\n-----END CERTIFICATE-----\n";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** Top-level inputs that arrived as secrets (or holding one), when there are any. */
  secretInputs?: string[];
}

async function main(): Promise<void> {
  const stackFile = process.argv[2]!;
  const file = readStackFile(stackFile);
  process.env.PULUMI_CONFIG = JSON.stringify(engineConfigOf(file.config, file.providerConfig));
  const registered: Registered[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        if (!EXPECTED_TYPES.has(args.type)) throw new Error(`unexpected resource type ${args.type} (${args.name})`);
        // Secret inputs (password hashes, keys) arrive wrapped; the assertions read their values.
        const secretInputs = Object.entries((args.inputs ?? {}) as Record<string, unknown>)
          .filter(([, value]) => containsSecret(value))
          .map(([key]) => key);
        registered.push({
          type: args.type,
          name: args.name,
          inputs: unwrapSecrets(args.inputs) as Record<string, unknown>,
          ...(secretInputs.length > 0 ? { secretInputs } : {}),
        });
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === "docker:index/remoteImage:RemoteImage") state.imageId = `sha256:mock-${args.name}`;
        if (args.type === "command:local:Command") state.stdout = FAKE_PEM;
        return { id: `${args.name}-id`, state };
      },
      call(args) {
        throw new Error(`unexpected function call ${args.token}`);
      },
    },
    "mail-lab",
    file.stack,
    false,
  );
  try {
    const program = await import(path.resolve(__dirname, "..", "index.ts"));
    const outputs: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(program)) {
      outputs[key] = await new Promise((resolve) => {
        const output: pulumi.Output<unknown> = pulumi.output(value as pulumi.Input<unknown>);
        output.apply(resolve);
      });
    }
    await pulumi.runtime.disconnect();
    process.stdout.write(JSON.stringify({ registered, outputs }));
  } catch (error) {
    process.stdout.write(JSON.stringify({ registered, error: (error as Error).message }));
  }
}

void main();
