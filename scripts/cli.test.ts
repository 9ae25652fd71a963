/** `npm run validate`, `npm run render` and `npm run grade`'s refusals, as a user runs them. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";

const root = path.join(__dirname, "..");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-cli-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

function run(script: string, ...args: string[]) {
  const result = spawnSync(process.execPath, ["--import", "tsx", path.join(root, "scripts", script), ...args], {
    cwd: root,
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function writeStack(name: string, edit: (text: string) => string): string {
  const file = path.join(scratch, `Pulumi.${name}.yaml`);
  fs.writeFileSync(file, edit(fs.readFileSync(path.join(root, "stacks", "Pulumi.dev.yaml"), "utf8")));
  return file;
}

describe("npm run validate", () => {
  it("prints the plan of a good stack and exits 0", () => {
    const result = run("validate.ts", "stacks/Pulumi.dev.yaml");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^stack dev: network mail-lab-dev-net 10\.0\.2\.0\/24 \(gateway 10\.0\.2\.1\)$/m);
    assert.match(result.stdout, /^ {2}mail-host +mail\.naver\.com +10\.0\.2\.100 +mail-lab-dev-mail-naver-com$/m);
    assert.match(result.stdout, /^ {2}MX daum\.net -> 10 mail\.daum\.net \(users: kim\)$/m);
    assert.match(result.stdout, /^config OK$/m);
  });

  it("prints every problem and exits 1", () => {
    const file = writeStack("broken", (text) =>
      text.replace("address: 10.0.2.200", "address: 10.0.3.200").replace("login: kim", "login: Kim!"),
    );
    const result = run("validate.ts", file);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /has 2 problems:/);
    assert.match(result.stderr, /mail-lab:domains\[1\]\.mailHost\.address: "10\.0\.3\.200" is outside the subnet/);
    assert.match(result.stderr, /mail-lab:domains\[1\]\.users\[0\]\.login: "Kim!" is not a valid login name/);
  });

  it("validates the rest of a stack whose passwords are encrypted", () => {
    const file = writeStack("sealed", (text) => text.replace("password: kim", "password:\n            secure: v1:abc"));
    const result = run("validate.ts", file);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /encrypted \(not checked here\): mail-lab:domains\[1\]\.users\[0\]\.password/);
  });

  it("explains its usage", () => {
    const result = run("validate.ts");
    assert.equal(result.code, 2);
    assert.match(result.stderr, /usage: npm run validate -- <stack-file>/);
  });

  it("names a file that is not a stack file", () => {
    const result = run("validate.ts", "package.json");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /a stack file is named Pulumi\.<stack>\.yaml/);
  });
});

describe("npm run render", () => {
  it("writes every file as <out>/<host>/<path in the container>, identical to the golden files", () => {
    const out = path.join(scratch, "out");
    const result = run("render.ts", "stacks/Pulumi.dev.yaml", out);
    assert.equal(result.code, 0, result.stderr);
    const listed = result.stdout.trim().split("\n").sort();
    assert.ok(listed.includes("ns/etc/bind/named.conf"));
    assert.ok(listed.includes("mail-naver-com/etc/mail/sendmail.mc"));
    assert.ok(listed.includes("lee-pc/root/.muttrc"));
    for (const relative of listed) {
      assert.equal(
        fs.readFileSync(path.join(out, relative), "utf8"),
        fs.readFileSync(path.join(root, "test", "golden", "dev", relative), "utf8"),
        relative,
      );
    }
    assert.equal((fs.statSync(path.join(out, "mail-naver-com/etc/mail-lab/users")).mode & 0o777).toString(8), "600");
  });

  it("refuses a stack with encrypted passwords, naming the keys", () => {
    const file = writeStack("sealed2", (text) =>
      text.replace("password: lee", "password:\n            secure: v1:abc"),
    );
    const result = run("render.ts", file, path.join(scratch, "out2"));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /mail-lab:domains\[0\]\.users\[0\]\.password is encrypted; render needs plain values/);
    assert.equal(fs.existsSync(path.join(scratch, "out2")), false, "nothing is written");
  });
});

describe("npm run grade", () => {
  it("explains its usage and refuses a language it does not speak, before touching any host", () => {
    const none = run("grade.ts");
    assert.equal(none.code, 2);
    assert.match(none.stderr, /give one stack file\nusage: npm run grade -- <stack-file> \[--lang ko\|en\]/);
    const french = run("grade.ts", path.join(root, "stacks", "Pulumi.dev.yaml"), "--lang", "fr");
    assert.equal(french.code, 2);
    assert.match(french.stderr, /--lang must be ko or en, got "fr"/);
  });

  it("names a bad config key, and encrypted passwords it cannot log in with", () => {
    const bad = run(
      "grade.ts",
      writeStack("gradebad", (text) => text.replace("address: 10.0.2.200", "address: 10.0.3.200")),
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /mail-lab:domains\[1\]\.mailHost\.address: "10\.0\.3\.200" is outside the subnet/);
    const sealed = run(
      "grade.ts",
      writeStack("gradesealed", (text) => text.replace("password: lee", "password:\n            secure: v1:abc")),
    );
    assert.equal(sealed.code, 2);
    assert.match(
      sealed.stderr,
      /mail-lab:domains\[0\]\.users\[0\]\.password encrypted; the grader logs in as the users/,
    );
  });
});
