/**
 * The floor: the lab's five containers with bare Docker (the lab's images and the files it
 * uploaded, copied out of its containers), `docker create` + `docker cp` + `docker start`.
 */
import { PATHS } from "../../render/files";
import { renderLab } from "../../render";
import { runRaw } from "../../docker/cli";
import { type LabOutputs, waitHealthy } from "../e2e/lab";
import { containersOf, must } from "./tools";
import { FLOOR_NETWORK, benchPlan, labelArgs } from "./settings";

/** stdout as bytes (a tar stream), which `run` would decode as text. */
export async function dockerBytes(args: readonly string[]): Promise<Buffer> {
  const result = await runRaw("docker", args);
  if (result.code !== 0) throw new Error(`docker ${args.join(" ")}: ${result.stderr.trim()}`);
  return result.stdout;
}

/** One lab container as bare Docker would run it: its settings and the files the lab uploaded. */
export interface FloorContainer {
  readonly name: string;
  readonly image: string;
  readonly hostname: string;
  readonly address: string;
  readonly dns: string[];
  readonly dnsSearch: string[];
  readonly env: string[];
  readonly files: Buffer;
}

export interface Inspected {
  Config: { Image: string; Hostname: string; Env: string[] };
  HostConfig: { Dns: string[] | null; DnsSearch: string[] | null };
  NetworkSettings: { Networks: Record<string, { IPAMConfig?: { IPv4Address?: string } }> };
}

/** Reads each lab container's settings and uploaded files (every rendered file, TLS and CA). */
export async function captureFloor(outputs: LabOutputs): Promise<FloorContainer[]> {
  const plan = benchPlan();
  const uploaded = new Map(
    renderLab(plan).map(({ host, files }) => [
      host.containerName,
      [
        ...files.map((file) => file.path),
        PATHS.caTrust,
        ...(plan.mailHosts.some((mailHost) => mailHost.containerName === host.containerName)
          ? [PATHS.tlsCert, PATHS.tlsKey, PATHS.tlsCa]
          : []),
      ],
    ]),
  );
  return Promise.all(
    containersOf(outputs).map(async (container, index) => {
      const [inspected] = JSON.parse(await must("docker", ["inspect", container])) as Inspected[];
      const paths = uploaded.get(container);
      if (!inspected || !paths) throw new Error(`${container} is not a container of the bench plan`);
      const files = await dockerBytes([
        "exec",
        container,
        "tar",
        "-cf",
        "-",
        "-C",
        "/",
        ...paths.map((p) => p.slice(1)),
      ]);
      return {
        name: `mail-lab-bench-floor-${index}`,
        image: inspected.Config.Image,
        hostname: inspected.Config.Hostname,
        address: Object.values(inspected.NetworkSettings.Networks)[0]?.IPAMConfig?.IPv4Address ?? "",
        dns: inspected.HostConfig.Dns ?? [],
        dnsSearch: inspected.HostConfig.DnsSearch ?? [],
        env: inspected.Config.Env.filter((entry) => !entry.startsWith("PATH=")),
        files,
      };
    }),
  );
}

export async function startFloorContainer(container: FloorContainer, image = container.image): Promise<void> {
  await must("docker", [
    "create",
    "--name",
    container.name,
    ...labelArgs,
    "--network",
    FLOOR_NETWORK,
    "--ip",
    container.address,
    "--hostname",
    container.hostname,
    ...container.dns.flatMap((dns) => ["--dns", dns]),
    ...container.dnsSearch.flatMap((search) => ["--dns-search", search]),
    ...container.env.flatMap((entry) => ["-e", entry]),
    image,
  ]);
  await must("docker", ["cp", "-", `${container.name}:/`], container.files);
  await must("docker", ["start", container.name]);
}

/** The floor's deploy: network, then all five containers at once, until every one is healthy. */
export async function startFloor(floor: readonly FloorContainer[], images?: Record<string, string>): Promise<void> {
  const plan = benchPlan();
  await must("docker", [
    "network",
    "create",
    ...labelArgs,
    "--subnet",
    plan.network.subnet,
    "--gateway",
    plan.network.gateway,
    FLOOR_NETWORK,
  ]);
  await Promise.all(floor.map((container) => startFloorContainer(container, images?.[container.image])));
  await Promise.all(floor.map((container) => waitHealthy(container.name)));
}

export async function removeFloor(floor: readonly FloorContainer[]): Promise<void> {
  await must("docker", ["rm", "-f", ...floor.map((container) => container.name)]);
  await must("docker", ["network", "rm", FLOOR_NETWORK]);
}
