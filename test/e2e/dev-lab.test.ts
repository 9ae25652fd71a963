/**
 * The product's heart, end to end on the `dev` stack: kim@daum.net and lee@naver.com mail each
 * other through their mail hosts by MX relay, and read their mail over POP3 and IMAP with TLS.
 * Every probe is a real client inside the lab's own containers (dig, swaks, curl, openssl).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { deploy, destroy, eventually, execIn, type LabOutputs, leftovers, pop3sMailbox, root } from "./lab";

const stackFile = path.join(root, "stacks", "Pulumi.dev.yaml");
let lab: LabOutputs;
let leePc: string;
let kimPc: string;

describe("the dev lab, end to end", { timeout: 20 * 60_000 }, () => {
  before(() => {
    lab = deploy(stackFile);
    leePc = lab.clients["lee-pc"]!.container;
    kimPc = lab.clients["kim-pc"]!.container;
  });

  after(() => {
    destroy(stackFile);
  });

  it("exports the course topology", () => {
    assert.equal(lab.nameServer.address, "10.0.2.53");
    assert.equal(lab.mailHosts["naver.com"]!.address, "10.0.2.100");
    assert.equal(lab.mailHosts["daum.net"]!.address, "10.0.2.200");
    assert.match(lab.caCertificate, /^-----BEGIN CERTIFICATE-----/);
  });

  for (const client of ["lee-pc", "kim-pc"]) {
    for (const [domain, address] of [
      ["naver.com", "10.0.2.100"],
      ["daum.net", "10.0.2.200"],
    ] as const) {
      it(`dig on ${client}: A and MX of ${domain}, answered by the lab's name server`, async () => {
        const container = lab.clients[client]!.container;
        const a = await execIn(container, ["dig", `mail.${domain}`, "A"]);
        assert.equal(a.code, 0, a.stderr);
        assert.match(a.stdout, /;; SERVER: 10\.0\.2\.53#53/);
        assert.match(a.stdout, /flags: qr aa/, "an authoritative answer");
        assert.match(
          a.stdout,
          new RegExp(
            `^mail\\.${domain.replace(".", "\\.")}\\.\\s+\\d+\\s+IN\\s+A\\s+${address.replace(/\./g, "\\.")}$`,
            "m",
          ),
        );
        const mx = await execIn(container, ["dig", "+short", domain, "MX"]);
        assert.equal(mx.stdout.trim(), `10 mail.${domain}.`);
        const ptr = await execIn(container, ["dig", "+short", "-x", address]);
        assert.equal(ptr.stdout.trim(), `mail.${domain}.`);
      });
    }
  }

  it("kim -> lee through mail.daum.net, relayed by MX to mail.naver.com, read by lee over POP3S and IMAP+STARTTLS", async () => {
    const token = `token-${randomUUID()}`;
    // ~/.swaksrc presets the server (mail.daum.net), the sender and STARTTLS with verification.
    const sent = await execIn(kimPc, [
      "swaks",
      "--to",
      "lee@naver.com",
      "--header",
      `Subject: ${token}`,
      "--body",
      `hello lee ${token}`,
    ]);
    assert.equal(sent.code, 0, sent.stdout + sent.stderr);
    assert.match(sent.stdout, /<- {2}220 2\.0\.0 Ready to start TLS/, "STARTTLS was used");
    assert.match(sent.stdout, /STARTTLS=client|TLS started/i, "swaks negotiated TLS");
    assert.match(sent.stdout, /<~ {2}250 2\.0\.0 .* Message accepted for delivery/);

    const message = await eventually("kim's message in lee's mailbox", async () => {
      const text = await pop3sMailbox(leePc, "lee", "lee", "mail.naver.com");
      return text.includes(token) ? text : undefined;
    });
    assert.match(
      message,
      /Received: from mail\.daum\.net \(mail\.daum\.net \[10\.0\.2\.200\]\)/,
      "relayed by mail.daum.net",
    );
    assert.match(message, /by mail\.naver\.com/);

    const imap = await execIn(leePc, [
      "curl",
      "-sS",
      "--ssl-reqd",
      "-u",
      "lee:lee",
      "imap://mail.naver.com/INBOX",
      "-X",
      `SEARCH SUBJECT "${token}"`,
    ]);
    assert.equal(imap.code, 0, imap.stderr);
    assert.match(imap.stdout, /^\* SEARCH \d+/m, "IMAP with STARTTLS finds the message");
  });

  it("lee -> kim through mail.naver.com, read by kim over IMAPS and POP3+STARTTLS", async () => {
    const token = `token-${randomUUID()}`;
    const sent = await execIn(leePc, [
      "swaks",
      "--to",
      "kim@daum.net",
      "--header",
      `Subject: ${token}`,
      "--body",
      `hello kim ${token}`,
    ]);
    assert.equal(sent.code, 0, sent.stdout + sent.stderr);
    assert.match(sent.stdout, /<~ {2}250 2\.0\.0 .* Message accepted for delivery/);

    const uid = await eventually("lee's message in kim's mailbox (IMAPS)", async () => {
      const search = await execIn(kimPc, [
        "curl",
        "-sS",
        "-u",
        "kim:kim",
        "imaps://mail.daum.net/INBOX",
        "-X",
        `SEARCH SUBJECT "${token}"`,
      ]);
      const match = /^\* SEARCH (\d+)/m.exec(search.stdout);
      return match ? match[1] : undefined;
    });
    const fetched = await execIn(kimPc, [
      "curl",
      "-sS",
      "-u",
      "kim:kim",
      `imaps://mail.daum.net/INBOX;MAILINDEX=${uid}`,
    ]);
    assert.match(fetched.stdout, new RegExp(`hello kim ${token}`));
    assert.match(fetched.stdout, /Received: from mail\.naver\.com \(mail\.naver\.com \[10\.0\.2\.100\]\)/);

    const pop3 = await execIn(kimPc, ["curl", "-sS", "--ssl-reqd", "-u", "kim:kim", "pop3://mail.daum.net/"]);
    assert.equal(pop3.code, 0, `POP3 with STARTTLS: ${pop3.stderr}`);
    assert.match(pop3.stdout, /^\d+ \d+/m);
  });

  it("refuses a wrong password over TLS", async () => {
    const pop3s = await execIn(leePc, ["curl", "-sS", "--ssl-reqd", "-u", "lee:wrong", "pop3s://mail.naver.com/"]);
    assert.notEqual(pop3s.code, 0);
    assert.match(pop3s.stderr, /Access denied|login denied/i);
    const imaps = await execIn(kimPc, ["curl", "-sS", "-u", "kim:lee", "imaps://mail.daum.net/INBOX"]);
    assert.notEqual(imaps.code, 0);
    assert.match(imaps.stderr, /Login denied|Access denied/i);
  });

  it("refuses a plaintext login before TLS (POP3 110 and IMAP 143, from another container)", async () => {
    // Speak the protocols by hand over bash's /dev/tcp: clients like curl give up before even
    // trying, because Dovecot offers no mechanism without TLS; this shows the server's refusal.
    const dialogue = (port: number, commands: string[]) =>
      [
        `exec 3<>/dev/tcp/$HOST/${port}`,
        // bash's `read` takes one line byte by byte, so no later reply is swallowed by buffering.
        "readline() { IFS= read -r -t 5 line <&3; printf '%s\\n' \"$line\"; }",
        "readline",
        ...commands.map((command) => `printf '%s\\r\\n' '${command}' >&3; readline`),
      ].join("; ");
    const pop3 = await execIn(leePc, [
      "env",
      "HOST=mail.naver.com",
      "bash",
      "-c",
      dialogue(110, ["USER lee", "PASS lee", "QUIT"]),
    ]);
    assert.match(
      pop3.stdout,
      /^-ERR \[AUTH\] Plaintext authentication disallowed on non-secure \(SSL\/TLS\) connections\./m,
      pop3.stdout,
    );
    assert.doesNotMatch(pop3.stdout, /^\+OK Logged in/m);
    const imap = await execIn(kimPc, [
      "env",
      "HOST=mail.daum.net",
      "bash",
      "-c",
      dialogue(143, ["a LOGIN kim kim", "b LOGOUT"]),
    ]);
    assert.match(imap.stdout, /LOGINDISABLED/, "the greeting's capabilities forbid LOGIN before TLS");
    assert.match(imap.stdout, /^a NO \[PRIVACYREQUIRED\] Plaintext authentication disallowed/m, imap.stdout);
  });

  it("serves SMTP STARTTLS, IMAPS and POP3S with certificates that verify against the lab CA", async () => {
    for (const [args, host] of [
      [["-starttls", "smtp", "-connect", "mail.naver.com:25"], "mail.naver.com"],
      [["-connect", "mail.daum.net:993"], "mail.daum.net"],
      [["-connect", "mail.naver.com:995"], "mail.naver.com"],
      [["-starttls", "imap", "-connect", "mail.daum.net:143"], "mail.daum.net"],
    ] as const) {
      const result = await execIn(leePc, [
        "sh",
        "-c",
        `openssl s_client ${args.join(" ")} -verify_return_error -verify_hostname ${host} -CAfile /etc/ssl/certs/ca-certificates.crt </dev/null 2>&1`,
      ]);
      assert.match(result.stdout, /Verify return code: 0 \(ok\)/, `${args.join(" ")}: ${result.stdout.slice(-600)}`);
    }
  });

  it("refuses mail to an unknown user with a 5xx", async () => {
    const result = await execIn(kimPc, ["swaks", "--to", "no-such-user@naver.com", "--server", "mail.naver.com"]);
    assert.notEqual(result.code, 0);
    assert.match(result.stdout, /<~?\*+ +550 5\.1\.1 <no-such-user@naver\.com>\.\.\. User unknown/);
  });

  it("refuses a message over maxMessageSize (10MB) with 552", async () => {
    const made = await execIn(leePc, [
      "sh",
      "-c",
      "head -c 11000000 /dev/zero | tr '\\0' a | fold -w 76 > /tmp/big.txt && wc -c < /tmp/big.txt",
    ]);
    assert.ok(Number(made.stdout.trim()) > 10 * 1024 * 1024, made.stdout);
    const result = await execIn(
      leePc,
      ["swaks", "--to", "lee@naver.com", "--body", "/tmp/big.txt", "--suppress-data"],
      120_000,
    );
    assert.notEqual(result.code, 0);
    assert.match(result.stdout, /<~?\*+ +552 5\.2\.3 Message exceeds maximum fixed size \(10485760\)/);
  });
});

describe("after the dev lab", () => {
  it("no container, network or volume of the stack remains", () => {
    assert.deepEqual(leftovers("dev"), { containers: [], networks: [], volumes: [] });
  });
});
