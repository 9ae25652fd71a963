/**
 * The readiness poll (readiness.ts WAIT_UNTIL_READY) run by a real sh against a stand-in `docker`
 * on PATH that plays a container: failing its healthcheck a few times, then passing; crashing at
 * start and being restarted by its policy; never passing.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { WAIT_UNTIL_READY } from "./readiness";

let dir: string;

/**
 * A `docker` that answers `exec <c> /usr/local/bin/healthcheck` by failing until the file
 * `passes-after` counts down to 0, `inspect` with the file `state`, and `logs` with two lines.
 */
function fakeDocker(passesAfter: number, state: string): void {
  fs.writeFileSync(path.join(dir, "passes-after"), String(passesAfter));
  fs.writeFileSync(path.join(dir, "state"), state);
  const script = `#!/bin/sh
dir=${JSON.stringify(dir)}
echo "$*" >> "$dir/calls"
case $1 in
  exec)
    n=$(cat "$dir/passes-after")
    if [ "$n" -le 0 ]; then exit 0; fi
    echo $((n - 1)) > "$dir/passes-after"
    echo "nothing listens on 127.0.0.1:25"
    exit 1 ;;
  inspect) cat "$dir/state" ;;
  logs) echo "mail-host: m4 /etc/mail/sendmail.mc failed:"; echo "ERROR: line 3" ;;
esac
`;
  fs.writeFileSync(path.join(dir, "docker"), script, { mode: 0o755 });
}

function wait(timeoutSeconds = 30) {
  const started = Date.now();
  const result = spawnSync("sh", ["-c", WAIT_UNTIL_READY], {
    encoding: "utf8",
    env: {
      PATH: `${dir}:${process.env["PATH"]}`,
      CONTAINER: "mail-lab-dev-mail-naver-com",
      READY_TIMEOUT: String(timeoutSeconds),
    },
  });
  const calls = fs.existsSync(path.join(dir, "calls")) ? fs.readFileSync(path.join(dir, "calls"), "utf8") : "";
  return { ...result, ms: Date.now() - started, calls: calls.trim().split("\n") };
}

describe("waiting for a host to be ready", () => {
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mail-lab-ready-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("returns as soon as the healthcheck passes, polling every quarter second", () => {
    fakeDocker(3, "running 0");
    const result = wait();
    assert.equal(result.status, 0, result.stderr);
    const execs = result.calls.filter((call) => call.startsWith("exec "));
    assert.equal(execs.length, 4);
    assert.equal(execs[0], "exec mail-lab-dev-mail-naver-com /usr/local/bin/healthcheck");
    assert.ok(result.ms >= 700 && result.ms < 5000, `${result.ms} ms`);
  });

  it("fails at once with the container's last log lines when its restart policy restarted it", () => {
    fakeDocker(100, "restarting 1");
    const result = wait();
    assert.equal(result.status, 1);
    assert.match(result.stderr, /mail-lab-dev-mail-naver-com did not start \(state: restarting 1\)/);
    assert.match(result.stderr, /m4 \/etc\/mail\/sendmail\.mc failed:\nERROR: line 3/);
    assert.equal(result.calls.filter((call) => call.startsWith("exec ")).length, 1);
  });

  it("fails after READY_TIMEOUT with what the healthcheck said last", () => {
    fakeDocker(1000, "running 0");
    const result = wait(1);
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      /did not pass \/usr\/local\/bin\/healthcheck within 1 s: nothing listens on 127\.0\.0\.1:25/,
    );
  });
});
