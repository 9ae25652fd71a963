/**
 * Pure readers of what the lab's clients print (dig, swaks, curl), and the verdicts drawn from
 * it. The runner (run.ts) executes the clients; everything it decides is decided here, so the
 * decisions are unit-tested on real output.
 */

/** The outcome of one check. */
export interface CheckResult {
  /** What was checked, e.g. `dns lee-pc: MX naver.com`. */
  readonly check: string;
  readonly result: "pass" | "fail";
  /** What was sent and what came back, short. */
  readonly detail: string;
}

export interface DigAnswer {
  readonly name: string;
  readonly type: string;
  readonly data: string;
}

/** What a full `dig` output says: status, header flags, the server that answered, the answer section. */
export interface DigReply {
  readonly status: string | undefined;
  readonly flags: readonly string[];
  /** Address of the server that answered (from `;; SERVER: 10.0.8.53#53(...)`). */
  readonly server: string | undefined;
  readonly answers: readonly DigAnswer[];
  /** A line starting with `;;` that reports a failure (`;; no servers could be reached`), if any. */
  readonly error: string | undefined;
}

export function parseDig(output: string): DigReply {
  const lines = output.split("\n");
  const header = /status: ([A-Z]+)/.exec(output);
  const flags = /;; flags: ([a-z ]+);/.exec(output);
  const server = /^;; SERVER: ([^#\s]+)#/m.exec(output);
  const answers: DigAnswer[] = [];
  const start = lines.findIndex((line) => line.startsWith(";; ANSWER SECTION:"));
  if (start >= 0) {
    for (const line of lines.slice(start + 1)) {
      if (line.trim() === "") break;
      const fields = line.trim().split(/\s+/);
      // owner TTL class type data...
      if (fields.length >= 5) answers.push({ name: fields[0]!, type: fields[3]!, data: fields.slice(4).join(" ") });
    }
  }
  const error = lines.find((line) =>
    /^;; (no servers could be reached|connection timed out|communications error|.*refused)/.test(line),
  );
  return {
    status: header?.[1],
    flags: flags ? flags[1]!.trim().split(/\s+/) : [],
    server: server?.[1],
    answers,
    error: error?.replace(/^;;\s*/, ""),
  };
}

/**
 * Verdict on one DNS question: the lab's name server must answer it, authoritatively (`aa`),
 * with NOERROR and exactly the expected data. `expected` is `10.0.8.100` for A,
 * `10 mail.naver.com.` for MX.
 */
export function judgeDns(
  check: string,
  question: { name: string; type: "A" | "MX"; expected: string; nameServer: string },
  run: { code: number; stdout: string; stderr: string },
): CheckResult {
  const reply = parseDig(run.stdout);
  const data = reply.answers.filter((answer) => answer.type === question.type).map((answer) => answer.data);
  const got = data.length > 0 ? data.join(", ") : `no ${question.type} record`;
  const sent = `${question.type} ${question.name}`;
  const problems: string[] = [];
  if (run.code !== 0 || reply.status === undefined) {
    problems.push(reply.error ?? firstLine(run.stderr) ?? firstLine(run.stdout) ?? `dig exit ${run.code}`);
  } else {
    if (reply.status !== "NOERROR") problems.push(`status ${reply.status}`);
    if (reply.server !== question.nameServer) {
      problems.push(`answered by ${reply.server ?? "an unknown server"}, not the lab's ${question.nameServer}`);
    }
    if (!reply.flags.includes("aa")) problems.push("not authoritative (no aa flag)");
    if (data.length !== 1 || data[0] !== question.expected) problems.push(`got ${got}`);
  }
  if (problems.length === 0) {
    return { check, result: "pass", detail: `${sent} -> ${got} (aa, from ${reply.server})` };
  }
  return { check, result: "fail", detail: `${sent}: expected ${question.expected}; ${problems.join("; ")}` };
}

/** What a `swaks` run shows about one SMTP transaction. */
export interface SwaksTranscript {
  /** The server agreed to STARTTLS (`220 ... Ready to start TLS`) and swaks started TLS. */
  readonly tlsStarted: boolean;
  /** The final reply to the message's data (`250 2.0.0 <queue id> Message accepted for delivery`). */
  readonly accepted: string | undefined;
  /** The first error swaks reports: a `***` line or a 4xx/5xx reply. */
  readonly error: string | undefined;
}

export function parseSwaks(output: string): SwaksTranscript {
  const lines = output.split("\n").map((line) => line.trimEnd());
  const tlsStarted =
    lines.some((line) => /^<- +220 .*Ready to start TLS/.test(line)) &&
    lines.some((line) => /^=== TLS started/.test(line));
  // Replies after STARTTLS are marked `<~`; the data's reply is the 250 after `~> .`.
  const dot = lines.findIndex((line) => /^ ?[~-]> \.$/.test(line));
  const afterDot = dot >= 0 ? lines.slice(dot + 1).find((line) => /^<[~-]/.test(line)) : undefined;
  const accepted = afterDot && /^<[~-] +250 /.test(afterDot) ? afterDot.replace(/^<[~-] +/, "") : undefined;
  // swaks marks its own errors with `***` (one error may span lines) and error replies `<**`/`<~**`.
  const errorLines = lines
    .filter((line) => /^\*\*\*/.test(line) || /^<[~-]?\*+ +[45]\d\d /.test(line))
    .map((line) => line.replace(/^<?[~-]?\*+\s*/, "").trim())
    .filter(Boolean);
  return {
    tlsStarted,
    accepted,
    error: errorLines.length > 0 ? errorLines.join(" ") : undefined,
  };
}

/**
 * Verdict on sending one message: accepted by the sender's own mail host, over verified STARTTLS
 * (`starttls: "if-offered"`, an exercise lab: without it where the server offers none).
 */
export function judgeRelay(
  check: string,
  sent: { token: string; server: string; starttls?: "required" | "if-offered" },
  run: { code: number; stdout: string; stderr: string },
): CheckResult {
  const transcript = parseSwaks(`${run.stdout}\n${run.stderr}`);
  const what = `${sent.token} via ${sent.server}`;
  const tlsOk = transcript.tlsStarted || sent.starttls === "if-offered";
  if (run.code === 0 && tlsOk && transcript.accepted) {
    const reply = transcript.accepted.split(/\s+/).slice(0, 3).join(" ");
    const tls = transcript.tlsStarted ? "STARTTLS verified" : "no STARTTLS offered";
    return { check, result: "pass", detail: `${what}, ${tls}, accepted: ${reply}` };
  }
  const why =
    transcript.error ??
    (transcript.accepted && !transcript.tlsStarted ? "accepted without STARTTLS" : undefined) ??
    firstLine(run.stderr) ??
    `swaks exit ${run.code}`;
  return { check, result: "fail", detail: `${what}: ${why}` };
}

/** POP3 `LIST` output (`1 815`), as message numbers. */
export function parsePop3List(output: string): number[] {
  return output
    .split("\n")
    .map((line) => /^(\d+) \d+\s*$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => Number(match[1]));
}

/** IMAP `SEARCH` output (`* SEARCH 1 4`), as sequence numbers. */
export function parseImapSearch(output: string): number[] {
  const match = /^\* SEARCH((?: \d+)*)\s*$/m.exec(output);
  return match ? match[1]!.trim().split(/\s+/).filter(Boolean).map(Number) : [];
}

/**
 * Verdict on a fetched message: it carries the token and a `Received: from <sender's mail host>`
 * header written by the recipient's mail host, i.e. it came by MX relay and not some other way.
 */
export function judgeMessage(
  message: string,
  expected: { token: string; relayedBy: string; receivedBy: string },
): { ok: boolean; why: string } {
  if (!message.includes(expected.token)) return { ok: false, why: `no message with ${expected.token}` };
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const relayed = new RegExp(
    `^Received: from ${escape(expected.relayedBy)} [^\\n]*\\n\\s+by ${escape(expected.receivedBy)} `,
    "m",
  );
  if (!relayed.test(message.replace(/\r\n/g, "\n"))) {
    return {
      ok: false,
      why: `message with ${expected.token} has no "Received: from ${expected.relayedBy} ... by ${expected.receivedBy}"`,
    };
  }
  return { ok: true, why: `relayed by ${expected.relayedBy}` };
}

/** The first non-empty line of a text, trimmed, or undefined. */
export function firstLine(text: string): string | undefined {
  return (
    text
      .split("\n")
      .map((line) => line.trim())
      .find(Boolean) ?? undefined
  );
}
