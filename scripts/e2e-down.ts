/**
 * Removes a stack's lab: every container, network, volume and image labelled
 * mail-lab.project=mail-lab and mail-lab.stack=<stack>, whoever created it, on the stack's
 * Docker engine (its `docker:host`, else the CLI's default).
 *
 *   node --import tsx scripts/e2e-down.ts stacks/Pulumi.dev.yaml
 *
 * Prints what it removed to stderr; exit code 1 if something could not be removed.
 */
import { dockerHostOf, readStackFile } from "../config/load";
import { useDockerHost } from "../docker/cli";
import { destroyStack } from "../harness/stack";

async function main(argv: readonly string[]): Promise<number> {
  const [stackFile, ...rest] = argv;
  if (stackFile === undefined || rest.length > 0) {
    process.stderr.write("usage: e2e-down <stack-file>   (e.g. stacks/Pulumi.dev.yaml)\n");
    return 2;
  }
  try {
    const { stack, providerConfig } = readStackFile(stackFile);
    useDockerHost(dockerHostOf(providerConfig)); // the engine the stack was deployed to
    const removed = await destroyStack(stack, { log: (line) => process.stderr.write(`${line}\n`) });
    process.stderr.write(
      removed.length > 0
        ? `e2e-down: removed ${removed.length} object(s) of stack ${stack}\n`
        : `e2e-down: nothing of stack ${stack} was left\n`,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`e2e-down: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
