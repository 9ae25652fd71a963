/**
 * `npm run check -- <stack-file>`: runs the lab's round trip (check/) against a running lab and
 * prints a table of every check. Exits 1 if any check fails, 0 if all pass, 2 when it cannot
 * start (usage, config or plan JSON).
 *
 *   npm run check -- stacks/Pulumi.dev.yaml [--timeout <seconds>]
 *   node --import tsx scripts/check.ts --plan-json-env <VARIABLE> [--timeout <seconds>]
 *
 * The second form is what `pulumi up` runs (components/LabVerification.ts): the plan's data the
 * checks need comes as JSON in an environment variable, so that passwords kept as Pulumi secrets
 * never reach a command line. `--timeout` bounds the wait for each message to arrive (default 120).
 */
import { dockerHostOf, readStackFile } from "../config/load";
import { resolvePlan } from "../plan/plan";
import { runChecks } from "../check/run";
import { renderTable } from "../check/table";
import { type CheckTargets, parseTargets, targetsFromPlan } from "../check/targets";
import { takeFlag, UsageError } from "./arguments";

const USAGE = [
  "usage: npm run check -- <stack-file> [--timeout <seconds>]   (e.g. stacks/Pulumi.dev.yaml)",
  "       node --import tsx scripts/check.ts --plan-json-env <VARIABLE> [--timeout <seconds>]",
].join("\n");

interface Arguments {
  readonly stackFile?: string;
  readonly planVariable?: string;
  readonly timeoutSeconds: number;
}

function parseArguments(argv: readonly string[]): Arguments {
  const rest = [...argv];
  const take = (flag: string) => takeFlag(rest, flag);
  const timeout = take("--timeout");
  const planVariable = take("--plan-json-env");
  const timeoutSeconds = timeout === undefined ? 120 : Number(timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new UsageError(`--timeout must be a number of seconds greater than 0, got "${timeout}"`);
  }
  const unknown = rest.find((arg) => arg.startsWith("--"));
  if (unknown) throw new UsageError(`unknown option ${unknown}`);
  if (planVariable !== undefined) {
    if (rest.length > 0) throw new UsageError("give either a stack file or --plan-json-env, not both");
    return { planVariable, timeoutSeconds };
  }
  if (rest.length !== 1) throw new UsageError("give one stack file");
  return { stackFile: rest[0], timeoutSeconds };
}

/** The checks' targets from the stack file, resolved as `pulumi up` resolves them. */
function targetsFromStackFile(stackFile: string): CheckTargets {
  const file = readStackFile(stackFile);
  if (file.encryptedKeys.length > 0) {
    throw new UsageError(
      `${stackFile}: ${file.encryptedKeys.join(", ")} ${file.encryptedKeys.length === 1 ? "is" : "are"} encrypted and ` +
        "cannot be read without the stack's passphrase; let `pulumi up` run the checks (mail-lab:verify: true)",
    );
  }
  // The lab runs on the engine its `docker:host` names: `docker exec` must go there too.
  const dockerHost = dockerHostOf(file.providerConfig);
  if (dockerHost !== undefined) process.env["DOCKER_HOST"] = dockerHost;
  return targetsFromPlan(resolvePlan(file.config, { project: "mail-lab", stack: file.stack }));
}

async function main(argv: readonly string[]): Promise<number> {
  let targets: CheckTargets;
  let timeoutSeconds: number;
  try {
    const args = parseArguments(argv);
    timeoutSeconds = args.timeoutSeconds;
    if (args.planVariable !== undefined) {
      const json = process.env[args.planVariable];
      if (json === undefined) throw new UsageError(`environment variable ${args.planVariable} is not set`);
      targets = parseTargets(json);
    } else {
      targets = targetsFromStackFile(args.stackFile!);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`check: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    // A bad config, an unreadable stack file or plan JSON: say what, without a stack trace.
    process.stderr.write(`check: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  process.stdout.write(
    `mail-lab check, stack ${targets.stack}: DNS from every PC, relay both ways, POP3S and IMAP+STARTTLS\n`,
  );
  const results = await runChecks(targets, { deliveryTimeoutMs: timeoutSeconds * 1000 });
  process.stdout.write(renderTable(results));
  return results.some((result) => result.result === "fail") ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`check: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
