/**
 * The lab's round trip, run with the real clients inside the lab's client containers
 * (`docker exec`): DNS from every PC, one message each way between every pair of domains that
 * have a PC (swaks through the sender's own mail host, STARTTLS with certificate verification),
 * and each message read by its recipient over POP3S and over IMAP with STARTTLS (curl
 * `--ssl-reqd`, verified against the lab CA that every container trusts).
 *
 * Nothing here decides pass or fail: judge.ts does, from what the clients printed.
 */
import { randomBytes } from "node:crypto";
import {
  type CheckResult,
  firstLine,
  judgeDns,
  judgeMessage,
  judgeRelay,
  parseImapSearch,
  parsePop3List,
} from "./judge";
import { run, type RunResult } from "../docker/cli";
import { type CheckTargets, type ClientTarget, type RelayRoute, relayRoutes } from "./targets";

/** What a command in a container printed, and its exit code. */
export type ExecResult = RunResult;

/** Runs `argv` inside a container; `stdin` is written to it (then closed). Never through a shell. */
export type Exec = (
  container: string,
  argv: readonly string[],
  options?: { readonly stdin?: string; readonly timeoutMs?: number },
) => Promise<ExecResult>;

/** `docker exec [-i] <container> argv...`, killed after `timeoutMs` (default 60 s). */
export const dockerExec: Exec = (container, argv, options = {}) =>
  run("docker", ["exec", ...(options.stdin !== undefined ? ["-i"] : []), container, ...argv], {
    input: options.stdin ?? "",
    timeoutMs: options.timeoutMs ?? 60_000,
  });

export interface RunOptions {
  /** How long to wait for each message to arrive in its recipient's mailbox, in ms. Default 120 s. */
  readonly deliveryTimeoutMs?: number;
  /** Pause between mailbox polls, in ms. Default 2 s. */
  readonly pollMs?: number;
  /** How checks reach the containers. Default `docker exec`. */
  readonly exec?: Exec;
  /** Progress lines (one per finished check). Default none. */
  readonly progress?: (line: string) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `items.map(work)` with at most `limit` at a time, results in the items' order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A curl config line (curl(1), "-K, --config") that carries the login, so no password is in an argv. */
export function curlUserConfig(login: string, password: string): string {
  const quoted = `${login}:${password}`.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, "\\n");
  return `user = "${quoted}"\n`;
}

/** curl with TLS required and verified; the login comes from stdin (`-K -`). */
const CURL = ["curl", "-sS", "--ssl-reqd", "--connect-timeout", "5", "--max-time", "20", "-K", "-"];

export async function runChecks(targets: CheckTargets, options: RunOptions = {}): Promise<CheckResult[]> {
  const exec = options.exec ?? dockerExec;
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? 120_000;
  const pollMs = options.pollMs ?? 2000;
  const done = (result: CheckResult): CheckResult => {
    options.progress?.(`${result.result} ${result.check}`);
    return result;
  };

  // DNS: A and MX of every domain from every PC, answered by the lab's name server.
  const questions = targets.clients.flatMap((client) =>
    targets.domains.flatMap((domain) => [
      { client, type: "A" as const, name: domain.name, expected: domain.mailHost.address },
      { client, type: "MX" as const, name: domain.name, expected: `10 ${domain.mailHost.fqdn}.` },
    ]),
  );
  const dns = await mapLimited(questions, 6, async (question) => {
    const run = await exec(question.client.container, ["dig", "+time=3", "+tries=2", question.name, question.type]);
    return done(
      judgeDns(
        `dns ${question.client.key}: ${question.type} ${question.name}`,
        { ...question, nameServer: targets.nameServer.address },
        run,
      ),
    );
  });

  // Relay: one message per route, each with its own token.
  const routes = relayRoutes(targets);
  const sends = await Promise.all(
    routes.map(async (route) => {
      const token = `mail-lab-check-${randomBytes(6).toString("hex")}`;
      const submission = submissionOf(targets, route.sender);
      const run = await exec(
        route.sender.container,
        [
          "swaks",
          "--server",
          route.senderMailHost.fqdn,
          "--from",
          route.sender.email,
          // As the PC's own presets do: 25 where the access rules relay for it, else the
          // submission port with SMTP AUTH (after STARTTLS) as the PC's user.
          ...submission.args,
          "--to",
          route.recipient.email,
          // STARTTLS with the certificate verified; on an exercise lab only where Sendmail offers it.
          targets.smtpStarttls === "required" ? "--tls" : "--tls-optional-strict",
          "--tls-verify",
          // Each connect and SMTP step; swaks's default is 30 s.
          "--timeout",
          "20",
          "--header",
          `Subject: mail-lab check ${token}`,
          "--body",
          `mail-lab check ${token}: ${route.sender.email} -> ${route.recipient.email}`,
        ],
        { stdin: submission.stdin, timeoutMs: 60_000 },
      );
      const result = done(
        judgeRelay(
          `relay ${route.sender.email} -> ${route.recipient.email}`,
          { token, server: route.senderMailHost.fqdn, starttls: targets.smtpStarttls },
          run,
        ),
      );
      return { route, token, result };
    }),
  );

  // Retrieval: the recipient reads each message on its own PC, POP3S then IMAP+STARTTLS. One
  // mailbox is read by one session at a time; different mailboxes in parallel.
  const deadline = Date.now() + deliveryTimeoutMs;
  const byMailbox = new Map<string, typeof sends>();
  for (const send of sends) {
    const key = send.route.recipient.email;
    byMailbox.set(key, [...(byMailbox.get(key) ?? []), send]);
  }
  const retrievals = new Map<string, CheckResult[]>();
  await Promise.all(
    [...byMailbox.values()].map(async (mailboxSends) => {
      for (const send of mailboxSends) {
        const reader = new MailboxReader(exec, send.route, deadline, pollMs);
        const label = `${send.route.recipient.email} <- ${send.route.sender.email}`;
        if (send.result.result === "fail") {
          const why = `nothing to fetch: sending ${send.token} failed`;
          retrievals.set(send.token, [
            done({ check: `pop3s ${label}`, result: "fail", detail: why }),
            done({ check: `imap+starttls ${label}`, result: "fail", detail: why }),
          ]);
          continue;
        }
        const pop3 = done({ check: `pop3s ${label}`, ...(await reader.pop3s(send.token)) });
        const imap = done({ check: `imap+starttls ${label}`, ...(await reader.imapStarttls(send.token)) });
        retrievals.set(send.token, [pop3, imap]);
      }
    }),
  );

  return [...dns, ...sends.map((send) => send.result), ...sends.flatMap((send) => retrievals.get(send.token) ?? [])];
}

/** swaks options, and what to write to its standard input. */
export interface SwaksSubmission {
  readonly args: readonly string[];
  /** The answer to swaks' password prompt, which it reads from stdin: never an argument. */
  readonly stdin?: string;
}

/**
 * swaks options for how a PC submits mail. They are explicit rather than left to ~/.swaksrc, so
 * the check sends the way the plan says even if someone edited the presets in the container.
 * Without --auth-password swaks prompts for the password and reads it from stdin, as for a
 * student at the PC; an argument of `docker exec` would show in `ps` on the host and in the PC.
 */
export function submissionOf(targets: CheckTargets, sender: ClientTarget): SwaksSubmission {
  if (!sender.submission.authenticate) return { args: ["--port", "25", "--no-auth", "--no-auth-user"] };
  const user = targets.domains
    .find((domain) => domain.name === sender.domain)
    ?.users.find((candidate) => candidate.login === sender.login);
  if (!user) throw new Error(`no password for ${sender.email}, who submits with SMTP AUTH`);
  return { args: ["--port", "587", "--auth", "PLAIN", "--auth-user", user.login], stdin: `${user.password}\n` };
}

type Verdict = Pick<CheckResult, "result" | "detail">;

/** Polls one recipient's mailbox for one token until the deadline. */
class MailboxReader {
  private readonly host: string;
  private readonly login: string;
  private readonly expected: { relayedBy: string; receivedBy: string };

  constructor(
    private readonly exec: Exec,
    private readonly route: RelayRoute,
    private readonly deadline: number,
    private readonly pollMs: number,
  ) {
    this.host = route.recipientDomain.mailHost.fqdn;
    this.login = curlUserConfig(route.recipient.login, route.recipient.password);
    this.expected = { relayedBy: route.senderMailHost.fqdn, receivedBy: this.host };
  }

  private curl(args: readonly string[]): Promise<ExecResult> {
    return this.exec(this.route.reader.container, [...CURL, ...args], { stdin: this.login, timeoutMs: 30_000 });
  }

  /** Tries `attempt` until it gives a verdict or the deadline passes; `last` says what was seen. */
  private async poll(what: string, attempt: () => Promise<Verdict | string>): Promise<Verdict> {
    const started = Date.now();
    for (;;) {
      const outcome = await attempt();
      if (typeof outcome !== "string") return outcome;
      if (Date.now() >= this.deadline) {
        return {
          result: "fail",
          detail: `${what}: not found after ${Math.round((Date.now() - started) / 1000)}s; last: ${outcome}`,
        };
      }
      await sleep(this.pollMs);
    }
  }

  /** POP3 over implicit TLS (995): LIST, then RETR from the newest message back. */
  pop3s(token: string): Promise<Verdict> {
    const url = `pop3s://${this.host}/`;
    return this.poll(`${token} at ${url}`, async () => {
      const list = await this.curl([url]);
      if (list.code !== 0) return firstLine(list.stderr) ?? `curl exit ${list.code}`;
      const numbers = parsePop3List(list.stdout).reverse().slice(0, 50);
      for (const number of numbers) {
        const message = await this.curl([`${url}${number}`]);
        if (message.code !== 0) return firstLine(message.stderr) ?? `curl exit ${message.code}`;
        if (!message.stdout.includes(token)) continue;
        const verdict = judgeMessage(message.stdout, { token, ...this.expected });
        return {
          result: verdict.ok ? "pass" : "fail",
          detail: `${token} in ${url}${number}, ${verdict.why}`,
        };
      }
      return `${numbers.length} message(s), none with the token`;
    });
  }

  /** IMAP on 143 with STARTTLS required: SEARCH SUBJECT for the token, then FETCH it. */
  imapStarttls(token: string): Promise<Verdict> {
    const url = `imap://${this.host}/INBOX`;
    return this.poll(`${token} at ${url}`, async () => {
      const search = await this.curl([url, "-X", `SEARCH SUBJECT "${token}"`]);
      if (search.code !== 0) return firstLine(search.stderr) ?? `curl exit ${search.code}`;
      const [index] = parseImapSearch(search.stdout);
      if (index === undefined) return "SEARCH found nothing";
      const message = await this.curl([`${url};MAILINDEX=${index}`]);
      if (message.code !== 0) return firstLine(message.stderr) ?? `curl exit ${message.code}`;
      const verdict = judgeMessage(message.stdout, { token, ...this.expected });
      return {
        result: verdict.ok ? "pass" : "fail",
        detail: `${token} in ${url};MAILINDEX=${index} over STARTTLS, ${verdict.why}`,
      };
    });
  }
}
