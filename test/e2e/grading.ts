/**
 * Helpers of the e2e tests that grade a lab: `npm run grade` as a student runs it, its table read
 * back into rows, and a shell command in a lab host that must succeed.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { execIn, root } from "./lab";

export interface Grade {
  code: number | null;
  stdout: string;
  /** "<result> <what> <host>" of every row, e.g. "실패 존 파일 daum.net ns.naver.com". */
  rows: string[];
}

/** `npm run grade -- <stack file> [args]`, in its own process. */
export function grade(stackFile: string, ...args: string[]): Grade {
  const result = spawnSync(
    process.execPath,
    ["--import", "tsx", path.join(root, "scripts", "grade.ts"), stackFile, ...args],
    { cwd: root, encoding: "utf8", timeout: 5 * 60_000 },
  );
  const rows = result.stdout
    .split("\n")
    .map((line) => line.split(" | ").map((cell) => cell.trim()))
    .filter((cells) => cells.length === 6 && /^(실습|Lab) \d$/.test(cells[0]!))
    .map((cells) => `${cells[4]} ${cells[2]} ${cells[3]}`);
  return { code: result.status, stdout: `${result.stdout}${result.stderr}`, rows };
}

export const failed = (result: Grade) => result.rows.filter((row) => /^(실패|FAIL) /.test(row));
export const passed = (result: Grade) => result.rows.filter((row) => /^(통과|PASS) /.test(row));

/** Runs `script` with sh in a lab host (`docker exec`); it must exit 0. Returns its output. */
export async function sh(container: string, script: string): Promise<string> {
  const result = await execIn(container, ["sh", "-c", script]);
  assert.equal(result.code, 0, `${container}: ${script}: ${result.stdout}${result.stderr}`);
  return `${result.stdout}${result.stderr}`;
}
