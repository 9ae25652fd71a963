/**
 * The one place that starts the `docker` CLI (and other programs the lab's tools run): without a
 * shell, every argument one argv entry, so no config value is ever interpreted by a shell. The
 * harness, the checks, the grader, the components' host-side checks, the end-to-end tests and
 * the benchmark all run docker through here.
 */
import { spawn, spawnSync } from "node:child_process";

/** What a program printed, and how it ended. */
export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

export interface RunOptions {
  /** Bytes written to the child's stdin (then closed). */
  readonly input?: string | Buffer;
  /** Working directory; default the current one. */
  readonly cwd?: string;
  /** Full environment of the child; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Called with each chunk of stderr as it arrives (progress of `docker build`). */
  readonly onStderr?: (chunk: string) => void;
  readonly onStdout?: (chunk: string) => void;
  /** Killed (SIGKILL) after this many ms; its stderr then starts with "timed out after N s". */
  readonly timeoutMs?: number;
}

/** Runs `file args...` and resolves with its output and exit code; rejects only if it cannot start. */
export async function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { stdout, stderr, code } = await runRaw(file, args, options);
  return { stdout: stdout.toString("utf8"), stderr, code };
}

/** Like `run`, with stdout as bytes (a tar stream from `docker cp`, say). */
export function runRaw(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<{ stdout: Buffer; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
          }, options.timeoutMs);
    child.stdout.on("data", (chunk: Buffer) => {
      stdout.push(chunk);
      options.onStdout?.(chunk.toString("utf8"));
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr.push(chunk);
      options.onStderr?.(chunk.toString("utf8"));
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const err = Buffer.concat(stderr).toString("utf8");
      resolve({
        stdout: Buffer.concat(stdout),
        stderr: timedOut ? `timed out after ${options.timeoutMs! / 1000}s\n${err}` : err,
        code: code ?? (signal ? 128 : 1),
      });
    });
    // A child that exits before reading its stdin makes the write fail with EPIPE; its exit code
    // tells the real story.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

/**
 * The Docker engine the harness applies resources to: the stack's `docker:host` (the docker
 * provider's setting), or, unset, whatever the CLI's own DOCKER_HOST or context names. Only the
 * harness's own `docker` calls use it; the commands the program runs get what the program gives
 * them, as under the engine.
 */
let engineHost: string | undefined;

/** Sets the engine for every later `docker`/`dockerResult` call of this process. */
export function useDockerHost(host: string | undefined): void {
  engineHost = host;
}

/** The environment of a `docker` call: `env` (default `process.env`) with the engine's host over it. */
function dockerEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return engineHost === undefined ? env : { ...env, DOCKER_HOST: engineHost };
}

export class DockerError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly result: RunResult,
  ) {
    super(`\`docker ${args.join(" ")}\` failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`);
    this.name = "DockerError";
  }
}

/** Runs `docker args...`; rejects with the command line and stderr on a non-zero exit. */
export async function docker(args: readonly string[], options: RunOptions = {}): Promise<string> {
  const result = await run("docker", args, { ...options, env: dockerEnvironment(options.env) });
  if (result.code !== 0) throw new DockerError(args, result);
  return result.stdout;
}

/** Like `docker`, but resolves with the result whatever the exit code. */
export function dockerResult(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return run("docker", args, { ...options, env: dockerEnvironment(options.env) });
}

/** `docker inspect`-style commands print a JSON array. */
export async function dockerJson<T>(args: readonly string[]): Promise<T[]> {
  const text = await docker(args);
  return JSON.parse(text) as T[];
}

/** Lines of a `-q`/`--format` listing, empty lines dropped. */
export async function dockerLines(args: readonly string[]): Promise<string[]> {
  return (await docker(args))
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

/** The synchronous `run`, for a Pulumi program's checks before any resource exists; undefined when `file` is not installed. */
export function runSync(
  file: string,
  args: readonly string[],
  options: { readonly timeoutMs?: number } = {},
): RunResult | undefined {
  const result = spawnSync(file, [...args], {
    encoding: "utf8",
    timeout: options.timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") return undefined;
  return {
    stdout: result.stdout ?? "",
    stderr: result.stderr || (result.error ? result.error.message : ""),
    code: result.status ?? 1,
  };
}
