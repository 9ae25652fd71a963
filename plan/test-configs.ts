/**
 * What the plan's tests share: the repository's stacks as plans, a valid minimal config that each
 * bad case changes in one thing, the problems a config gets, and the table runner for bad cases.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { it } from "node:test";
import { ConfigError } from "../config/errors";
import { readStackFile } from "../config/load";
import { type LabPlan, resolvePlan } from "./plan";

const stacksDir = path.join(__dirname, "..", "stacks");

export function planOf(stack: string): LabPlan {
  const file = readStackFile(path.join(stacksDir, `Pulumi.${stack}.yaml`));
  return resolvePlan(file.config, { project: "mail-lab", stack: file.stack });
}

/** A valid minimal config; each bad case below changes one thing in a copy of it. */
export function baseConfig(): Record<string, any> {
  return {
    network: { subnet: "10.0.2.0/24" },
    nameServer: { address: "10.0.2.53" },
    domains: [
      {
        name: "naver.com",
        mailHost: { address: "10.0.2.100" },
        users: [{ login: "lee", password: "lee" }],
        access: [{ match: "10.0.2", action: "RELAY" }],
      },
      { name: "daum.net", mailHost: { address: "10.0.2.200" }, users: [{ login: "kim", password: "kim" }] },
    ],
    clients: [{ name: "lee-pc", user: "lee@naver.com" }],
  };
}

export function problemsOf(config: unknown): string[] {
  try {
    resolvePlan(config, { project: "mail-lab", stack: "test" });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.problems.map((problem) => problem.message);
  }
  assert.fail("the config was accepted");
}

/** One bad config: what to change in `baseConfig()`, and the messages that must come out. */
export interface BadConfig {
  readonly name: string;
  readonly edit: (config: Record<string, any>) => void;
  readonly expect: readonly RegExp[];
}

/** One test per case: each problem is named, quoted and explained. */
export function badConfigTests(cases: readonly BadConfig[]): void {
  for (const { name, edit, expect } of cases) {
    it(name, () => {
      const config = baseConfig();
      edit(config);
      const messages = problemsOf(config);
      for (const pattern of expect) {
        assert.ok(
          messages.some((message) => pattern.test(message)),
          `no message matches ${pattern}; got:\n${messages.join("\n")}`,
        );
      }
    });
  }
}
