/**
 * Before the lab creates anything: is its subnet free on the Docker host?
 *
 * Docker itself refuses a network whose subnet overlaps another network's, but only when the
 * network is created (by then the engine may already be building images and issuing
 * certificates) and with a message that names neither network: "Pool overlaps with other one on
 * this address space". This check reads the host's networks with the docker CLI first and fails
 * with a message naming the lab's `mail-lab:network.subnet` and the network in the way.
 *
 * The parsing and the comparison are pure functions; `ensureLabSubnetIsFree` runs the CLI.
 */
import * as pulumi from "@pulumi/pulumi";
import { PROJECT } from "../config/errors";
import { formatIpv4, parseDockerSubnet, subnetsOverlap } from "../config/ipv4";
import { runSync } from "../docker/cli";
import { providerDockerHost } from "./docker-host";

/** One Docker network and its IPv4 subnets (IPv6 subnets left out: the lab is IPv4 only). */
export interface DockerNetworkSubnets {
  readonly name: string;
  readonly subnets: readonly string[];
}

/** An existing Docker network whose subnet shares addresses with the lab's. */
export interface SubnetOverlap {
  readonly networkName: string;
  readonly subnet: string;
}

/**
 * Reads the JSON array `docker network inspect` prints: each network's `Name` and the IPv4
 * `Subnet`s of its `IPAM.Config` (null for networks without IPAM, such as `host` and `none`).
 * Throws on anything else, naming what was unexpected, so a changed CLI is not read as "no networks".
 */
export function parseNetworkInspect(json: string): DockerNetworkSubnets[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(`docker network inspect printed no JSON: ${JSON.stringify(json.slice(0, 200))}`);
  }
  if (!Array.isArray(parsed)) throw new Error("docker network inspect printed JSON that is not a list of networks");
  return parsed.map((network: unknown, index) => {
    const record = network as { Name?: unknown; IPAM?: { Config?: unknown } | null } | null;
    if (typeof record !== "object" || record === null || typeof record.Name !== "string") {
      throw new Error(`docker network inspect: entry ${index} has no Name`);
    }
    const configs = record.IPAM?.Config ?? [];
    if (!Array.isArray(configs)) throw new Error(`docker network inspect: IPAM.Config of ${record.Name} is not a list`);
    const subnets = configs
      .map((config: unknown) => (config as { Subnet?: unknown } | null)?.Subnet)
      .filter((subnet): subnet is string => typeof subnet === "string" && parseDockerSubnet(subnet) !== undefined);
    return { name: record.Name, subnets };
  });
}

/**
 * The networks, other than the lab's own, whose subnets overlap the lab's subnet. The lab's own
 * network (same name) is left out whatever its subnet: a second `pulumi up` finds it, and a
 * changed subnet is the engine's replacement to make, not a clash with someone else's network.
 */
export function findSubnetOverlaps(
  labSubnet: string,
  labNetworkName: string,
  networks: readonly DockerNetworkSubnets[],
): SubnetOverlap[] {
  const lab = parseDockerSubnet(labSubnet);
  if (lab === undefined) throw new Error(`the lab subnet "${labSubnet}" is not an IPv4 CIDR`);
  return networks
    .filter((network) => network.name !== labNetworkName)
    .flatMap((network) =>
      network.subnets
        .filter((subnet) => {
          return subnetsOverlap(lab, parseDockerSubnet(subnet)!);
        })
        .map((subnet) => ({ networkName: network.name, subnet })),
    );
}

/** The deploy's error: the config key and its value, every network in the way, and what to do. */
export function overlapMessage(labSubnet: string, overlaps: readonly SubnetOverlap[]): string {
  const lab = parseDockerSubnet(labSubnet)!;
  const networks = overlaps.map((overlap) => `Docker network "${overlap.networkName}" (${overlap.subnet})`).join(", ");
  return (
    `${PROJECT}:network.subnet "${labSubnet}" overlaps ${networks} on this Docker host ` +
    `(the lab would use ${formatIpv4(lab.network)} to ${formatIpv4(lab.network + lab.size - 1)}); ` +
    "move the lab to a free subnet (change network.subnet and every address in the stack file with it) " +
    `or remove that network (docker network rm ${overlaps.map((overlap) => overlap.networkName).join(" ")})`
  );
}

/** Result of running the docker CLI: its stdout, or why it could not answer. */
export type DockerCliResult =
  | { readonly kind: "ok"; readonly stdout: string }
  | { readonly kind: "missing" }
  | { readonly kind: "failed"; readonly message: string; readonly stdout: string };

/** Runs `docker <args>` without a shell; DOCKER_HOST, DOCKER_CONTEXT and the CLI's config apply as always. */
export function runDockerCli(args: readonly string[]): DockerCliResult {
  const result = runSync("docker", args, { timeoutMs: 30_000 });
  if (result === undefined) return { kind: "missing" };
  if (result.code === 0) return { kind: "ok", stdout: result.stdout };
  return { kind: "failed", message: result.stderr.trim() || `docker exited ${result.code}`, stdout: result.stdout };
}

/** What the check found: overlaps (the deploy must stop), or why it could not look. */
export type SubnetCheckResult =
  | { readonly kind: "free" }
  | { readonly kind: "overlaps"; readonly message: string }
  | { readonly kind: "unchecked"; readonly reason: string };

/**
 * Lists the Docker host's networks with `docker network ls` + `docker network inspect` and
 * compares their subnets with the lab's. `dockerHost` (the provider's `docker:host`) is passed
 * as `--host` so that the CLI asks the daemon the provider will use; without it the CLI's own
 * DOCKER_HOST / context applies, as for the provider's default.
 */
export function checkLabSubnet(
  labSubnet: string,
  labNetworkName: string,
  options: { dockerHost?: string; run?: (args: readonly string[]) => DockerCliResult } = {},
): SubnetCheckResult {
  const run = options.run ?? runDockerCli;
  const hostArgs = options.dockerHost ? ["--host", options.dockerHost] : [];
  const list = run([...hostArgs, "network", "ls", "--no-trunc", "--quiet"]);
  if (list.kind === "missing") return { kind: "unchecked", reason: "the docker CLI is not on PATH" };
  if (list.kind === "failed") return { kind: "unchecked", reason: `docker network ls failed: ${list.message}` };
  const ids = list.stdout
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  if (ids.length === 0) return { kind: "free" };
  const inspect = run([...hostArgs, "network", "inspect", ...ids]);
  let stdout: string;
  if (inspect.kind === "ok") stdout = inspect.stdout;
  else if (inspect.kind === "missing") return { kind: "unchecked", reason: "the docker CLI is not on PATH" };
  else if (
    // A network removed between `ls` and `inspect` (others use this daemon too): the CLI still
    // prints the others and exits 1 with "network <id> not found" for each one gone.
    inspect.message.split("\n").every((line) => /not found|no such network/i.test(line)) &&
    inspect.stdout.trim().startsWith("[")
  ) {
    stdout = inspect.stdout;
  } else return { kind: "unchecked", reason: `docker network inspect failed: ${inspect.message}` };
  let networks: DockerNetworkSubnets[];
  try {
    networks = parseNetworkInspect(stdout);
  } catch (error) {
    return { kind: "unchecked", reason: (error as Error).message };
  }
  const overlaps = findSubnetOverlaps(labSubnet, labNetworkName, networks);
  return overlaps.length === 0 ? { kind: "free" } : { kind: "overlaps", message: overlapMessage(labSubnet, overlaps) };
}

/**
 * Called by index.ts before any resource is declared: throws a RunError (message only, no stack
 * trace) when another network on the Docker host overlaps the lab's subnet.
 *
 * When the check cannot look (no docker CLI on this machine, a daemon the CLI cannot reach, an
 * output it does not understand) it warns and lets the deploy go on, rather than failing: the
 * provider talks to the daemon's API and needs no CLI, so a machine with only a remote
 * `docker:host` (or a CLI without that host's TLS files) must still be able to deploy, and
 * Docker still refuses an overlapping subnet itself when it creates the network. The check only
 * stops a deploy on proof of an overlap, never on its own inability to look.
 */
export function ensureLabSubnetIsFree(network: { subnet: string; name: string }): void {
  const result = checkLabSubnet(network.subnet, network.name, { dockerHost: providerDockerHost() });
  switch (result.kind) {
    case "free":
      return;
    case "overlaps":
      throw new pulumi.RunError(result.message);
    case "unchecked":
      pulumi.log.warn(
        `${PROJECT}:network.subnet "${network.subnet}" was not checked against the Docker host's networks ` +
          `(${result.reason}); if it overlaps one, Docker refuses to create the lab network ` +
          '("Pool overlaps with other one on this address space") after other resources may have been created',
      );
      return;
    default: {
      const unreachable: never = result;
      throw new Error(`unexpected subnet check result ${JSON.stringify(unreachable)}`);
    }
  }
}
