/**
 * `npm run grade -- <stack-file> [--lang en] [--timeout <seconds>]`: grades a running lab (an
 * exercise lab the students configure, or the configured one) step by step against the course
 * (course-mail-server.ko.md, 실습 1 and 실습 2), with the daemons' own tools and real clients on
 * the lab's hosts. Prints one row per step and host, in Korean unless `--lang en`, a hint under
 * each failure, and `N passed, M failed`. Exit 1 if any step fails, 0 if all pass, 2 when it
 * cannot start (usage, config).
 */
import { dockerHostOf, readStackFile } from "../config/load";
import { resolvePlan } from "../plan/plan";
import { type Language, renderGrade } from "../grade/report";
import { gradeLab } from "../grade/steps";
import { takeFlag, UsageError } from "./arguments";

const USAGE =
  "usage: npm run grade -- <stack-file> [--lang ko|en] [--timeout <seconds>]   (e.g. stacks/Pulumi.dev.yaml)";

function parseArguments(argv: readonly string[]): { stackFile: string; language: Language; timeoutSeconds: number } {
  const rest = [...argv];
  const language = takeFlag(rest, "--lang") ?? "ko";
  if (language !== "ko" && language !== "en") throw new UsageError(`--lang must be ko or en, got "${language}"`);
  const timeout = takeFlag(rest, "--timeout");
  const timeoutSeconds = timeout === undefined ? 60 : Number(timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new UsageError(`--timeout must be a number of seconds greater than 0, got "${timeout}"`);
  }
  const unknown = rest.find((arg) => arg.startsWith("--"));
  if (unknown) throw new UsageError(`unknown option ${unknown}`);
  if (rest.length !== 1) throw new UsageError("give one stack file");
  return { stackFile: rest[0]!, language, timeoutSeconds };
}

async function main(argv: readonly string[]): Promise<number> {
  let args: ReturnType<typeof parseArguments>;
  let plan: ReturnType<typeof resolvePlan>;
  try {
    args = parseArguments(argv);
    const file = readStackFile(args.stackFile);
    if (file.encryptedKeys.length > 0) {
      throw new Error(
        `${args.stackFile}: ${file.encryptedKeys.join(", ")} encrypted; the grader logs in as the users and needs their passwords in plain text`,
      );
    }
    // The lab runs on the engine its `docker:host` names: `docker exec` must go there too.
    const dockerHost = dockerHostOf(file.providerConfig);
    if (dockerHost !== undefined) process.env["DOCKER_HOST"] = dockerHost;
    plan = resolvePlan(file.config, { project: "mail-lab", stack: file.stack });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`grade: ${message}\n${error instanceof UsageError ? `${USAGE}\n` : ""}`);
    return 2;
  }
  const rows = await gradeLab(plan, { deliveryTimeoutMs: args.timeoutSeconds * 1000 });
  process.stdout.write(
    args.language === "ko"
      ? `mail-lab 채점, 스택 ${plan.stack}: 실습 1 (네임 서버), 실습 2 (메일 서버)\n`
      : `mail-lab grade, stack ${plan.stack}: Lab 1 (name server), Lab 2 (mail servers)\n`,
  );
  process.stdout.write(renderGrade(rows, args.language));
  return rows.some((row) => !row.verdict.pass) ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`grade: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
