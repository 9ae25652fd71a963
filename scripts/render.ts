/**
 * `npm run render -- <stack-file> <out-dir>`: writes every file the lab would upload, as
 * `<out-dir>/<host>/<absolute path inside the container>` (e.g. out/ns/etc/bind/named.conf).
 * TLS keys and certificates are not rendered: they come from the stack's CA at `pulumi up`.
 */
import { writeRenderedLab } from "../render/write";
import { ConfigError } from "../spec/errors";
import { readStackFile } from "../spec/load";
import { resolvePlan } from "../spec/plan";

function main(argv: string[]): number {
  const [stackFile, outDir] = argv;
  if (!stackFile || !outDir || argv.length !== 2) {
    console.error("usage: npm run render -- <stack-file> <out-dir>   (for example stacks/Pulumi.dev.yaml out)");
    return 2;
  }
  try {
    const file = readStackFile(stackFile);
    if (file.encryptedKeys.length > 0) {
      // Password hashes are part of the output, and encrypted values need the stack's passphrase.
      console.error(
        `${stackFile}: ${file.encryptedKeys.join(", ")} ${file.encryptedKeys.length === 1 ? "is" : "are"} encrypted; ` +
          "render needs plain values (use `pulumi preview` to see what Pulumi would create, or render a copy of the stack with plain test passwords)",
      );
      return 1;
    }
    const plan = resolvePlan(file.config, { project: "mail-lab", stack: file.stack });
    const written = writeRenderedLab(plan, outDir);
    for (const relative of written) console.log(relative);
    console.error(`${written.length} files written under ${outDir}`);
    return 0;
  } catch (error) {
    console.error(`${stackFile}: ${error instanceof ConfigError ? error.message : (error as Error).message}`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
