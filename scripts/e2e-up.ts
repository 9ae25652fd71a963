/**
 * Deploys a stack with the harness (no Pulumi CLI) and leaves the lab running.
 *
 *   node --import tsx scripts/e2e-up.ts stacks/Pulumi.dev.yaml > outputs.json
 *   node --import tsx scripts/e2e-up.ts --program other.ts stacks/Pulumi.x.yaml   (default program: index.ts)
 *
 * stdout carries only the stack outputs as JSON; progress goes to stderr. On failure everything
 * created is removed again and the exit code is 1. `scripts/e2e-down.ts` removes the lab.
 */
import { deployStack } from "../harness/stack";

async function main(argv: readonly string[]): Promise<number> {
  const args = [...argv];
  let program: string | undefined;
  const flag = args.indexOf("--program");
  if (flag !== -1) {
    program = args[flag + 1];
    args.splice(flag, 2);
  }
  const [stackFile, ...rest] = args;
  if (stackFile === undefined || rest.length > 0 || (flag !== -1 && program === undefined)) {
    process.stderr.write("usage: e2e-up [--program <file.ts>] <stack-file>   (e.g. stacks/Pulumi.dev.yaml)\n");
    return 2;
  }
  try {
    const { outputs } = await deployStack(stackFile, { program });
    process.stdout.write(`${JSON.stringify(outputs, null, 2)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`e2e-up: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
