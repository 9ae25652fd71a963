/** The harness's networks, images (built with the classic builder) and volumes. */
import * as path from "node:path";
import { docker, dockerJson, dockerLines, dockerResult } from "../docker/cli";
import { Fields, UnsupportedInputError } from "./inputs";
import {
  buildCacheUse,
  labelList,
  MockContext,
  MockResourceResult,
  NetworkInspect,
  subnetsOverlap,
} from "./mock-model";

export async function createNetwork(
  mocks: MockContext,
  resource: string,
  f: Fields,
  raw: Record<string, unknown>,
): Promise<MockResourceResult> {
  const name = f.requiredString("name");
  const driver = f.string("driver") ?? "bridge";
  if (driver !== "bridge")
    throw new UnsupportedInputError(`${f.where}: \`driver\` "${driver}" is not supported (bridge only)`);
  const ipamConfigs = f.objects("ipamConfigs").map((config) => {
    const subnet = config.requiredString("subnet");
    const gateway = config.string("gateway");
    const ipRange = config.string("ipRange");
    config.done();
    return { subnet, gateway, ipRange };
  });
  const labels = labelList(f.objects("labels"));
  const options = f.stringMap("options");
  const internal = f.boolean("internal") ?? false;
  const attachable = f.boolean("attachable") ?? false;
  f.done();
  mocks.checkLabels(f.where, labels);

  // dockerd refuses overlapping pools too, but its message does not say which network holds the
  // range; this one names both.
  const ids = await dockerLines(["network", "ls", "-q", "--no-trunc"]);
  const existing = ids.length > 0 ? await dockerJson<NetworkInspect>(["network", "inspect", ...ids]) : [];
  for (const config of ipamConfigs) {
    for (const other of existing) {
      for (const otherConfig of other.IPAM?.Config ?? []) {
        if (otherConfig.Subnet && subnetsOverlap(config.subnet, otherConfig.Subnet)) {
          throw new Error(
            `network "${name}" subnet ${config.subnet} overlaps subnet ${otherConfig.Subnet} of existing network ` +
              `"${other.Name}" (${other.Id.slice(0, 12)}); remove that network or choose another subnet`,
          );
        }
      }
    }
  }

  const argv = ["network", "create", "--driver", driver];
  for (const config of ipamConfigs) {
    argv.push("--subnet", config.subnet);
    if (config.gateway) argv.push("--gateway", config.gateway);
    if (config.ipRange) argv.push("--ip-range", config.ipRange);
  }
  for (const [label, value] of Object.entries(labels)) argv.push("--label", `${label}=${value}`);
  for (const [option, value] of Object.entries(options)) argv.push("--opt", `${option}=${value}`);
  if (internal) argv.push("--internal");
  if (attachable) argv.push("--attachable");
  argv.push(name);
  const id = (await docker(argv)).trim();
  mocks.created.push({ kind: "network", resource, name, id });
  mocks.log(`created network ${name} (${ipamConfigs.map((config) => config.subnet).join(", ")})`);
  return {
    id,
    state: {
      ...raw,
      name,
      driver,
      ipamConfigs: ipamConfigs.map((config) => ({
        subnet: config.subnet,
        ...(config.gateway ? { gateway: config.gateway } : {}),
        ...(config.ipRange ? { ipRange: config.ipRange } : {}),
      })),
      internal,
      attachable,
      ipamDriver: "default",
      scope: "local",
    },
  };
}

// --- docker:index/remoteImage:RemoteImage -----------------------------------------------------

export async function createImage(
  mocks: MockContext,
  resource: string,
  f: Fields,
  raw: Record<string, unknown>,
): Promise<MockResourceResult> {
  const name = f.requiredString("name");
  const build = f.object("build");
  if (!build) {
    throw new UnsupportedInputError(
      `${f.where}: \`build\` is required: without it the provider pulls, and there is no registry here`,
    );
  }
  const context = path.resolve(build.requiredString("context"));
  const dockerfile = build.string("dockerfile") ?? "Dockerfile";
  const buildArgs = build.stringMap("buildArgs");
  const labels = { ...build.stringMap("label"), ...build.stringMap("labels") };
  const tags = build.strings("tags");
  const noCache = build.boolean("noCache") ?? false;
  const buildForceRemove = build.boolean("forceRemove") ?? false;
  build.done();
  f.recorded("triggers"); // a fresh create builds anyway; triggers only matter for updates
  const keepLocally = f.boolean("keepLocally") ?? false;
  const forceRemove = f.boolean("forceRemove") ?? false;
  f.done();
  mocks.checkLabels(`${f.where} build.labels`, labels, keepLocally);

  const references = [name, ...tags.filter((tag) => tag !== name)];
  // The Dockerfile is named relative to the context, as in the build API; the CLI's -f is
  // relative to its cwd, so resolve it here.
  const argv = ["build", "-f", path.resolve(context, dockerfile)];
  for (const reference of references) argv.push("-t", reference);
  for (const [key, value] of Object.entries(buildArgs)) argv.push("--build-arg", `${key}=${value}`);
  for (const [label, value] of Object.entries(labels)) argv.push("--label", `${label}=${value}`);
  if (noCache) argv.push("--no-cache");
  if (buildForceRemove) argv.push("--force-rm");
  argv.push(context);
  mocks.log(`building image ${name} from ${context}`);
  // The provider builds with the classic builder (BuilderV1) on every create, also when the image
  // exists already: with the layer cache that is a cache hit giving the same image id. Force the
  // classic builder here too (whatever DOCKER_BUILDKIT says), and report how much came from the cache.
  const result = await dockerResult(argv, { env: { ...process.env, DOCKER_BUILDKIT: "0" } });
  if (result.code !== 0) {
    const output = `${result.stdout}${result.stderr}`.trim().split("\n").slice(-30).join("\n");
    throw new Error(`docker build of ${name} failed (exit ${result.code}):\n${output}`);
  }
  const imageId = (await docker(["image", "inspect", "-f", "{{.Id}}", name])).trim();
  const id = `${imageId}${name}`; // the docker provider's image id: image id followed by name
  mocks.created.push({ kind: "image", resource, name, id, references, keepLocally, forceRemove });
  const { steps, cached } = buildCacheUse(result.stdout);
  mocks.log(`built image ${name} (${imageId.slice(0, 19)}): ${cached} of ${steps} steps from the layer cache`);
  return { id, state: { ...raw, name, imageId, repoDigest: "", keepLocally, forceRemove } };
}

// --- docker:index/volume:Volume ---------------------------------------------------------------

export async function createVolume(
  mocks: MockContext,
  resource: string,
  f: Fields,
  raw: Record<string, unknown>,
): Promise<MockResourceResult> {
  const name = f.requiredString("name");
  const driver = f.string("driver") ?? "local";
  if (driver !== "local")
    throw new UnsupportedInputError(`${f.where}: \`driver\` "${driver}" is not supported (local only)`);
  const labels = labelList(f.objects("labels"));
  f.done();
  mocks.checkLabels(f.where, labels);
  // `docker volume create` succeeds on an existing name and would hand back old data.
  const existing = await dockerResult(["volume", "inspect", name]);
  if (existing.code === 0) {
    throw new Error(`volume "${name}" already exists; remove it (or run the stack's e2e-down) before deploying`);
  }
  const argv = ["volume", "create", "--driver", driver];
  for (const [label, value] of Object.entries(labels)) argv.push("--label", `${label}=${value}`);
  argv.push(name);
  await docker(argv);
  mocks.created.push({ kind: "volume", resource, name, id: name });
  const mountpoint = (await docker(["volume", "inspect", "-f", "{{.Mountpoint}}", name])).trim();
  mocks.log(`created volume ${name}`);
  return { id: name, state: { ...raw, name, driver, mountpoint, driverOpts: {} } };
}

// --- docker:index/container:Container ---------------------------------------------------------
