/**
 * `npm run validate -- <stack-file>`: validates a stack's config the way `pulumi up` does, then
 * prints a short plan (hosts, addresses, MX) or every problem. Exits 1 on any problem.
 */
import { ConfigError } from "../config/errors";
import { readStackFile, withEncryptedStandIns } from "../config/load";
import { allHosts, resolvePlan } from "../plan/plan";

function main(argv: string[]): number {
  const [stackFile] = argv;
  if (!stackFile || argv.length !== 1) {
    console.error("usage: npm run validate -- <stack-file>   (for example stacks/Pulumi.dev.yaml)");
    return 2;
  }
  let file;
  try {
    file = readStackFile(stackFile);
  } catch (error) {
    console.error(`${stackFile}: ${(error as Error).message}`);
    return 1;
  }
  try {
    // Encrypted values cannot be read without the stack's passphrase; validate the rest.
    const plan = resolvePlan(withEncryptedStandIns(file.config), { project: "mail-lab", stack: file.stack });
    const rows = allHosts(plan).map((host) => [host.role, host.fqdn, host.address, host.containerName]);
    const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
    console.log(
      `stack ${plan.stack}: network ${plan.network.name} ${plan.network.subnet} (gateway ${plan.network.gateway})`,
    );
    for (const row of rows) console.log(`  ${row.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join("  ")}`);
    for (const mailHost of plan.mailHosts) {
      console.log(
        `  MX ${mailHost.domain} -> 10 ${mailHost.fqdn} (users: ${mailHost.users.map((user) => user.login).join(", ") || "none"})`,
      );
    }
    if (file.encryptedKeys.length > 0) console.log(`  encrypted (not checked here): ${file.encryptedKeys.join(", ")}`);
    console.log("config OK");
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`${stackFile}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = main(process.argv.slice(2));
