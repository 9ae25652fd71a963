import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { readStackFile } from "../config/load";
import { resolvePlan } from "../plan/plan";
import { renderClientFiles, renderMuttrc, renderSwaksrc } from "./client";
import { PATHS } from "./files";

const file = readStackFile(path.join(__dirname, "../stacks/Pulumi.dev.yaml"));
const plan = resolvePlan(file.config, { project: "mail-lab", stack: file.stack });

let home = "";
before(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-client-"));
});
after(() => fs.rmSync(home, { recursive: true, force: true }));

/**
 * Runs a mail program with HOME set to a private directory and only PATH inherited, so neither
 * the user's own dotfiles nor SWAKS_* variables take part. stdin is empty: neither program may
 * wait for input. Neither is asked to connect anywhere (mutt -Q, swaks --dump).
 */
function run(command: string, args: string[], debianPackage: string, runHome: string) {
  const result = spawnSync(command, args, {
    encoding: "utf8",
    input: "",
    timeout: 20_000,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: runHome },
  });
  if (result.error)
    assert.fail(`cannot run ${command} (${result.error.message}); install the Debian package ${debianPackage}`);
  return result;
}

/** `name="value"`, `name=value` and `name is set` lines of `mutt -Q` as a map, with mutt's escapes undone. */
function muttQuery(muttrcPath: string, names: string[]): { values: Map<string, string>; stderr: string } {
  // -n: skip the system-wide Muttrc, so only the rendered file is judged.
  const result = run("mutt", ["-n", "-F", muttrcPath, ...names.flatMap((name) => ["-Q", name])], "mutt", home);
  assert.equal(result.status, 0, `mutt -Q failed: ${result.stderr}`);
  const values = new Map<string, string>();
  for (const line of result.stdout.split("\n")) {
    const quoted = /^(\w+)="((?:[^"\\]|\\.)*)"$/.exec(line);
    const flag = /^(\w+) is (set|unset)$/.exec(line);
    // Quad-options and numbers print unquoted: ssl_starttls=yes.
    const bare = /^(\w+)=([^"\s]*)$/.exec(line);
    if (quoted) values.set(quoted[1]!, quoted[2]!.replace(/\\(.)/g, "$1"));
    else if (flag) values.set(flag[1]!, flag[2] === "set" ? "yes" : "no");
    else if (bare) values.set(bare[1]!, bare[2]!);
  }
  return { values, stderr: result.stderr };
}

describe("renderMuttrc with mutt", () => {
  for (const client of plan.clients) {
    it(`${client.key}: mutt reads it without an error and gets the user's settings`, () => {
      const muttrcPath = path.join(home, `${client.key}.muttrc`);
      fs.writeFileSync(muttrcPath, renderMuttrc(plan, client));
      const names = [
        "from",
        "realname",
        "use_from",
        "envelope_from",
        "imap_user",
        "folder",
        "spoolfile",
        "smtp_url",
        "ssl_starttls",
        "ssl_force_tls",
        "ssl_ca_certificates_file",
        "imap_pass",
        "smtp_pass",
      ];
      const { values, stderr } = muttQuery(muttrcPath, names);
      // mutt exits 0 even when a line of the file is wrong; it reports on stderr.
      assert.equal(stderr, "", "mutt reported errors in the rendered muttrc");
      assert.deepEqual(Object.fromEntries(values), {
        from: client.email,
        realname: client.login,
        use_from: "yes",
        envelope_from: "yes",
        imap_user: client.login,
        folder: `imaps://${client.mailHostFqdn}/`,
        // mutt shows "+" (the folder) as "=".
        spoolfile: "=INBOX",
        smtp_url: `smtp://${client.mailHostFqdn}:25/`,
        ssl_starttls: "yes",
        ssl_force_tls: "yes",
        ssl_ca_certificates_file: "/etc/ssl/certs/ca-certificates.crt",
        imap_pass: "",
        smtp_pass: "",
      });
    });
  }

  it("mutt reports a broken line, so the check above can fail", () => {
    const broken = renderMuttrc(plan, plan.clients[0]!).replace("set folder =", "set foldr =");
    const muttrcPath = path.join(home, "broken.muttrc");
    fs.writeFileSync(muttrcPath, broken);
    assert.match(muttQuery(muttrcPath, ["folder"]).stderr, /foldr: unknown variable/);
  });

  it("quotes values so that mutt takes $, backticks, quotes and backslashes literally", () => {
    const client = plan.clients[0]!;
    const odd = { ...client, login: 'a$HOME`echo no`"q\\z' };
    const muttrcPath = path.join(home, "odd.muttrc");
    fs.writeFileSync(muttrcPath, renderMuttrc({ ...plan, clients: [odd, ...plan.clients.slice(1)] }, odd));
    const { values, stderr } = muttQuery(muttrcPath, ["imap_user"]);
    assert.equal(stderr, "");
    assert.equal(values.get("imap_user"), 'a$HOME`echo no`"q\\z');
  });
});

describe("renderSwaksrc with swaks", () => {
  /** `swaks --dump` with the rendered file as ~/.swaksrc; --dump prints the options and sends nothing. */
  function dumpWith(swaksrc: string, name: string) {
    const dir = fs.mkdtempSync(path.join(home, `${name}-`));
    fs.writeFileSync(path.join(dir, ".swaksrc"), swaksrc);
    // --to is given so that swaks does not prompt for it.
    return run("swaks", ["--to", "someone@example.invalid", "--dump", "SUPPORT,TRANSPORT,PROTOCOL,TLS"], "swaks", dir);
  }

  for (const client of plan.clients) {
    it(`${client.key}: swaks reads the preset server, sender and STARTTLS`, () => {
      const result = dumpWith(renderSwaksrc(plan, client), client.key);
      assert.equal(result.status, 0, `swaks --dump failed: ${result.stderr}`);
      assert.equal(result.stderr, "");
      assert.match(
        result.stdout,
        /^=== TLS supported$/m,
        "swaks has no TLS: install the Debian package libnet-ssleay-perl",
      );
      assert.match(result.stdout, new RegExp(`^\\s+server\\s+= ${client.mailHostFqdn.replace(/\./g, "\\.")}$`, "m"));
      assert.match(result.stdout, /^\s+port\s+= 25$/m);
      assert.match(result.stdout, new RegExp(`^\\s+from\\s+= ${client.email.replace(/\./g, "\\.")}$`, "m"));
      assert.match(result.stdout, /^\s+tls\s+= starttls \(required\)$/m);
    });
  }

  it("swaks rejects an unknown option, so the check above can fail", () => {
    const broken = renderSwaksrc(plan, plan.clients[0]!).replace(/^server /m, "servr ");
    const result = dumpWith(broken, "broken");
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /Unknown option: servr/);
  });

  it("refuses a value that would spill into another option line", () => {
    const client = plan.clients[0]!;
    const spilled = { ...client, mailHostFqdn: "mail.naver.com\nquit-after connect" };
    assert.throws(
      () => renderSwaksrc({ ...plan, clients: [spilled] }, spilled),
      /mailHostFqdn .* cannot be a swaks option argument/,
    );
  });
});

describe("renderClientFiles", () => {
  it("gives ~/.muttrc and ~/.swaksrc, generated and deterministic", () => {
    for (const client of plan.clients) {
      const files = renderClientFiles(plan, client);
      assert.deepEqual(
        files.map((f) => f.path),
        [PATHS.muttrc, PATHS.swaksrc],
      );
      assert.deepEqual(renderClientFiles(plan, client), files);
      for (const rendered of files) {
        assert.ok(rendered.content.startsWith(`# Generated by mail-lab for stack "${plan.stack}"`));
        assert.notEqual(rendered.secret, true);
      }
    }
  });

  it("stores no password: mutt asks for it", () => {
    // A password unlike any login or host name, so that finding it means it leaked.
    const password = "Sekrit-Pass-42";
    const withPasswords = {
      ...plan,
      mailHosts: plan.mailHosts.map((host) => ({ ...host, users: host.users.map((user) => ({ ...user, password })) })),
    };
    for (const client of plan.clients) {
      for (const rendered of renderClientFiles(withPasswords, client)) {
        assert.doesNotMatch(rendered.content, /Sekrit-Pass-42/);
        assert.doesNotMatch(rendered.content, /^\s*(set\s+)?\w*pass\w*\s/m, `${rendered.path} sets a password option`);
      }
    }
  });

  it("names the client's config key in the header", () => {
    assert.match(renderMuttrc(plan, plan.clients[1]!), /Edit mail-lab:clients\[1\] in stacks\/Pulumi\.dev\.yaml/);
  });
});
