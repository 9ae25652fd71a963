/**
 * `npm run classroom -- --from <stack-file> --count N [--out <dir>] [--first-subnet <cidr>]
 *  [--seed <text>] [--no-publish] [--force]`: writes N stack files, one lab each, derived from one
 * stack (plan/classroom.ts): `<out>/Pulumi.<stack>-01.yaml` ..., each on a subnet of its own with
 * its own host ports and passwords, and `<out>/classroom-<stack>.tsv`, the instructor's list of every
 * lab's users and passwords. `--out` defaults to the source's folder. Existing files are kept unless
 * `--force` (a new run gives new passwords). Exits 1 on a problem, 2 on bad usage.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ClassroomError, classroomLabs, renderClassroomList, renderLabStackFile } from "../plan/classroom";
import { ConfigError } from "../config/errors";
import { readStackFile } from "../config/load";

const USAGE =
  "usage: npm run classroom -- --from <stack-file> --count N [--out <dir>] [--first-subnet <cidr>] " +
  "[--seed <text>] [--no-publish] [--force]";

function parseArgs(argv: readonly string[]): Record<string, string | true> | undefined {
  const valued = new Set(["--from", "--count", "--out", "--first-subnet", "--seed"]);
  const flags = new Set(["--no-publish", "--force"]);
  const args: Record<string, string | true> = {};
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    if (valued.has(arg) && argv[index + 1] !== undefined) args[arg] = argv[++index]!;
    else if (flags.has(arg)) args[arg] = true;
    else return undefined;
  }
  return args["--from"] && args["--count"] ? args : undefined;
}

function main(argv: readonly string[]): number {
  const args = parseArgs(argv);
  if (!args) {
    console.error(USAGE);
    return 2;
  }
  const from = String(args["--from"]);
  const out = typeof args["--out"] === "string" ? args["--out"] : path.dirname(from);
  try {
    const file = readStackFile(from);
    const classroom = classroomLabs(
      { stack: file.stack, config: file.config, otherConfig: file.providerConfig },
      {
        count: Number(args["--count"]),
        firstSubnet: typeof args["--first-subnet"] === "string" ? args["--first-subnet"] : undefined,
        seed: typeof args["--seed"] === "string" ? args["--seed"] : undefined,
        dropPublish: args["--no-publish"] === true,
      },
    );
    const files = classroom.labs.map((lab) => ({
      file: path.join(out, `Pulumi.${lab.stack}.yaml`),
      text: renderLabStackFile(classroom, lab, from),
    }));
    const list = path.join(out, `classroom-${file.stack}.tsv`);
    files.push({ file: list, text: renderClassroomList(classroom, from) });
    const existing = files.filter(({ file: target }) => fs.existsSync(target)).map(({ file: target }) => target);
    if (existing.length > 0 && args["--force"] !== true) {
      console.error(
        `classroom: ${existing.length} file(s) exist already (${existing.slice(0, 3).join(", ")}${existing.length > 3 ? ", ..." : ""}); ` +
          "give --force to overwrite them (with new passwords), or another --out",
      );
      return 1;
    }
    fs.mkdirSync(out, { recursive: true });
    for (const { file: target, text } of files) {
      fs.writeFileSync(target, text, { mode: target === list ? 0o600 : 0o644 });
    }
    for (const lab of classroom.labs) {
      console.log(
        `${path.join(out, `Pulumi.${lab.stack}.yaml`)}: ${lab.subnet}` +
          (lab.hostPorts.length > 0 ? `, host ports ${lab.hostPorts.join(", ")}` : "") +
          `, ${lab.passwords.length} user(s)`,
      );
    }
    console.log(
      `classroom: ${classroom.labs.length} lab(s) from ${from}; the users' passwords are in ${list} (owner-only)` +
        (args["--no-publish"] === true ? "; publish left out: desktop clients cannot reach these labs" : ""),
    );
    return 0;
  } catch (error) {
    if (error instanceof ClassroomError || error instanceof ConfigError) {
      console.error(`classroom: ${error.message}`);
      return 1;
    }
    console.error(`classroom: ${(error as Error).message}`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
