/**
 * The images' entry points check the uploaded config with each daemon's own checker and stop
 * with its message and a non-zero exit, so a broken file shows in `docker logs` instead of a
 * half-working host. Each case starts a container with no network and one broken file.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { readStackFile } from "../../config/load";
import { resolvePlan } from "../../plan/plan";
import { renderHostFiles } from "../../render";
import { root } from "./lab";

const STACK = "imagetest";
const LABELS = ["--label", "mail-lab.project=mail-lab", "--label", `mail-lab.stack=${STACK}`];
const ROLES = ["name-server", "mail-host", "client"] as const;
const imageOf = (role: (typeof ROLES)[number]) => `mail-lab-${STACK}-${role}:test`;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-images-"));

const devFile = readStackFile(path.join(root, "stacks", "Pulumi.dev.yaml"));
const plan = resolvePlan(devFile.config, { project: "mail-lab", stack: devFile.stack });

function docker(args: string[]) {
  const result = spawnSync("docker", args, { encoding: "utf8", timeout: 180_000 });
  return { code: result.status ?? 1, output: `${result.stdout}${result.stderr}` };
}

function removeEverything(): void {
  const ids = (args: string[]) => execFileSync("docker", args, { encoding: "utf8" }).split("\n").filter(Boolean);
  const containers = ids(["ps", "-aq", "--filter", `label=mail-lab.stack=${STACK}`]);
  if (containers.length > 0) docker(["rm", "-f", "-v", ...containers]);
  const images = ids(["images", "-q", "--filter", `label=mail-lab.stack=${STACK}`]);
  if (images.length > 0) docker(["rmi", "-f", ...new Set(images)]);
}

/**
 * Creates a container from the role's image with `files` copied in (path in the container ->
 * content), starts it attached, and returns its exit code and output. The container is removed.
 */
function startWith(
  role: (typeof ROLES)[number],
  hostname: string,
  files: Record<string, string>,
): { code: number; output: string } {
  const created = docker(["create", "--network", "none", "--hostname", hostname, ...LABELS, imageOf(role)]);
  assert.equal(created.code, 0, created.output);
  const id = created.output.trim();
  try {
    for (const [target, content] of Object.entries(files)) {
      const local = path.join(scratch, `${Math.random().toString(36).slice(2)}-${path.basename(target)}`);
      fs.writeFileSync(local, content);
      const copied = docker(["cp", local, `${id}:${target}`]);
      assert.equal(copied.code, 0, copied.output);
    }
    return docker(["start", "--attach", id]);
  } finally {
    docker(["rm", "-f", "-v", id]);
  }
}

const renderedFor = (key: string) =>
  Object.fromEntries(
    renderHostFiles(
      plan,
      [plan.nameServer, ...plan.mailHosts, ...plan.clients].find((host) => host.key === key)!,
    ).map((file) => [file.path, file.content]),
  );

describe("images: the entry points refuse broken config with the checker's message", { timeout: 15 * 60_000 }, () => {
  before(() => {
    removeEverything();
    for (const role of ROLES) {
      const built = docker([
        "build",
        "-q",
        ...LABELS,
        "-f",
        path.join(root, "images", role, "Dockerfile"),
        "-t",
        imageOf(role),
        path.join(root, "images"),
      ]);
      assert.equal(built.code, 0, built.output);
    }
  });

  after(() => {
    removeEverything();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it("name server: a broken zone file stops it with named-checkconf's message", () => {
    const files = renderedFor("ns");
    files["/etc/bind/zones/db.naver.com"] = files["/etc/bind/zones/db.naver.com"]!.replace(
      "MX    10 mail",
      "MX    mail",
    );
    const result = startWith("name-server", "ns.naver.com", files);
    assert.notEqual(result.code, 0);
    assert.match(result.output, /name-server: \/etc\/bind\/named\.conf does not pass named-checkconf -z:/);
    assert.match(result.output, /db\.naver\.com:\d+: .*(expected an integer|not a valid number)/i);
  });

  it("mail host: an unqualified host name stops it before Sendmail would hang", () => {
    const result = startWith("mail-host", "mail", {});
    assert.notEqual(result.code, 0);
    assert.match(result.output, /host name "mail" is not qualified/);
  });

  it("mail host: a sendmail.mc that Sendmail's m4 macros reject stops it with their message", () => {
    const files = renderedFor("mail-naver-com");
    files["/etc/mail/sendmail.mc"] += "FEATURE(`use_ct_file')dnl\n";
    const result = startWith("mail-host", "mail.naver.com", files);
    assert.notEqual(result.code, 0);
    assert.match(result.output, /m4 \/etc\/mail\/sendmail\.mc failed:/);
    assert.match(result.output, /FEATURE\(\) should be before MAILER\(\)/);
  });

  it("mail host: a malformed access file stops it with makemap's message", () => {
    const files = renderedFor("mail-naver-com");
    files["/etc/mail/access"] += "naver.com RELAY\n";
    const result = startWith("mail-host", "mail.naver.com", files);
    assert.notEqual(result.code, 0);
    assert.match(result.output, /makemap hash \/etc\/mail\/access failed:/);
    assert.match(result.output, /duplicate key/i);
  });

  it("mail host: a dovecot.conf that doveconf rejects stops it with doveconf's message", () => {
    const files = renderedFor("mail-naver-com");
    delete files["/etc/mail-lab/users"];
    files["/etc/dovecot/dovecot.conf"] += "mail_lokation = mbox:~/mail\n";
    const result = startWith("mail-host", "mail.naver.com", files);
    assert.notEqual(result.code, 0);
    assert.match(result.output, /does not pass `doveconf -n`:/);
    assert.match(result.output, /Unknown setting: mail_lokation/);
  });

  it("mail host: a users file naming a system account is refused", () => {
    const result = startWith("mail-host", "mail.naver.com", { "/etc/mail-lab/users": "root:0:$6$abc$def\n" });
    assert.notEqual(result.code, 0);
    assert.match(result.output, /root is a system account of the image/);
  });

  it("client: a lab CA that is not a certificate is refused", () => {
    const result = startWith("client", "lee-pc.naver.com", {
      "/usr/local/share/ca-certificates/mail-lab-ca.crt": "not a certificate\n",
    });
    assert.notEqual(result.code, 0);
    assert.match(result.output, /mail-lab-ca\.crt is not a PEM certificate/);
  });

  it("keeps no plaintext password: accounts are made from the users file's SHA-512 crypt hashes", () => {
    const files = renderedFor("mail-naver-com");
    const created = docker([
      "create",
      "--network",
      "none",
      "--hostname",
      "mail.naver.com",
      ...LABELS,
      imageOf("mail-host"),
    ]);
    const id = created.output.trim();
    try {
      const local = path.join(scratch, "users");
      fs.writeFileSync(local, files["/etc/mail-lab/users"]!);
      assert.equal(docker(["cp", local, `${id}:/etc/mail-lab/users`]).code, 0);
      // Stop after the accounts step: the entry point runs as usual until its config checks.
      assert.equal(docker(["start", id]).code, 0);
      let shadow = "";
      for (let tries = 0; tries < 60 && !/^lee:\$6\$/m.test(shadow); tries++) {
        spawnSync("sleep", ["1"]);
        shadow = docker(["exec", id, "cat", "/etc/shadow"]).output;
      }
      const hash = /^lee:(\$6\$[^:]+):/m.exec(shadow)?.[1];
      assert.ok(hash, shadow);
      assert.ok(files["/etc/mail-lab/users"]!.includes(`lee:2000:${hash}`), "the account has the rendered hash");
      assert.equal(docker(["exec", id, "id", "-u", "lee"]).output.trim(), "2000");
      // The environment and labels only: the whole inspect output also holds Docker's random
      // container name, which can hold "pass" ("compassionate_boyd").
      const inspect = docker(["inspect", "-f", "{{json .Config.Env}} {{json .Config.Labels}}", id]).output;
      assert.doesNotMatch(inspect, /PASS|password/i, "no password in the container's environment or labels");
    } finally {
      docker(["rm", "-f", "-v", id]);
    }
  });
});
