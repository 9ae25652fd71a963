/** The harness's `command:local:Command`: runs the command as pulumi-command does. */
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import { run } from "../docker/cli";
import { Fields, UnsupportedInputError } from "./inputs";
import { CommandLogging, CommandRun, MockContext, MockResourceResult, RecordedResource } from "./mock-model";

export async function runCommand(
  mocks: MockContext,
  resource: string,
  f: Fields,
  raw: Record<string, unknown>,
  previous?: RecordedResource,
): Promise<MockResourceResult> {
  const create = f.string("create");
  const deleteCommand = f.string("delete");
  const update = f.string("update");
  f.recorded("triggers"); // compared by the update's diff: a change replaces the command
  const environment = f.stringMap("environment");
  const dir = path.resolve(f.string("dir") ?? ".");
  const interpreter = f.strings("interpreter");
  const stdin = f.string("stdin");
  const logging = (f.string("logging") ?? "stdoutAndStderr") as CommandLogging;
  if (!["stdout", "stderr", "stdoutAndStderr", "none"].includes(logging)) {
    throw new UnsupportedInputError(
      `${f.where}: \`logging\` "${logging}" is not one of stdout, stderr, stdoutAndStderr, none`,
    );
  }
  const addPreviousOutputInEnv = f.boolean("addPreviousOutputInEnv") ?? true;
  f.done();

  const base = {
    interpreter: interpreter.length > 0 ? interpreter : ["/bin/sh", "-c"],
    environment,
    dir,
    stdin,
    logging,
  };
  let stdout = "";
  let stderr = "";
  const previousOutputs: Record<string, string> = {};
  if (previous && addPreviousOutputInEnv) {
    const { stdout: lastOut, stderr: lastErr } = previous.state;
    if (typeof lastOut === "string" && lastOut !== "") previousOutputs["PULUMI_COMMAND_STDOUT"] = lastOut;
    if (typeof lastErr === "string" && lastErr !== "") previousOutputs["PULUMI_COMMAND_STDERR"] = lastErr;
  }
  const run = previous ? (update ?? create) : create;
  if (run !== undefined) {
    ({ stdout, stderr } = await execute(mocks, resource, { ...base, command: run }, previousOutputs));
  }
  const id = previous?.id ?? `${resource}-${randomBytes(4).toString("hex")}`;
  mocks.created.push({
    kind: "command",
    resource,
    name: resource,
    id,
    deleteRun: deleteCommand !== undefined ? { ...base, command: deleteCommand } : undefined,
    stdout,
    stderr,
    addPreviousOutputInEnv,
  });
  return { id, state: { ...raw, stdout, stderr } };
}

/**
 * Runs one command as pulumi-command's local provider does (provider/pkg/provider/local/
 * commandOutputs.go): interpreter + command, process env with `environment` over it, stdout and
 * stderr each with one trailing newline trimmed, and on failure the combined output.
 */
export async function execute(
  mocks: MockContext,
  resource: string,
  commandRun: CommandRun,
  extraEnv: Record<string, string>,
): Promise<{ stdout: string; stderr: string }> {
  const [file, ...interpreterArgs] = commandRun.interpreter;
  if (file === undefined) throw new Error(`${resource}: empty interpreter`);
  const combined: string[] = [];
  const logStdout = commandRun.logging === "stdout" || commandRun.logging === "stdoutAndStderr";
  const logStderr = commandRun.logging === "stderr" || commandRun.logging === "stdoutAndStderr";
  const result = await run(file, [...interpreterArgs, commandRun.command], {
    cwd: commandRun.dir,
    env: { ...process.env, ...commandRun.environment, ...extraEnv },
    input: commandRun.stdin,
    onStdout: (chunk) => {
      combined.push(chunk);
      if (logStdout) mocks.log(`[${resource}] ${chunk.trimEnd()}`);
    },
    onStderr: (chunk) => {
      combined.push(chunk);
      if (logStderr) mocks.log(`[${resource}] ${chunk.trimEnd()}`);
    },
  });
  if (result.code !== 0) {
    throw new Error(`exit status ${result.code}: running ${JSON.stringify(commandRun.command)}:\n${combined.join("")}`);
  }
  return { stdout: result.stdout.replace(/\n$/, ""), stderr: result.stderr.replace(/\n$/, "") };
}

// --- teardown ---------------------------------------------------------------------------------

/**
 * Removes everything created, newest first: containers (`rm -f -v`, after `stop -t` when
 * `destroyGraceSeconds` is set), volumes, networks, images unless `keepLocally`, and runs each
 * command's `delete`. Tries every object; throws once at the end listing every failure.
 * Returns a line per object removed.
 */
