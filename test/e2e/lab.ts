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
