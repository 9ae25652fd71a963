/**
 * Helpers for end-to-end tests: deploy a stack with the harness in its own process (the harness
 * runs one program per process), run real clients inside the lab's containers, and check that
 * nothing of the stack is left afterwards.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before } from "node:test";
import type { MailLabOutputs } from "../../components/MailLab";
import { dockerExec } from "../../check/run";
import { run, type RunResult } from "../../docker/cli";
import type { ResourceChange } from "../../harness/docker-mocks";

export const root = path.join(__dirname, "..", "..");

/** The stack outputs, as `e2e:up` prints them (`verification` only when the stack verifies). */
export type LabOutputs = MailLabOutputs & { verification?: string };

/** `npm run e2e:up`: deploys the stack and returns its outputs; the harness tears down on failure. */
export function deploy(stackFile: string): LabOutputs {
  const stdout = execFileSync(
    process.execPath,
    ["--import", "tsx", path.join(root, "scripts", "e2e-up.ts"), stackFile],
    {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return JSON.parse(stdout) as LabOutputs;
}

/**
 * The hooks of a suite that owns one lab: deploy it fresh before the suite, and after it (also
 * when it fails) remove the lab and `scratchDir`, the folder of its stack file.
 */
export function labPerSuite(stackFile: string, scratchDir: string): void {
  before(() => {
    destroy(stackFile);
    deploy(stackFile);
  });
  after(() => {
    try {
      destroy(stackFile);
    } finally {
      fs.rmSync(scratchDir, { recursive: true, force: true });
    }
  });
}

/** `npm run e2e:down`: removes everything labelled with the stack. */
export function destroy(stackFile: string): void {
  execFileSync(process.execPath, ["--import", "tsx", path.join(root, "scripts", "e2e-down.ts"), stackFile], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
  });
}

export type ExecResult = RunResult;

/** Runs a command inside a container (`docker exec`), never through a host shell. */
export function execIn(container: string, command: readonly string[], timeoutMs = 60_000): Promise<ExecResult> {
  return dockerExec(container, command, { timeoutMs });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Milliseconds as seconds for a report line: `12.3 s`. */
export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Polls `check` every `everyMs` until it returns a value; fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  everyMs = 1000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds(timeoutMs)} waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** `waitFor` every 2 s, 90 s at most by default. */
export function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  return waitFor(what, timeoutMs, check, 2000);
}

/** The `docker` CLI on the host; its trimmed stdout, or an error with its stderr. */
export async function docker(...argv: string[]): Promise<string> {
  const result = await run("docker", argv);
  if (result.code !== 0) throw new Error(`docker ${argv.join(" ")}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

/** The container's health as Docker reports it (`healthy`, `starting` ...), or `unknown (why)`. */
export async function healthOf(container: string): Promise<string> {
  const result = await run("docker", ["inspect", "-f", "{{.State.Health.Status}}", container]);
  return result.code === 0 ? result.stdout.trim() : `unknown (${result.stderr.trim()})`;
}

/** Whether the image's healthcheck passes in the container now (`docker exec`, as the deploy polls it). */
export async function passesHealthcheck(container: string): Promise<boolean> {
  return (await run("docker", ["exec", container, "/usr/local/bin/healthcheck"])).code === 0;
}

/**
 * Waits until the container's healthcheck passes, polled every 0.25 s with `docker exec` as the
 * deploy does (components/readiness.ts): Docker's own status is refreshed only every 30 s.
 */
export async function waitHealthy(container: string, timeoutMs = 180_000): Promise<void> {
  await waitFor(
    `${container} to pass its healthcheck`,
    timeoutMs,
    async () => ((await passesHealthcheck(container)) ? true : undefined),
    250,
  );
}

/**
 * Deploys (or with `update`, updates) a stack file in a fresh process with the harness
 * (harness/deploy-cli.ts); progress goes to stderr.
 */
export async function deployInProcess(
  file: string,
  update = false,
): Promise<{ outputs: LabOutputs; changes: ResourceChange[] }> {
  const argv = ["--import", "tsx", path.join(root, "harness", "deploy-cli.ts")];
  const result = await run(process.execPath, [...argv, ...(update ? ["--update"] : []), file], {
    cwd: root,
    onStderr: (chunk) => process.stderr.write(chunk),
  });
  if (result.code !== 0) throw new Error(`deploy-cli ${update ? "--update " : ""}${file} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout) as { outputs: LabOutputs; changes: ResourceChange[] };
}

/** Names of the stack's Docker objects still present, by kind. */
export function leftovers(stack: string): Record<string, string[]> {
  const list = (args: string[]) =>
    execFileSync("docker", [...args, "--filter", `label=mail-lab.stack=${stack}`, "--format", "{{.Name}}"], {
      encoding: "utf8",
    })
      .split("\n")
      .filter(Boolean);
  return {
    containers: execFileSync(
      "docker",
      ["ps", "-a", "--filter", `label=mail-lab.stack=${stack}`, "--format", "{{.Names}}"],
      {
        encoding: "utf8",
      },
    )
      .split("\n")
      .filter(Boolean),
    networks: list(["network", "ls"]),
    volumes: list(["volume", "ls"]),
  };
}

/** Every message of a mailbox over POP3S (curl, TLS verified against the lab CA), joined. */
/** Every message of a POP3S mailbox, one string each (curl on the PC, certificate verified). */
export async function pop3sMessages(
  container: string,
  user: string,
  password: string,
  host: string,
): Promise<string[]> {
  const auth = `${user}:${password}`;
  const list = await execIn(container, ["curl", "-sS", "--ssl-reqd", "-u", auth, `pop3s://${host}/`]);
  if (list.code !== 0) throw new Error(`POP3S LIST of ${user}@${host} failed: ${list.stderr}`);
  const numbers = list.stdout
    .split("\n")
    .map((line) => line.split(" ")[0])
    .filter((n): n is string => n !== undefined && /^\d+$/.test(n));
  const messages = await Promise.all(
    numbers.map((n) => execIn(container, ["curl", "-sS", "--ssl-reqd", "-u", auth, `pop3s://${host}/${n}`])),
  );
  return messages.map((message) => message.stdout);
}

/** The whole POP3S mailbox as one text. */
export async function pop3sMailbox(container: string, user: string, password: string, host: string): Promise<string> {
  return (await pop3sMessages(container, user, password, host)).join("\n");
}

/**
 * A plain-text protocol dialogue by hand over bash's /dev/tcp from inside `container`: the
 * greeting, then each command with the reply lines it gets. A reply of several lines (SMTP's
 * `250-...`) is read up to its last line. Shows what a server answers where real clients give
 * up before asking (no AUTH offered, no TLS). Returns every reply line, CR removed.
 */
export async function tcpDialogue(
  container: string,
  host: string,
  port: number,
  commands: readonly string[],
): Promise<string[]> {
  const script = [
    `exec 3<>/dev/tcp/${host}/${port}`,
    // bash's `read` takes one line byte by byte, so no later reply is swallowed by buffering.
    "readline() { IFS= read -r -t 10 line <&3 || return 1; line=${line%$'\\r'}; printf '%s\\n' \"$line\"; }",
    // SMTP continues a reply with `NNN-`; POP3 and IMAP replies here are one line each.
    "reply() { while readline; do case $line in [0-9][0-9][0-9]-*) ;; *) break ;; esac; done; }",
    "reply",
    'for command in "$@"; do printf \'%s\\r\\n\' "$command" >&3; reply; done',
  ].join("\n");
  const result = await execIn(container, ["bash", "-c", script, "dialogue", ...commands]);
  return result.stdout.split("\n").filter((line) => line !== "");
}
