/**
 * Deploys or updates a stack with the harness in its own process (a program runs once per
 * process) and prints what happened, for tests that deploy the same stack several times.
 *
 *   node --import tsx harness/deploy-cli.ts [--update] [--program <file.ts>] [--state-dir <dir>] <stack-file>
 *
 * stdout: `{ "outputs": {...}, "changes": [{ type, name, action, objects, changedInputs? }] }`;
 * progress on stderr. Exit 1 on failure (the harness has removed the stack then), 2 on bad usage.
 * Unlike scripts/e2e-up.ts, whose stdout is the outputs alone, this also reports the changes.
 */
import { deployStack } from "./stack";

interface Arguments {
  readonly stackFile: string;
  readonly update: boolean;
  readonly program: string | undefined;
  readonly stateDir: string | undefined;
}

function parseArguments(argv: readonly string[]): Arguments | undefined {
  const rest: string[] = [];
  let update = false;
  let program: string | undefined;
  let stateDir: string | undefined;
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    if (argument === "--update") update = true;
    else if (argument === "--program" || argument === "--state-dir") {
      const value = argv[++index];
      if (value === undefined) return undefined;
      if (argument === "--program") program = value;
      else stateDir = value;
    } else rest.push(argument);
  }
  const [stackFile, ...extra] = rest;
  if (stackFile === undefined || extra.length > 0) return undefined;
  return { stackFile, update, program, stateDir };
}

async function main(argv: readonly string[]): Promise<number> {
  const args = parseArguments(argv);
  if (!args) {
    process.stderr.write("usage: deploy-cli [--update] [--program <file.ts>] [--state-dir <dir>] <stack-file>\n");
    return 2;
  }
  try {
    const { outputs, changes } = await deployStack(args.stackFile, {
      update: args.update,
      program: args.program,
      stateDir: args.stateDir,
    });
    process.stdout.write(`${JSON.stringify({ outputs, changes }, null, 2)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`deploy-cli: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
