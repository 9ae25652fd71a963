/**
 * Relay refusal and SMTP AUTH, end to end on the `campus` stack, and the name server's refusals.
 *
 * outsider-pc (172.30.5.99, choi@nate.com's PC) is in no relay rule of any mail host. From it:
 * every classic relay trick on port 25 is refused with a 5xx, while mail to a host's own user is
 * accepted; on the submission port 587 SMTP AUTH is offered only after STARTTLS, and with it choi
 * relays to the other lab domains. The name server refuses recursion and zone transfers.
 *
 * A stranger, a container on a Docker network of its own that only mail.naver.com joins, gets a
 * permanent answer to every probe: relay tricks, an outside or rejected sender domain, EXPN, VRFY,
 * VERB, ETRN, AUTH before TLS, plaintext POP3/IMAP logins, TLS 1.1. The lab is a closed world: its
 * name server serves a root zone of its own, so outside names are NXDOMAIN, and mail from a PC to
 * an outside domain bounces at once.
 *
 * Every probe is a real client inside the lab's containers (swaks, curl, dig, openssl, bash's
 * /dev/tcp). Nothing leaves the lab: the refused recipients (foreign.test, a reserved name that
 * the lab's root says does not exist) are probed with `--quit-after RCPT`, so no message is created
 * but the one bounce, and the test checks that every queue is empty afterwards.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { readStackFile } from "../../config/load";
import {
  deploy,
  destroy,
  eventually,
  execIn,
  type LabOutputs,
  leftovers,
  pop3sMailbox,
  root,
  tcpDialogue,
} from "./lab";

const stackFile = path.join(root, "stacks", "Pulumi.campus.yaml");
const startedAt = Date.now();

/** The password of a user as the stack file gives it (plain in this stack). */
function passwordOf(login: string): string {
  const { config } = readStackFile(stackFile);
  const domains = (config as { domains: { users?: { login: string; password: unknown }[] }[] }).domains;
  const user = domains.flatMap((domain) => domain.users ?? []).find((candidate) => candidate.login === login);
  assert.ok(user && typeof user.password === "string", `no plain password for ${login} in ${stackFile}`);
  return user.password;
}

let lab: LabOutputs;
/** choi@nate.com's PC, outside every relay rule. */
let outsider: string;

const FOREIGN = "someone@foreign.test";
const RELAY_DENIED = "Relaying denied. Proper authentication required.";

/** A regex for one line of swaks' transcript, taken literally. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * swaks on outsider-pc. Its ~/.swaksrc presets the server (mail.nate.com), the sender
 * (choi@nate.com), STARTTLS and certificate verification against the lab CA, and, since no
 * relay rule covers the PC, submission on 587 with AUTH as choi. A probe that does not
 * authenticate forgets that AUTH preset (swaks' `--no-` prefix) and talks to port 25 unless it
 * names a port; `args` override the rest.
 */
function swaks(args: readonly string[]) {
  const withoutAuth = args.includes("--auth") ? [] : ["--no-auth", "--no-auth-user"];
  const port = args.includes("--port") ? [] : ["--port", "25"];
  return execIn(outsider, ["swaks", ...withoutAuth, ...port, ...args], 90_000);
}

/** The EHLO reply lines (without the code) that came before STARTTLS and those that came inside TLS. */
function ehloKeywords(transcript: string): { plain: string[]; tls: string[] } {
  const keywords = (marker: string) =>
    transcript
      .split("\n")
      .filter((line) => line.startsWith(`${marker}  250-`) || line.startsWith(`${marker}  250 `))
      .map((line) => line.slice(`${marker}  250-`.length).trim());
  return { plain: keywords("<-"), tls: keywords("<~") };
}

/** Every message of a lab user's mailbox over POP3S, joined. */
function pop3sMailboxOf(client: string, login: string, host: string): Promise<string> {
  return pop3sMailbox(client, login, passwordOf(login), host);
}

/** The message with `token` in its subject from a mailbox over IMAPS, once it has arrived. */
async function imapsMessage(client: string, login: string, host: string, token: string): Promise<string> {
  const auth = `${login}:${passwordOf(login)}`;
  const index = await eventually(`"${token}" in ${login}'s mailbox on ${host} (IMAPS)`, async () => {
    const search = await execIn(client, [
      "curl",
      "-sS",
      "-u",
      auth,
      `imaps://${host}/INBOX`,
      "-X",
      `SEARCH SUBJECT "${token}"`,
    ]);
    return /^\* SEARCH (\d+)/m.exec(search.stdout)?.[1];
  });
  const fetched = await execIn(client, ["curl", "-sS", "-u", auth, `imaps://${host}/INBOX;MAILINDEX=${index}`]);
  assert.equal(fetched.code, 0, fetched.stderr);
  return fetched.stdout;
}

describe("relay refusal and SMTP AUTH on the campus lab", { timeout: 20 * 60_000 }, () => {
  before(() => {
    const deployStarted = Date.now();
    lab = deploy(stackFile);
    console.log(`campus deployed in ${((Date.now() - deployStarted) / 1000).toFixed(1)} s`);
    outsider = lab.clients["outsider-pc"]!.container;
  });

  after(() => {
    destroy(stackFile);
  });

  it("outsider-pc is the PC the relay rules leave out", () => {
    assert.equal(lab.clients["outsider-pc"]!.address, "172.30.5.99");
    assert.equal(lab.clients["outsider-pc"]!.email, "choi@nate.com");
    assert.equal(lab.mailHosts["naver.com"]!.fqdn, "mail.naver.com");
    assert.equal(lab.mailHosts["nate.com"]!.fqdn, "mail.nate.com");
  });

  describe("port 25 from outsider-pc to mail.naver.com: relaying is refused with 550", () => {
    // [what, sender (undefined: the preset choi@nate.com), recipient, the recipient as Sendmail echoes it]
    const attempts: [string, string | undefined, string, string][] = [
      ["a foreign recipient", undefined, FOREIGN, FOREIGN],
      [
        "the percent hack user%foreign.test@naver.com",
        undefined,
        "user%foreign.test@naver.com",
        "user%foreign.test@naver.com",
      ],
      ["a bang path foreign.test!user", undefined, "foreign.test!user", "foreign.test!user"],
      [
        'a quoted local part "user@foreign.test"@naver.com',
        undefined,
        '"user@foreign.test"@naver.com',
        '"user@foreign.test"@naver.com',
      ],
      ["the null sender <> to a foreign recipient", "<>", FOREIGN, FOREIGN],
      ["sender root@localhost to a foreign recipient", "root@localhost", FOREIGN, FOREIGN],
      ["the unqualified sender root to a foreign recipient", "root", FOREIGN, FOREIGN],
    ];
    for (const [what, sender, recipient, echoed] of attempts) {
      it(what, async () => {
        const result = await swaks([
          "--server",
          "mail.naver.com",
          "--port",
          "25",
          ...(sender === undefined ? [] : ["--from", sender]),
          "--to",
          recipient,
          // Never reach DATA: even a wrongly accepted recipient gets no message.
          "--quit-after",
          "RCPT",
        ]);
        const transcript = result.stdout + result.stderr;
        assert.notEqual(result.code, 0, transcript);
        const mailFrom = sender === undefined ? "choi@nate.com" : sender === "<>" ? "" : sender;
        assert.match(transcript, new RegExp(`^ ~> MAIL FROM:<${literal(mailFrom)}>$`, "m"), "swaks sent that sender");
        assert.match(transcript, new RegExp(`^ ~> RCPT TO:<${literal(recipient)}>$`, "m"), "swaks sent that recipient");
        assert.match(
          transcript,
          new RegExp(`^<~\\* +550 5\\.7\\.1 <${literal(echoed)}>\\.\\.\\. ${literal(RELAY_DENIED)}$`, "m"),
          transcript,
        );
      });
    }

    it("control: mail to a user of mail.naver.com (lee, and the alias jisoo) is accepted and delivered", async () => {
      const token = `local-${randomUUID()}`;
      const result = await swaks([
        "--server",
        "mail.naver.com",
        "--to",
        "lee@naver.com,jisoo@naver.com",
        "--header",
        `Subject: ${token}`,
        "--body",
        `to a local user ${token}`,
      ]);
      const transcript = result.stdout + result.stderr;
      assert.equal(result.code, 0, transcript);
      assert.match(transcript, /^<~ +250 2\.1\.5 <lee@naver\.com>\.\.\. Recipient ok$/m);
      assert.match(transcript, /^<~ +250 2\.1\.5 <jisoo@naver\.com>\.\.\. Recipient ok$/m);
      assert.match(transcript, /^<~ +250 2\.0\.0 \S+ Message accepted for delivery$/m);
      const mailbox = await eventually("the message in lee's mailbox", async () => {
        const text = await pop3sMailboxOf(lab.clients["lee-pc"]!.container, "lee", "mail.naver.com");
        return text.includes(token) ? text : undefined;
      });
      assert.match(mailbox, /Received: from outsider-pc\.nate\.com \(outsider-pc\.nate\.com \[172\.30\.5\.99\]\)/);
    });

    it("port 25 offers no SMTP AUTH, not even after STARTTLS: it relays by the access rules only", async () => {
      const result = await swaks(["--server", "mail.naver.com", "--port", "25", "--quit-after", "EHLO"]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const { plain, tls } = ehloKeywords(result.stdout);
      assert.ok(plain.includes("STARTTLS"), `EHLO before TLS: ${plain.join(" | ")}`);
      assert.ok(tls.length > 0, "swaks said EHLO again inside TLS");
      assert.ok(![...plain, ...tls].some((keyword) => keyword.startsWith("AUTH")), [...plain, ...tls].join(" | "));
    });
  });

  describe("submission on port 587 with SMTP AUTH, from outsider-pc", () => {
    it("EHLO before STARTTLS offers no AUTH; inside TLS it offers exactly PLAIN and LOGIN", async () => {
      const result = await swaks(["--server", "mail.nate.com", "--port", "587", "--quit-after", "EHLO"]);
      const transcript = result.stdout + result.stderr;
      assert.equal(result.code, 0, transcript);
      assert.match(transcript, /^<- +220 2\.0\.0 Ready to start TLS$/m);
      const { plain, tls } = ehloKeywords(transcript);
      assert.ok(plain.includes("STARTTLS"), `EHLO before TLS: ${plain.join(" | ")}`);
      assert.ok(!plain.some((keyword) => keyword.startsWith("AUTH")), `AUTH offered before TLS: ${plain.join(" | ")}`);
      const auth = tls.filter((keyword) => keyword.startsWith("AUTH "));
      assert.equal(auth.length, 1, `EHLO inside TLS: ${tls.join(" | ")}`);
      assert.deepEqual(auth[0]!.split(" ").slice(1).sort(), ["LOGIN", "PLAIN"]);
    });

    it("without AUTH, choi may not relay: 550 on port 25, 530 (authentication required) on 587", async () => {
      const on25 = await swaks(["--port", "25", "--to", "kim@daum.net", "--quit-after", "RCPT"]);
      assert.match(
        on25.stdout,
        new RegExp(`^<~\\* +550 5\\.7\\.1 <kim@daum\\.net>\\.\\.\\. ${literal(RELAY_DENIED)}$`, "m"),
      );
      const on587 = await swaks(["--port", "587", "--to", "kim@daum.net", "--quit-after", "RCPT"]);
      assert.notEqual(on587.code, 0);
      assert.match(on587.stdout, /^<~\* +530 5\.7\.0 Authentication required$/m, on587.stdout);
    });

    for (const [mechanism, login, recipient, recipientHost, reader, read] of [
      ["PLAIN", "kim", "kim@daum.net", "smtp.daum.net", "kim-pc", "IMAPS"],
      ["LOGIN", "lee", "lee@naver.com", "mail.naver.com", "lee-pc", "POP3S"],
    ] as const) {
      it(`AUTH ${mechanism} over STARTTLS on 587 relays choi's mail to ${recipient}, read over ${read}`, async () => {
        const token = `auth-${mechanism.toLowerCase()}-${randomUUID()}`;
        const result = await swaks([
          "--server",
          "mail.nate.com",
          "--port",
          "587",
          "--tls",
          "--tls-verify",
          "--auth",
          mechanism,
          "--auth-user",
          "choi",
          "--auth-password",
          passwordOf("choi"),
          "--to",
          recipient,
          "--header",
          `Subject: ${token}`,
          "--body",
          `relayed after AUTH ${mechanism} ${token}`,
        ]);
        const transcript = result.stdout + result.stderr;
        assert.equal(result.code, 0, transcript);
        assert.match(transcript, new RegExp(`^ ~> AUTH ${mechanism}`, "m"), "AUTH went inside TLS");
        assert.match(transcript, /^<~ +235 2\.0\.0 OK Authenticated$/m);
        assert.match(transcript, new RegExp(`^<~ +250 2\\.1\\.5 <${literal(recipient)}>\\.\\.\\. Recipient ok$`, "m"));
        assert.match(transcript, /^<~ +250 2\.0\.0 \S+ Message accepted for delivery$/m);

        const readerPc = lab.clients[reader]!.container;
        const message =
          read === "IMAPS"
            ? await imapsMessage(readerPc, login, recipientHost, token)
            : await eventually(`the message in ${login}'s mailbox (POP3S)`, async () => {
                const text = await pop3sMailboxOf(readerPc, login, recipientHost);
                return text.includes(token) ? text : undefined;
              });
        assert.match(message, new RegExp(`relayed after AUTH ${mechanism} ${token}`));
        // mail.nate.com took it from outsider-pc as an authenticated submission, then relayed it.
        assert.match(
          message,
          /Received: from outsider-pc\.nate\.com \(outsider-pc\.nate\.com \[172\.30\.5\.99\]\)\s+\(authenticated bits=0\)\s+by mail\.nate\.com \S+ with ESMTPSA/,
          message.slice(0, 1500),
        );
        assert.match(
          message,
          new RegExp(
            `Received: from mail\\.nate\\.com \\(mail\\.nate\\.com \\[172\\.30\\.5\\.120\\]\\)\\s+by ${literal(recipientHost)}`,
          ),
        );
      });
    }

    it("outsider-pc's own presets (~/.swaksrc) submit on 587 with AUTH: only the password is typed", async () => {
      const token = `preset-${randomUUID()}`;
      // No --server, --port or --auth here: the rendered ~/.swaksrc supplies them.
      const result = await execIn(outsider, [
        "swaks",
        "--auth-password",
        passwordOf("choi"),
        "--to",
        "kim@daum.net",
        "--header",
        `Subject: ${token}`,
      ]);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /^=== Connected to mail\.nate\.com\.$/m);
      assert.match(result.stdout, /^<~ +235 2\.0\.0 OK Authenticated$/m);
      const message = await imapsMessage(lab.clients["kim-pc"]!.container, "kim", "smtp.daum.net", token);
      assert.match(message, /with ESMTPSA/);
    });

    it("a wrong password is refused with 535, with PLAIN and with LOGIN", async () => {
      for (const mechanism of ["PLAIN", "LOGIN"]) {
        const result = await swaks([
          "--server",
          "mail.nate.com",
          "--port",
          "587",
          "--auth",
          mechanism,
          "--auth-user",
          "choi",
          "--auth-password",
          `not-${passwordOf("choi")}`,
          "--to",
          "kim@daum.net",
        ]);
        assert.notEqual(result.code, 0);
        assert.match(result.stdout, /^<~\* +535 5\.7\.0 authentication failed$/m, result.stdout);
        assert.doesNotMatch(result.stdout, /^<~ +235 /m);
      }
    });

    it("AUTH without TLS is refused: swaks finds none offered, and the server answers 503, then 530 for MAIL", async () => {
      const client = await swaks([
        "--no-tls",
        "--server",
        "mail.nate.com",
        "--port",
        "587",
        "--auth",
        "PLAIN",
        "--auth-user",
        "choi",
        "--auth-password",
        passwordOf("choi"),
        "--to",
        "kim@daum.net",
      ]);
      assert.notEqual(client.code, 0);
      assert.doesNotMatch(client.stdout, /^ -> STARTTLS$|^<~/m, "swaks must not have used TLS");
      assert.match(client.stdout + client.stderr, /^\*\*\* Host did not advertise authentication$/m);

      // The server's side, by hand over bash's /dev/tcp: AUTH PLAIN with the right password,
      // sent in the clear, is refused, and so is MAIL without authentication.
      const credentials = Buffer.from(`\0choi\0${passwordOf("choi")}`).toString("base64");
      const dialogue = [
        "exec 3<>/dev/tcp/mail.nate.com/587",
        // One line at a time (bash reads byte by byte), so no later reply is swallowed.
        "readline() { IFS= read -r -t 10 line <&3; printf '%s\\n' \"${line%$'\\r'}\"; }",
        // The greeting, then EHLO's multi-line reply up to its last line `250 <text>`.
        "readline",
        "printf 'EHLO outsider-pc.nate.com\\r\\n' >&3",
        "while readline; do case $line in '250 '*) break ;; esac; done",
        "printf 'AUTH PLAIN %s\\r\\n' \"$CREDENTIALS\" >&3; readline",
        "printf 'MAIL FROM:<choi@nate.com>\\r\\n' >&3; readline",
        "printf 'QUIT\\r\\n' >&3; readline",
      ].join("\n");
      const server = await execIn(outsider, ["env", `CREDENTIALS=${credentials}`, "bash", "-c", dialogue]);
      const lines = server.stdout.split("\n");
      assert.ok(lines.includes("250-STARTTLS"), server.stdout);
      assert.ok(!lines.some((line) => /^250[- ]AUTH/.test(line)), `AUTH offered in the clear:\n${server.stdout}`);
      assert.ok(lines.includes("503 5.3.3 AUTH not available"), server.stdout);
      assert.ok(lines.includes("530 5.7.0 Authentication required"), server.stdout);
      assert.ok(!lines.some((line) => line.startsWith("235")), server.stdout);
    });
  });

  describe("the name server refuses what an authoritative-only server must", () => {
    it("an outside name (example.org) is NXDOMAIN with authority from the lab's root, and recursion is off", async () => {
      const ns = lab.nameServer.address;
      const result = await execIn(outsider, ["dig", `@${ns}`, "example.org", "A"]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`^;; SERVER: ${literal(ns)}#53`, "m"));
      assert.match(result.stdout, /^;; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN,/m, result.stdout);
      assert.match(result.stdout, /^;; flags: qr aa rd;/m, "aa: authoritative; no `ra`: recursion is not available");
      assert.match(result.stdout, /ANSWER: 0,/);
      // The authority section holds the root's SOA, which says how long the answer may be cached.
      assert.match(result.stdout, /^\.\s+\d+\s+IN\s+SOA\s+ns\.naver\.com\. root\.naver\.com\./m, result.stdout);
      // A reverse name outside the lab subnet is NXDOMAIN too: a stranger's PTR lookup is final.
      const reverse = await execIn(outsider, ["dig", `@${ns}`, "-x", "10.0.12.66"]);
      assert.match(reverse.stdout, /status: NXDOMAIN,/, reverse.stdout);
      // Control: the same server answers for its own zone.
      const own = await execIn(outsider, ["dig", `@${ns}`, "mail.naver.com", "A", "+short"]);
      assert.equal(own.stdout.trim(), lab.mailHosts["naver.com"]!.address);
    });

    it("a zone transfer (AXFR naver.com) fails", async () => {
      const ns = lab.nameServer.address;
      const result = await execIn(outsider, ["dig", "axfr", "naver.com", `@${ns}`]);
      assert.match(result.stdout, /^; Transfer failed\.$/m, result.stdout);
      assert.doesNotMatch(result.stdout, /\sIN\s+SOA\s/, "no record of the zone came back");
    });
  });

  describe("a stranger on a network the lab does not know, at mail.naver.com: every answer is permanent", () => {
    // A container on a Docker network of its own (made here, removed after), joined only by
    // mail.naver.com: an outside client the lab's DNS knows nothing about. Its address has no PTR
    // in the lab, and the lab's root zone answers NXDOMAIN for it, so Sendmail's verdicts are
    // final (5xx), not "try again later" (4xx) as with a name server that answers REFUSED.
    const STRANGERS_NET = "mail-lab-campus-strangers";
    const STRANGER = "mail-lab-campus-stranger";
    const SUBNET = "10.0.12.0/24";
    const STRANGER_ADDRESS = "10.0.12.66";
    const MAIL_HOST_ADDRESS = "10.0.12.100";
    /** Every reply of the probes below, for the report. */
    const replies: string[] = [];
    const dockerCli = (...argv: string[]) => execFileSync("docker", argv, { encoding: "utf8" }).trim();
    const removeStrangers = () => {
      for (const argv of [
        ["rm", "-f", STRANGER],
        ["network", "disconnect", "-f", STRANGERS_NET, lab.mailHosts["naver.com"]!.container],
        ["network", "rm", STRANGERS_NET],
      ]) {
        try {
          execFileSync("docker", argv, { stdio: "ignore" });
        } catch {
          // Not there (a failed set-up): nothing to remove.
        }
      }
    };

    before(() => {
      removeStrangers();
      const labels = ["--label", "mail-lab.project=mail-lab", "--label", "mail-lab.stack=campus"];
      dockerCli("network", "create", ...labels, "--subnet", SUBNET, STRANGERS_NET);
      dockerCli("network", "connect", "--ip", MAIL_HOST_ADDRESS, STRANGERS_NET, lab.mailHosts["naver.com"]!.container);
      // The PCs' image for its clients (swaks, curl, openssl), without the lab's files or resolver:
      // names resolve nowhere (127.0.0.1 has no DNS), so the stranger talks to addresses only.
      const image = dockerCli("inspect", "-f", "{{.Image}}", outsider);
      dockerCli(
        "run",
        "-d",
        "--name",
        STRANGER,
        ...labels,
        "--network",
        STRANGERS_NET,
        "--ip",
        STRANGER_ADDRESS,
        "--dns",
        "127.0.0.1",
        "--entrypoint",
        "sleep",
        image,
        "infinity",
      );
    });

    after(() => {
      removeStrangers();
      console.log(`[strangers] replies:\n${replies.join("\n")}`);
    });

    /** swaks from the stranger to mail.naver.com on port 25, never reaching DATA. */
    async function probe(from: string, to: string): Promise<string> {
      const result = await execIn(
        STRANGER,
        [
          "swaks",
          "--server",
          MAIL_HOST_ADDRESS,
          "--port",
          "25",
          "--helo",
          "stranger.example",
          "--from",
          from,
          "--to",
          to,
          "--quit-after",
          "RCPT",
          "--timeout",
          "20",
        ],
        90_000,
      );
      const transcript = result.stdout + result.stderr;
      assert.notEqual(result.code, 0, `a refusal was expected:\n${transcript}`);
      const refusal = transcript.split("\n").find((line) => /^<[-~*]\* +\d{3} /.test(line));
      assert.ok(refusal, transcript);
      replies.push(`MAIL FROM:<${from}> RCPT TO:<${to}>: ${refusal.replace(/^<[-~*]\* +/, "")}`);
      return refusal.replace(/^<[-~*]\* +/, "");
    }

    const relayTricks: [string, string, string][] = [
      ["a foreign recipient", "choi@nate.com", FOREIGN],
      ["the percent hack", "choi@nate.com", "user%foreign.test@naver.com"],
      ["a bang path", "choi@nate.com", "foreign.test!user"],
      ["a quoted local part", "choi@nate.com", '"user@foreign.test"@naver.com'],
      ["the null sender", "<>", FOREIGN],
      ["sender root@localhost", "root@localhost", FOREIGN],
      ["the unqualified sender root", "root", FOREIGN],
    ];
    for (const [what, from, to] of relayTricks) {
      it(`relaying is refused with 550, not 450: ${what}`, async () => {
        const reply = await probe(from, to);
        assert.match(reply, /^550 5\.7\.1 .*Relaying denied/, reply);
      });
    }

    it("a sender in a domain outside the lab is refused at once: 553, the domain does not exist", async () => {
      const reply = await probe("someone@junk.example", "lee@naver.com");
      assert.match(reply, /^553 5\.1\.8 .*Domain of sender address someone@junk\.example does not exist/, reply);
    });

    it("the access map's REJECT of an outside domain applies (From:@spam.test): 550", async () => {
      const reply = await probe("x@spam.test", "lee@naver.com");
      // delay_checks: the sender is judged at RCPT, so Sendmail names the recipient in the reply.
      assert.match(reply, /^550 5\.7\.1 <lee@naver\.com>\.\.\. Access denied$/, reply);
    });

    it("port 25 offers no EXPN, VERB or ETRN, and answers each command with a refusal", async () => {
      const lines = await tcpDialogue(STRANGER, MAIL_HOST_ADDRESS, 25, [
        "EHLO stranger.example",
        "EXPN postmaster",
        "VRFY lee",
        "VERB",
        "ETRN naver.com",
        "QUIT",
      ]);
      const ehlo = lines.filter((line) => /^250[- ]/.test(line)).map((line) => line.slice(4).split(" ")[0]);
      for (const keyword of ["EXPN", "VERB", "ETRN"]) assert.ok(!ehlo.includes(keyword), `EHLO offers ${keyword}`);
      const [expn, vrfy, verb, etrn] = lines.slice(-5, -1);
      replies.push(...[`EXPN: ${expn}`, `VRFY: ${vrfy}`, `VERB: ${verb}`, `ETRN: ${etrn}`]);
      assert.match(expn!, /^502 5\.7\.0 Sorry, we do not allow this operation/, lines.join("\n"));
      assert.match(vrfy!, /^252 2\.5\.2 Cannot VRFY user/, lines.join("\n"));
      assert.match(verb!, /^502 5\.7\.0 Verbose unavailable/, lines.join("\n"));
      assert.match(etrn!, /^502 5\.7\.0 Sorry, we do not allow this operation/, lines.join("\n"));
    });

    it("AUTH before STARTTLS on 587 is refused (503), and MAIL without it too (530)", async () => {
      const credentials = Buffer.from("\0lee\0not-sent-in-the-clear").toString("base64");
      const lines = await tcpDialogue(STRANGER, MAIL_HOST_ADDRESS, 587, [
        "EHLO stranger.example",
        `AUTH PLAIN ${credentials}`,
        "MAIL FROM:<lee@naver.com>",
        "QUIT",
      ]);
      assert.ok(!lines.some((line) => /^250[- ]AUTH/.test(line)), `AUTH offered in the clear:\n${lines.join("\n")}`);
      const [auth, mail] = lines.slice(-3, -1);
      replies.push(`587 AUTH before TLS: ${auth}`, `587 MAIL without AUTH: ${mail}`);
      assert.equal(auth, "503 5.3.3 AUTH not available");
      assert.equal(mail, "530 5.7.0 Authentication required");
    });

    it("a plaintext login to POP3 (110) and IMAP (143) is refused", async () => {
      const pop3 = await tcpDialogue(STRANGER, MAIL_HOST_ADDRESS, 110, ["USER lee", "PASS lee", "QUIT"]);
      const imap = await tcpDialogue(STRANGER, MAIL_HOST_ADDRESS, 143, ["a LOGIN lee lee-campus", "b LOGOUT"]);
      const imapRefusal = imap.find((line) => line.startsWith("a "));
      replies.push(`POP3 USER/PASS: ${pop3.slice(1, 3).join(" / ")}`, `IMAP LOGIN: ${imapRefusal}`);
      assert.ok(
        pop3.some((line) => /^-ERR \[AUTH\] Plaintext authentication disallowed/.test(line)),
        pop3.join("\n"),
      );
      assert.ok(!pop3.some((line) => /^\+OK Logged in/.test(line)), pop3.join("\n"));
      assert.match(imapRefusal ?? "", /^a NO \[PRIVACYREQUIRED\] Plaintext authentication disallowed/, imap.join("\n"));
    });

    it("TLS 1.1 is refused on SMTP, IMAPS and POP3S; TLS 1.2 is accepted", async () => {
      for (const [port, starttls] of [
        [25, ["-starttls", "smtp"]],
        [993, []],
        [995, []],
      ] as const) {
        const handshake = (version: string, cipher: string[]) =>
          execIn(
            STRANGER,
            ["openssl", "s_client", "-connect", `${MAIL_HOST_ADDRESS}:${port}`, ...starttls, version, ...cipher],
            30_000,
          );
        // The client's own OpenSSL refuses TLS 1.1 at its default security level; level 0 lets it ask.
        const old = await handshake("-tls1_1", ["-cipher", "DEFAULT:@SECLEVEL=0"]);
        const current = await handshake("-tls1_2", []);
        replies.push(
          `port ${port}: TLS 1.1 exit ${old.code}, TLS 1.2 ${/Protocol *: *TLSv1\.2/.exec(current.stdout)?.[0]}`,
        );
        assert.notEqual(old.code, 0, `port ${port} accepted TLS 1.1:\n${old.stdout}`);
        // s_client names the version it asked for even when the handshake failed; no cipher was agreed.
        assert.match(old.stdout, /Cipher is \(NONE\)/, old.stdout);
        assert.match(current.stdout, /Protocol *: *TLSv1\.2/, `port ${port}: ${current.stderr}`);
      }
    });
  });

  it("mail from a PC to a domain outside the lab bounces at once, with a DSN that says why", async () => {
    // lee-pc is in mail.naver.com's relay rules. foreign.test is NXDOMAIN in the closed world, so
    // the message is returned on the first delivery attempt, not after the queue's lifetime.
    const token = `outside-${randomUUID()}`;
    const leePc = lab.clients["lee-pc"]!.container;
    const sent = await execIn(
      leePc,
      ["swaks", "--to", FOREIGN, "--header", `Subject: ${token}`, "--body", `to the outside ${token}`],
      90_000,
    );
    const transcript = sent.stdout + sent.stderr;
    const started = Date.now();
    if (sent.code === 0) {
      const mailbox = await eventually("the bounce in lee's mailbox", async () => {
        const text = await pop3sMailboxOf(leePc, "lee", "mail.naver.com");
        return text.includes(token) && /MAILER-DAEMON/.test(text) ? text : undefined;
      });
      const bounce = mailbox.slice(mailbox.lastIndexOf("Return-Path: <MAILER-DAEMON>"));
      console.log(`[strangers] bounce for ${FOREIGN} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      assert.match(bounce, /^Subject: Returned mail: see transcript for details/m, bounce);
      assert.match(bounce, /Host unknown/, bounce);
      assert.match(bounce, /Status: 5\.1\.2/, bounce);
    } else {
      // Refused at RCPT already: a permanent answer too.
      assert.match(transcript, /^<~\* +55\d 5\.1\.2 .*Host unknown/m, transcript);
    }
  });

  it("no mail host has anything queued: nothing refused was kept to be sent on", async () => {
    for (const { container, fqdn } of Object.values(lab.mailHosts)) {
      const queue = await eventually(`an empty queue on ${fqdn}`, async () => {
        const result = await execIn(container, ["mailq"]);
        return /^\/var\/spool\/mqueue is empty$/m.test(result.stdout) ? result.stdout : undefined;
      });
      assert.match(queue, /^\/var\/spool\/mqueue is empty$/m);
    }
  });
});

describe("after the campus lab", () => {
  it("no container, network or volume of the stack remains", () => {
    assert.deepEqual(leftovers("campus"), { containers: [], networks: [], volumes: [] });
    console.log(`relay-auth e2e took ${((Date.now() - startedAt) / 1000).toFixed(1)} s in all`);
  });
});
