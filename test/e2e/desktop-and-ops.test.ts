/**
 * Desktop clients and safe operations, end to end on the `desk` stack (test/e2e/stacks/Pulumi.desk.yaml:
 * the dev topology on 10.0.7.0/24, both mail hosts published on 127.0.0.1):
 *
 * 1. a Docker network overlapping the lab's subnet stops the deploy before anything is created,
 *    with a message naming `mail-lab:network.subnet` and that network;
 * 2. desktop clients on the Docker host reach the published ports over loopback only, with TLS
 *    verified against the lab's CA (openssl s_client, curl, swaks run on this host);
 * 3. destroying the stack leaves no container, network or volume of it, and only the lab's shared
 *    images (named by content, labelled without any stack: other stacks may run them;
 *    `npm run images:prune` removes them, test/e2e/shared-images.test.ts).
 *
 * Traffic goes only to 127.0.0.1 (Docker's port forwarding into the lab's containers).
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { run as runProgram, type RunResult } from "../../docker/cli";
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { deploy, destroy, eventually, type LabOutputs, leftovers, root } from "./lab";

const stack = "desk";
const stackFile = path.join(root, "test", "e2e", "stacks", `Pulumi.${stack}.yaml`);
/** Host ports of test/e2e/stacks/Pulumi.desk.yaml, per mail host container. */
const PUBLISHED: Record<string, Record<string, number>> = {
  "mail-lab-desk-mail-naver-com": { "25/tcp": 12525, "587/tcp": 12587, "993/tcp": 12993, "995/tcp": 12995 },
  "mail-lab-desk-mail-daum-net": { "25/tcp": 13525, "587/tcp": 13587, "993/tcp": 13993, "995/tcp": 13995 },
};
const NAVER = { fqdn: "mail.naver.com", smtp: 12525, submission: 12587, imaps: 12993, pop3s: 12995 };
const DAUM = { fqdn: "mail.daum.net", pop3s: 13995 };

/** Runs a client on this host (no shell), with stdin closed so that s_client ends after the handshake. */
const run = (command: string, args: readonly string[], timeoutMs = 60_000): Promise<RunResult> =>
  runProgram(command, args, { timeoutMs });

/** Images labelled with the stack (`docker images` has no `{{.Name}}`, hence its own listing): none, now that images are shared. */
function stackImages(): string[] {
  return execFileSync(
    "docker",
    ["images", "--filter", `label=mail-lab.stack=${stack}`, "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"],
    { encoding: "utf8" },
  )
    .split("\n")
    .filter(Boolean);
}

function inspect(container: string): {
  HostConfig: { PortBindings: Record<string, { HostIp: string; HostPort: string }[]> | null };
  NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> | null };
} {
  return JSON.parse(execFileSync("docker", ["inspect", "--type", "container", container], { encoding: "utf8" }))[0];
}

/** Message numbers of a POP3 mailbox over the published POP3S port, then the messages' text. */
async function pop3sFromHost(host: { fqdn: string; pop3s: number }, user: string, caFile: string): Promise<string> {
  const url = `pop3s://${host.fqdn}:${host.pop3s}/`;
  const common = ["-sS", "--ssl-reqd", "--cacert", caFile, "--resolve", `${host.fqdn}:${host.pop3s}:127.0.0.1`];
  const list = await run("curl", [...common, "-u", `${user}:${user}`, url]);
  assert.equal(list.code, 0, `POP3S LIST on 127.0.0.1:${host.pop3s} failed: ${list.stderr}`);
  const numbers = list.stdout
    .split("\n")
    .map((line) => line.split(" ")[0])
    .filter((n): n is string => n !== undefined && /^\d+$/.test(n));
  const messages = await Promise.all(
    numbers.map((n) => run("curl", [...common, "-u", `${user}:${user}`, `${url}${n}`])),
  );
  return messages.map((message) => message.stdout).join("\n");
}

describe(
  "a Docker network in the lab's subnet stops the deploy before anything is created",
  { timeout: 10 * 60_000 },
  () => {
    const probeNetwork = "desk-subnet-probe";
    const probeLabel = "mail-lab.test=desk-subnet-probe";
    const removeProbe = () => {
      const ids = execFileSync("docker", ["network", "ls", "-q", "--filter", `label=${probeLabel}`], {
        encoding: "utf8",
      })
        .split("\n")
        .filter(Boolean);
      if (ids.length > 0) execFileSync("docker", ["network", "rm", ...ids], { stdio: "ignore" });
    };

    before(() => {
      destroy(stackFile); // a crashed run's lab network would itself hold 10.0.7.0/24
      removeProbe();
      execFileSync("docker", ["network", "create", "--subnet", "10.0.7.128/25", "--label", probeLabel, probeNetwork], {
        stdio: "ignore",
      });
    });

    after(() => {
      removeProbe();
      destroy(stackFile);
    });

    it("fails naming mail-lab:network.subnet and the other network, and creates no object of the stack", () => {
      const since = (Date.now() / 1000).toFixed(3);
      const up = spawnSync(process.execPath, ["--import", "tsx", path.join(root, "scripts", "e2e-up.ts"), stackFile], {
        cwd: root,
        encoding: "utf8",
        timeout: 5 * 60_000,
      });
      const until = (Date.now() / 1000 + 1).toFixed(3);
      assert.equal(up.status, 1, `e2e-up should fail; stdout: ${up.stdout}\nstderr: ${up.stderr}`);
      assert.equal(up.stdout, "", "no outputs");
      assert.match(
        up.stderr,
        /mail-lab:network\.subnet "10\.0\.7\.0\/24" overlaps Docker network "desk-subnet-probe" \(10\.0\.7\.128\/25\)/,
      );

      // Not only removed again by the harness's teardown: never created. dockerd's event log shows
      // every create, build and tag, whoever removed the object afterwards.
      const events = execFileSync("docker", ["events", "--since", since, "--until", until, "--format", "{{json .}}"], {
        encoding: "utf8",
      })
        .split("\n")
        .filter(Boolean)
        .map(
          (line) =>
            JSON.parse(line) as {
              Type: string;
              Action: string;
              Actor: { ID: string; Attributes: Record<string, string> };
            },
        )
        .filter(
          (event) =>
            [event.Actor.ID, event.Actor.Attributes.name ?? "", event.Actor.Attributes["mail-lab.stack"] ?? ""].some(
              (name) => name.startsWith(`mail-lab-${stack}-`) || name === stack,
            ) ||
            // The lab's images are named by content, not by stack: a build tags one of them.
            (event.Type === "image" && event.Actor.Attributes["mail-lab.content-hash"] !== undefined),
        )
        .map((event) => `${event.Type} ${event.Action} ${event.Actor.Attributes.name ?? event.Actor.ID}`);
      assert.deepEqual(events, [], "Docker events of the stack during the failed deploy");
      assert.deepEqual(leftovers(stack), { containers: [], networks: [], volumes: [] });
      assert.deepEqual(stackImages(), []);
    });
  },
);

describe("desktop mail clients on the Docker host, then destroy", { timeout: 20 * 60_000 }, () => {
  let lab: LabOutputs;
  let tempDir: string;
  let caFile: string;

  before(() => {
    lab = deploy(stackFile);
    // What a user does with `pulumi stack output caCertificate > mail-lab-ca.pem`.
    tempDir = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-desk-"));
    caFile = path.join(tempDir, "mail-lab-ca.pem");
    fs.writeFileSync(caFile, lab.caCertificate);
  });

  after(() => {
    destroy(stackFile);
    if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
  });

  it("publishes each mail host's SMTP, submission, IMAPS and POP3S on 127.0.0.1 only, and nothing else", () => {
    for (const [container, ports] of Object.entries(PUBLISHED)) {
      const expected = Object.fromEntries(
        Object.entries(ports).map(([port, hostPort]) => [port, [{ HostIp: "127.0.0.1", HostPort: String(hostPort) }]]),
      );
      const details = inspect(container);
      assert.deepEqual(details.HostConfig.PortBindings, expected, `${container}: bindings asked of dockerd`);
      const bound = Object.fromEntries(
        Object.entries(details.NetworkSettings.Ports ?? {}).filter(([, bindings]) => bindings !== null),
      );
      assert.deepEqual(bound, expected, `${container}: ports dockerd bound`);
      const lines = execFileSync("docker", ["port", container], { encoding: "utf8" }).trim().split("\n").sort();
      assert.deepEqual(
        lines,
        Object.entries(ports)
          .map(([port, hostPort]) => `${port} -> 127.0.0.1:${hostPort}`)
          .sort(),
      );
    }
    // The name server and the PCs have no `publish`: nothing of theirs reaches the host.
    // (A stack without any `publish`, such as dev, gives no container `ports`: components/MailLab.test.ts.)
    for (const container of [
      lab.nameServer.container,
      ...Object.values(lab.clients).map((client) => client.container),
    ]) {
      const details = inspect(container);
      assert.deepEqual(details.HostConfig.PortBindings ?? {}, {}, container);
      assert.equal(execFileSync("docker", ["port", container], { encoding: "utf8" }).trim(), "", container);
    }
  });

  it("IMAPS on 127.0.0.1 presents mail.naver.com's certificate, verified with the stack's CA", async () => {
    const sClient = (hostname: string) =>
      run("openssl", [
        "s_client",
        "-connect",
        `127.0.0.1:${NAVER.imaps}`,
        "-verify_return_error",
        "-CAfile",
        caFile,
        "-verify_hostname",
        hostname,
      ]);
    const verified = await sClient(NAVER.fqdn);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /Verify return code: 0 \(ok\)/);
    assert.match(verified.stdout, /^subject=O = mail-lab, CN = mail\.naver\.com$/m);
    assert.match(verified.stdout, /^issuer=O = mail-lab, CN = mail-lab desk CA$/m);
    // The control: the same certificate is not accepted for another name.
    const mismatch = await sClient(DAUM.fqdn);
    assert.notEqual(mismatch.code, 0);
    assert.match(mismatch.stdout + mismatch.stderr, /hostname mismatch/);
  });

  it("curl logs lee in over IMAPS as a desktop client would (mail.naver.com -> 127.0.0.1)", async () => {
    const imaps = (password: string) =>
      run("curl", [
        "-sS",
        "--ssl-reqd",
        "--cacert",
        caFile,
        "--resolve",
        `${NAVER.fqdn}:${NAVER.imaps}:127.0.0.1`,
        "-u",
        `lee:${password}`,
        `imaps://${NAVER.fqdn}:${NAVER.imaps}/INBOX`,
        "-X",
        "EXAMINE INBOX",
      ]);
    const loggedIn = await imaps("lee");
    assert.equal(loggedIn.code, 0, loggedIn.stderr);
    assert.match(loggedIn.stdout, /^\* \d+ EXISTS/m);
    const refused = await imaps("not-lee");
    assert.notEqual(refused.code, 0, "a wrong password is refused");
    assert.match(refused.stderr, /Login denied|access denied/i);
  });

  it("swaks sends over the published SMTP port with verified STARTTLS; the mail arrives over POP3S, locally and relayed", async () => {
    const token = `token-${randomUUID()}`;
    const send = (to: string, caPath: string) =>
      run("swaks", [
        "--server",
        `127.0.0.1:${NAVER.smtp}`,
        "--from",
        "lee@naver.com",
        "--to",
        to,
        "--header",
        `Subject: ${token}`,
        "--body",
        `from the desktop ${token}`,
        "--tls",
        "--tls-verify",
        "--tls-ca-path",
        caPath,
      ]);
    const local = await send("lee@naver.com", caFile);
    assert.equal(local.code, 0, local.stdout + local.stderr);
    assert.match(local.stdout, /<- {2}220 2\.0\.0 Ready to start TLS/);
    // swaks 20201014 verifies the chain only, not the name: check the name it saw here, and with
    // openssl below.
    assert.match(local.stdout, /=== TLS peer DN="\/O=mail-lab\/CN=mail\.naver\.com"/);
    assert.match(local.stdout, /<~ {2}250 2\.0\.0 \S+ Message accepted for delivery/);

    const starttls = await run("openssl", [
      "s_client",
      "-connect",
      `127.0.0.1:${NAVER.smtp}`,
      "-starttls",
      "smtp",
      "-verify_return_error",
      "-CAfile",
      caFile,
      "-verify_hostname",
      NAVER.fqdn,
    ]);
    assert.equal(starttls.code, 0, starttls.stdout + starttls.stderr);
    assert.match(starttls.stdout, /Verify return code: 0 \(ok\)/);

    // The control: with a CA bundle that does not hold the lab's CA, --tls-verify stops swaks.
    const untrusted = await send("lee@naver.com", "/etc/ssl/certs/ca-certificates.crt");
    assert.notEqual(untrusted.code, 0, untrusted.stdout);
    assert.match(untrusted.stdout + untrusted.stderr, /certificate verify failed/);

    const relayed = await send("kim@daum.net", caFile);
    assert.equal(relayed.code, 0, relayed.stdout + relayed.stderr);

    const leeMail = await eventually("the message in lee's mailbox, over 127.0.0.1:12995", async () => {
      const text = await pop3sFromHost(NAVER, "lee", caFile);
      return text.includes(token) ? text : undefined;
    });
    // Docker's port forwarding hands the connection over from the bridge's gateway.
    assert.match(leeMail, /Received: from \S+ \(?\[?10\.0\.7\.1\]?\)?/);
    assert.match(leeMail, /by mail\.naver\.com .* with ESMTPS/);

    const kimMail = await eventually("the message in kim's mailbox, over 127.0.0.1:13995", async () => {
      const text = await pop3sFromHost(DAUM, "kim", caFile);
      return text.includes(token) ? text : undefined;
    });
    assert.match(kimMail, /Received: from mail\.naver\.com \(mail\.naver\.com \[10\.0\.7\.100\]\)/, "relayed by MX");
  });

  it("submission (587) is published on 127.0.0.1 and answers with a 220 banner and STARTTLS", async () => {
    const ehlo = await run("swaks", ["--server", `127.0.0.1:${NAVER.submission}`, "--quit-after", "EHLO"]);
    assert.match(ehlo.stdout, /^<- {2}220 mail\.naver\.com /m, ehlo.stdout + ehlo.stderr);
    assert.match(ehlo.stdout, /^<- {2}250-STARTTLS$/m);
    const starttls = await run("openssl", [
      "s_client",
      "-connect",
      `127.0.0.1:${NAVER.submission}`,
      "-starttls",
      "smtp",
      "-verify_return_error",
      "-CAfile",
      caFile,
      "-verify_hostname",
      NAVER.fqdn,
    ]);
    assert.equal(starttls.code, 0, starttls.stdout + starttls.stderr);
    assert.match(starttls.stdout, /Verify return code: 0 \(ok\)/);
  });

  it("submission (587) takes mail only after SMTP AUTH over STARTTLS, with lee's own password", async () => {
    const token = `token-${randomUUID()}`;
    const submit = (auth: readonly string[]) =>
      run("swaks", [
        "--server",
        `127.0.0.1:${NAVER.submission}`,
        "--from",
        "lee@naver.com",
        "--to",
        "kim@daum.net",
        "--header",
        `Subject: ${token}`,
        "--tls",
        "--tls-verify",
        "--tls-ca-path",
        caFile,
        ...auth,
      ]);
    const anonymous = await submit([]);
    assert.notEqual(anonymous.code, 0, anonymous.stdout);
    assert.match(anonymous.stdout, /<~\* {1,2}530 5\.7\.0 Authentication required/);
    const wrong = await submit(["--auth", "PLAIN", "--auth-user", "lee", "--auth-password", "not-lee"]);
    assert.notEqual(wrong.code, 0, wrong.stdout);
    assert.match(wrong.stdout, /<~\* {1,2}535 /);
    const submitted = await submit(["--auth", "PLAIN", "--auth-user", "lee", "--auth-password", "lee"]);
    assert.equal(submitted.code, 0, submitted.stdout + submitted.stderr);
    assert.match(submitted.stdout, /<~ {2}235 2\.0\.0 OK Authenticated/);
    assert.match(submitted.stdout, /<~ {2}250 2\.0\.0 \S+ Message accepted for delivery/);
    await eventually("the submitted message in kim's mailbox", async () => {
      const text = await pop3sFromHost(DAUM, "kim", caFile);
      return text.includes(token) ? text : undefined;
    });
  });

  it("destroy leaves no container, network or volume of the stack, and only the shared images", () => {
    // The stack exists before destroy, so the checks below can fail.
    assert.equal(leftovers(stack).containers!.length, 5);
    const containers = [
      lab.nameServer.container,
      ...Object.values(lab.mailHosts).map((host) => host.container),
      ...Object.values(lab.clients).map((client) => client.container),
    ];
    const imageIds = [
      ...new Set(
        containers.map((container) =>
          execFileSync("docker", ["inspect", "-f", "{{.Image}}", container], { encoding: "utf8" }).trim(),
        ),
      ),
    ];
    assert.equal(imageIds.length, 3, "one image per role");
    assert.deepEqual(stackImages(), [], "no image carries the stack's label: images are shared by every stack");
    destroy(stackFile);
    assert.deepEqual(leftovers(stack), { containers: [], networks: [], volumes: [] });
    // Left for the other stacks of the host (keepLocally); npm run images:prune removes them once unused.
    for (const id of imageIds) {
      const labels = JSON.parse(
        execFileSync("docker", ["image", "inspect", "-f", "{{json .Config.Labels}}", id], { encoding: "utf8" }),
      ) as Record<string, string>;
      assert.equal(labels["mail-lab.project"], "mail-lab", id);
      assert.equal(labels["mail-lab.stack"], undefined, id);
      assert.match(labels["mail-lab.content-hash"] ?? "", /^[0-9a-f]{64}$/, id);
    }
  });
});
