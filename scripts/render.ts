/**
 * `npm run render -- <stack-file> <out-dir>`: writes every file the lab would upload, as
 * `<out-dir>/<host>/<absolute path inside the container>` (e.g. out/ns/etc/bind/named.conf).
 * TLS keys and certificates are not rendered: they come from the stack's CA at `pulumi up`.
 * For an exercise stack (mail-lab:exercise) it writes the configured lab's files: the answer key.
 */
import { writeRenderedLab } from "../render/write";
import { ConfigError } from "../config/errors";
import { readStackFile } from "../config/load";
import { answerKeyOf, resolvePlan } from "../plan/plan";

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
    // An exercise lab's hosts start with their packages' stock files; the configured lab's files
    // are what the students should arrive at: the instructor's answer key.
    const written = writeRenderedLab(answerKeyOf(plan), outDir);
    for (const relative of written) console.log(relative);
    console.error(`${written.length} files written under ${outDir}`);
    if (plan.exercise) {
      console.error(
        `${stackFile} is an exercise lab (mail-lab:exercise: true): these are the configured lab's files, the answer key; its hosts start with their packages' stock configuration`,
      );
    }
    return 0;
  } catch (error) {
    console.error(`${stackFile}: ${error instanceof ConfigError ? error.message : (error as Error).message}`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
