/**
 * Helpers for end-to-end tests: deploy a stack with the harness in its own process (the harness
 * runs one program per process), run real clients inside the lab's containers, and check that
 * nothing of the stack is left afterwards.
 */
import { execFile, execFileSync } from "node:child_process";
import * as path from "node:path";
import type { MailLabOutputs } from "../../components/MailLab";

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

/** `npm run e2e:down`: removes everything labelled with the stack. */
export function destroy(stackFile: string): void {
  execFileSync(process.execPath, ["--import", "tsx", path.join(root, "scripts", "e2e-down.ts"), stackFile], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
  });
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command inside a container (`docker exec`), never through a host shell. */
export function execIn(container: string, command: readonly string[], timeoutMs = 60_000): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(
      "docker",
      ["exec", container, ...command],
      { encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Polls until `check` returns a value, or fails with the last result after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
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
export async function pop3sMailbox(container: string, user: string, password: string, host: string): Promise<string> {
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
  return messages.map((message) => message.stdout).join("\n");
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
