import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { readStackFile } from "../config/load";
import { resolvePlan } from "../plan/plan";
import { renderDovecotConf, renderDovecotFiles } from "./dovecot";
import { PATHS } from "./files";

const file = readStackFile(path.join(__dirname, "../stacks/Pulumi.dev.yaml"));
const plan = resolvePlan(file.config, { project: "mail-lab", stack: file.stack });

/** Runs a checker; a missing tool fails the test with the Debian package to install. */
function run(
  command: string,
  args: string[],
  debianPackage: string,
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.error)
    assert.fail(`cannot run ${command} (${result.error.message}); install the Debian package ${debianPackage}`);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `name = value` lines of doveconf output as a map (top level only). */
function settingsOf(doveconfOutput: string): Map<string, string> {
  const settings = new Map<string, string>();
  for (const line of doveconfOutput.split("\n")) {
    const match = /^([a-z_]+) = (.*)$/.exec(line);
    if (match) settings.set(match[1]!, match[2]!);
  }
  return settings;
}

describe("renderDovecotConf with doveconf", () => {
  let dir = "";
  let tls = { cert: "", key: "" };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-dovecot-"));
    tls = { cert: path.join(dir, "cert.pem"), key: path.join(dir, "key.pem") };
    // doveconf reads the `<file` values, so the paths must hold a real certificate and key.
    const openssl = run(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=test",
        "-days",
        "1",
        "-keyout",
        tls.key,
        "-out",
        tls.cert,
      ],
      "openssl",
    );
    assert.equal(openssl.status, 0, `openssl req failed: ${openssl.stderr}`);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, content: string): string => {
    const confPath = path.join(dir, name);
    fs.writeFileSync(confPath, content);
    return confPath;
  };

  for (const host of plan.mailHosts) {
    it(`${host.fqdn}: doveconf -n parses it without a warning`, () => {
      const confPath = write(`${host.key}.conf`, renderDovecotConf(plan, host, tls));
      const result = run("doveconf", ["-n", "-c", confPath], "dovecot-core");
      assert.equal(result.status, 0, `doveconf -n failed:\n${result.stderr}`);
      assert.equal(result.stderr, "", "doveconf printed warnings");
      // -n prints only settings that differ from Dovecot's defaults.
      const changed = settingsOf(result.stdout);
      assert.equal(changed.get("protocols"), "imap pop3");
      assert.equal(changed.get("mail_location"), "mbox:~/mail:INBOX=/var/mail/%u");
      assert.equal(changed.get("mail_privileged_group"), "mail");
      assert.equal(changed.get("ssl_cert"), `<${tls.cert}`);
      assert.match(result.stdout, /^passdb \{\n {2}driver = shadow\n\}$/m);
      assert.match(result.stdout, /^userdb \{\n {2}driver = passwd\n\}$/m);
      for (const [listener, port, ssl] of [
        ["imap", 143, false],
        ["imaps", 993, true],
        ["pop3", 110, false],
        ["pop3s", 995, true],
      ] as const) {
        const block = new RegExp(
          `inet_listener ${listener} \\{\\n\\s+port = ${port}\\n${ssl ? "\\s+ssl = yes\\n" : ""}\\s+\\}`,
        );
        assert.match(result.stdout, block, `listener ${listener} on ${port}`);
      }
    });

    it(`${host.fqdn}: the effective values of the settings the lab relies on`, () => {
      const confPath = write(`${host.key}-values.conf`, renderDovecotConf(plan, host, tls));
      // Named settings print even when they equal the default, which -n would hide.
      const names = [
        "ssl",
        "disable_plaintext_auth",
        "mail_location",
        "protocols",
        "listen",
        "mbox_read_locks",
        "mbox_write_locks",
        "log_path",
        "first_valid_uid",
      ];
      const result = run("doveconf", ["-c", confPath, ...names], "dovecot-core");
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(Object.fromEntries(settingsOf(result.stdout)), {
        ssl: "yes",
        disable_plaintext_auth: "yes",
        mail_location: "mbox:~/mail:INBOX=/var/mail/%u",
        protocols: "imap pop3",
        listen: "*, ::",
        mbox_read_locks: "fcntl",
        mbox_write_locks: "dotlock fcntl",
        log_path: "/dev/stderr",
        first_valid_uid: "2000",
      });
    });
  }

  it("doveconf rejects a broken setting, so the checks above can fail", () => {
    const good = renderDovecotConf(plan, plan.mailHosts[0]!, tls);
    const broken = good.replace(/^ssl = yes$/m, "ssl = maybe");
    assert.notEqual(broken, good);
    const result = run("doveconf", ["-n", "-c", write("broken.conf", broken)], "dovecot-core");
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /Invalid value: maybe/);
  });

  // doveconf opens `<file` values only when asked to expand them (-x); -n leaves them as paths.
  it("the certificate and key settings name files Dovecot can read", () => {
    const confPath = write("expand.conf", renderDovecotConf(plan, plan.mailHosts[0]!, tls));
    const result = run("doveconf", ["-x", "-c", confPath, "ssl_cert", "ssl_key"], "dovecot-core");
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^ssl_cert = -----BEGIN CERTIFICATE-----$/m);
    assert.match(result.stdout, /^ssl_key = -----BEGIN PRIVATE KEY-----$/m);
  });

  it("doveconf -x rejects a certificate path that does not exist", () => {
    const missing = renderDovecotConf(plan, plan.mailHosts[0]!, { cert: path.join(dir, "absent.pem"), key: tls.key });
    const result = run("doveconf", ["-x", "-c", write("missing-cert.conf", missing), "ssl_cert"], "dovecot-core");
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /Can't open file .*absent\.pem/);
  });
});

describe("renderDovecotConf", () => {
  const host = plan.mailHosts[0]!;

  it("reads the certificate and key from the container paths by default", () => {
    const conf = renderDovecotConf(plan, host);
    assert.match(conf, new RegExp(`^ssl_cert = <${PATHS.tlsCert}$`, "m"));
    assert.match(conf, new RegExp(`^ssl_key = <${PATHS.tlsKey}$`, "m"));
  });

  it("starts with the generated header and is byte-identical across calls", () => {
    const conf = renderDovecotConf(plan, host);
    assert.ok(conf.startsWith(`# Generated by mail-lab for stack "${plan.stack}"`));
    assert.equal(renderDovecotConf(plan, host), conf);
  });

  it("does not offer lmtp: Sendmail delivers with its local mailer", () => {
    const settings = renderDovecotConf(plan, host)
      .split("\n")
      .filter((line) => !line.startsWith("#"));
    assert.ok(settings.includes("protocols = imap pop3"));
    assert.equal(settings.filter((line) => /lmtp/.test(line)).length, 0);
  });

  it("refuses TLS paths that Dovecot would read differently", () => {
    assert.throws(
      () => renderDovecotConf(plan, host, { cert: "cert.pem", key: PATHS.tlsKey }),
      /tls\.cert "cert\.pem" must be an absolute path/,
    );
    assert.throws(
      () => renderDovecotConf(plan, host, { cert: PATHS.tlsCert, key: "/tmp/my key.pem" }),
      /tls\.key .* without spaces/,
    );
  });
});

describe("renderDovecotFiles", () => {
  it("gives dovecot.conf and the secret users file for each mail host", () => {
    for (const host of plan.mailHosts) {
      const files = renderDovecotFiles(plan, host);
      assert.deepEqual(
        files.map((f) => [f.path, f.mode, f.secret === true]),
        [
          [PATHS.dovecotConf, "0644", false],
          [PATHS.users, "0600", true],
        ],
      );
      assert.equal(files[0]!.content, renderDovecotConf(plan, host));
      assert.match(files[1]!.content, new RegExp(`^${host.users[0]!.login}:2000:\\$6\\$`, "m"));
    }
  });
});
