/** The harness's containers: create, upload, start, and wait for them as the provider does. */
import { docker, dockerJson, dockerResult } from "../docker/cli";
import { Fields, UnsupportedInputError } from "./inputs";
import { tarArchive, type TarFile } from "./tar";
import { ContainerInspect, labelList, MockContext, MockResourceResult, parsePermissions, sleep } from "./mock-model";

export async function createContainer(
  mocks: MockContext,
  resource: string,
  f: Fields,
  raw: Record<string, unknown>,
): Promise<MockResourceResult> {
  const where = f.where;
  const name = f.requiredString("name");
  const image = f.requiredString("image");
  const hostname = f.string("hostname");
  const domainname = f.string("domainname");
  const networks = f.objects("networksAdvanced").map((network) => {
    const result = {
      name: network.requiredString("name"),
      ipv4Address: network.string("ipv4Address"),
      aliases: network.strings("aliases"),
    };
    network.done();
    return result;
  });
  const dns = f.strings("dns");
  const dnsSearches = f.strings("dnsSearches");
  const dnsOpts = f.strings("dnsOpts");
  const labels = labelList(f.objects("labels"));
  const uploads: TarFile[] = f.objects("uploads").map((upload) => {
    const file = upload.requiredString("file");
    const content = upload.string("content");
    const contentBase64 = upload.string("contentBase64");
    const executable = upload.boolean("executable") ?? false;
    const permissions = upload.string("permissions");
    upload.done();
    if ((content === undefined) === (contentBase64 === undefined)) {
      throw new UnsupportedInputError(`${upload.where}: give exactly one of \`content\` and \`contentBase64\``);
    }
    const mode = permissions !== undefined ? parsePermissions(upload.where, permissions) : executable ? 0o744 : 0o644;
    const bytes = content !== undefined ? Buffer.from(content, "utf8") : Buffer.from(contentBase64 ?? "", "base64");
    return { path: file, content: bytes, mode };
  });
  const restart = f.string("restart") ?? "no";
  const healthcheck = f.object("healthcheck");
  const healthArgs: string[] = [];
  if (healthcheck) {
    const tests = healthcheck.strings("tests");
    const interval = healthcheck.string("interval");
    const timeout = healthcheck.string("timeout");
    const retries = healthcheck.number("retries");
    const startPeriod = healthcheck.string("startPeriod");
    healthcheck.done();
    const [kind, ...command] = tests;
    if (kind === "NONE") healthArgs.push("--no-healthcheck");
    else if (kind === "CMD-SHELL" && command.length === 1) healthArgs.push("--health-cmd", command[0] ?? "");
    else if (kind === undefined) {
      // No test: dockerd keeps the image's test and overrides only the timings given.
    } else if (kind === "CMD" && JSON.stringify(tests) === JSON.stringify(await imageHealthTest(mocks, image))) {
      // `docker create` cannot express an exec-form test, but leaving it out makes dockerd take
      // the image's (daemon/commit.go merge), which is this very test: same container config.
    } else {
      // Turning CMD into a shell line would change what runs, so refuse rather than approximate.
      throw new UnsupportedInputError(
        `${healthcheck.where}: \`tests\` ${JSON.stringify(tests)} is not supported; the docker CLI sets only ` +
          `["CMD-SHELL", "<one shell line>"] or ["NONE"], or an exec-form ["CMD", ...] identical to the image's HEALTHCHECK ` +
          `(image ${image} has ${JSON.stringify(await imageHealthTest(mocks, image))})`,
      );
    }
    if (interval) healthArgs.push("--health-interval", interval);
    if (timeout) healthArgs.push("--health-timeout", timeout);
    if (retries !== undefined) healthArgs.push("--health-retries", String(retries));
    if (startPeriod) healthArgs.push("--health-start-period", startPeriod);
  }
  const wait = f.boolean("wait") ?? false;
  const waitTimeout = f.number("waitTimeout") ?? 60;
  const volumes = f.objects("volumes").map((volume) => {
    const result = {
      volumeName: volume.requiredString("volumeName"),
      containerPath: volume.requiredString("containerPath"),
      readOnly: volume.boolean("readOnly") ?? false,
    };
    volume.done();
    return result;
  });
  const ports = f.objects("ports").map((port) => {
    const internal = port.number("internal");
    if (internal === undefined) throw new UnsupportedInputError(`${port.where}: \`internal\` is required`);
    const result = {
      internal,
      external: port.number("external"),
      ip: port.string("ip") ?? "0.0.0.0",
      protocol: port.string("protocol") ?? "tcp",
    };
    port.done();
    return result;
  });
  const init = f.boolean("init") ?? false;
  const envs = f.strings("envs");
  const command = f.strings("command");
  const entrypoints = f.strings("entrypoints");
  const mustRun = f.boolean("mustRun") ?? true;
  const start = f.boolean("start") ?? true;
  const stopTimeout = f.number("stopTimeout");
  const destroyGraceSeconds = f.number("destroyGraceSeconds") ?? 0;
  const logDriver = f.string("logDriver");
  const capabilities = f.object("capabilities");
  const capAdds = capabilities?.strings("adds") ?? [];
  const capDrops = capabilities?.strings("drops") ?? [];
  capabilities?.done();
  f.done();
  mocks.checkLabels(where, labels);
  if (wait && !start)
    throw new UnsupportedInputError(`${where}: \`wait\` needs \`start\` (a stopped container never becomes healthy)`);

  const argv = ["create", "--name", name];
  if (hostname) argv.push("--hostname", hostname);
  if (domainname) argv.push("--domainname", domainname);
  const [firstNetwork, ...otherNetworks] = networks;
  if (firstNetwork) {
    argv.push("--network", firstNetwork.name);
    if (firstNetwork.ipv4Address) argv.push("--ip", firstNetwork.ipv4Address);
    for (const alias of firstNetwork.aliases) argv.push("--network-alias", alias);
  }
  for (const server of dns) argv.push("--dns", server);
  for (const search of dnsSearches) argv.push("--dns-search", search);
  for (const option of dnsOpts) argv.push("--dns-option", option);
  for (const [label, value] of Object.entries(labels)) argv.push("--label", `${label}=${value}`);
  argv.push("--restart", restart);
  argv.push(...healthArgs);
  for (const volume of volumes) {
    argv.push(
      "--mount",
      `type=volume,source=${volume.volumeName},target=${volume.containerPath}${volume.readOnly ? ",readonly" : ""}`,
    );
  }
  for (const port of ports) {
    argv.push("--publish", `${port.ip}:${port.external ?? ""}:${port.internal}/${port.protocol}`);
  }
  if (init) argv.push("--init");
  for (const env of envs) argv.push("--env", env);
  // The CLI's --entrypoint takes one word; the rest of the provider's entrypoint list goes before
  // the command, which gives the same argv (an explicit entrypoint drops the image's CMD either way).
  const [entrypoint, ...entrypointRest] = entrypoints;
  if (entrypoint !== undefined) argv.push("--entrypoint", entrypoint);
  if (stopTimeout !== undefined) argv.push("--stop-timeout", String(stopTimeout));
  if (logDriver) argv.push("--log-driver", logDriver);
  for (const capability of capAdds) argv.push("--cap-add", capability);
  for (const capability of capDrops) argv.push("--cap-drop", capability);
  argv.push(image, ...entrypointRest, ...command);

  const id = (await docker(argv)).trim();
  mocks.created.push({ kind: "container", resource, name, id, destroyGraceSeconds });
  for (const network of otherNetworks) {
    const connect = ["network", "connect"];
    if (network.ipv4Address) connect.push("--ip", network.ipv4Address);
    for (const alias of network.aliases) connect.push("--alias", alias);
    await docker([...connect, network.name, id]);
  }
  if (uploads.length > 0) {
    // One archive per file, extracted at /, as the provider does.
    for (const upload of uploads) await docker(["cp", "-", `${id}:/`], { input: tarArchive([upload]) });
  }
  if (start) {
    await docker(["start", id]);
    if (mustRun) await checkRunning(mocks, where, id, name);
    if (wait) await waitHealthy(mocks, where, id, name, waitTimeout);
  }
  mocks.log(
    `created container ${name}${firstNetwork?.ipv4Address ? ` (${firstNetwork.ipv4Address})` : ""}${wait ? ", healthy" : ""}`,
  );

  const [inspect] = await dockerJson<ContainerInspect>(["container", "inspect", id]);
  if (!inspect) throw new Error(`container ${name} vanished right after creation`);
  const networkSettings = inspect.NetworkSettings.Networks ?? {};
  const networkNames = [...networks.map((network) => network.name), ...Object.keys(networkSettings)].filter(
    (network, index, all) => all.indexOf(network) === index && networkSettings[network] !== undefined,
  );
  const networkDatas = networkNames.map((networkName) => {
    const settings = networkSettings[networkName]!;
    return {
      networkName,
      ipAddress: settings.IPAddress,
      ipPrefixLength: settings.IPPrefixLen,
      gateway: settings.Gateway,
      macAddress: settings.MacAddress,
      globalIpv6Address: settings.GlobalIPv6Address,
      globalIpv6PrefixLength: settings.GlobalIPv6PrefixLen,
      ipv6Gateway: settings.IPv6Gateway,
    };
  });
  return {
    id,
    state: {
      ...raw,
      name,
      image,
      hostname: inspect.Config.Hostname,
      domainname: inspect.Config.Domainname,
      networkDatas,
      restart,
      init,
      mustRun,
      start,
      wait,
      waitTimeout,
      destroyGraceSeconds,
      exitCode: inspect.State.Running ? 0 : inspect.State.ExitCode,
      bridge: "",
    },
  };
}

/** The image's own HEALTHCHECK test (`Config.Healthcheck.Test`), or undefined. */
export async function imageHealthTest(mocks: MockContext, image: string): Promise<string[] | undefined> {
  const text = (await docker(["image", "inspect", "-f", "{{json .Config.Healthcheck}}", image])).trim();
  const healthcheck = JSON.parse(text) as { Test?: string[] } | null;
  return healthcheck?.Test ?? undefined;
}

export async function containerLogs(mocks: MockContext, id: string): Promise<string> {
  const logs = await dockerResult(["logs", "--tail", "50", id]);
  const text = `${logs.stdout}${logs.stderr}`.trimEnd();
  return text === "" ? "(no output)" : text;
}

export async function inspectContainer(mocks: MockContext, id: string): Promise<ContainerInspect> {
  const [inspect] = await dockerJson<ContainerInspect>(["container", "inspect", id]);
  if (!inspect) throw new Error(`docker inspect ${id} returned nothing`);
  return inspect;
}

/** `mustRun`: the provider fails a create whose container is not running once started. */
export async function checkRunning(mocks: MockContext, where: string, id: string, name: string): Promise<void> {
  const inspect = await inspectContainer(mocks, id);
  if (inspect.State.Running) return;
  throw new Error(
    `${where}: container ${name} is not running after start (status ${inspect.State.Status}, exit code ` +
      `${inspect.State.ExitCode}${inspect.State.Error ? `, ${inspect.State.Error}` : ""}). docker logs --tail 50:\n` +
      (await containerLogs(mocks, id)),
  );
}

/** `wait: true`: poll the health state until healthy; fail with health log and container logs. */
export async function waitHealthy(
  mocks: MockContext,
  where: string,
  id: string,
  name: string,
  timeoutSeconds: number,
): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const inspect = await inspectContainer(mocks, id);
    const health = inspect.State.Health;
    if (!health) {
      throw new Error(
        `${where}: \`wait\` is true but container ${name} has no health check (neither \`healthcheck\` nor the image's HEALTHCHECK)`,
      );
    }
    if (health.Status === "healthy") return;
    const exited = !inspect.State.Running;
    if (exited || Date.now() >= deadline) {
      const healthLog = (health.Log ?? [])
        .slice(-5)
        .map((entry) => `  [exit ${entry.ExitCode}] ${entry.Output.trim()}`)
        .join("\n");
      const reason = exited
        ? `exited (status ${inspect.State.Status}, exit code ${inspect.State.ExitCode}) before becoming healthy`
        : `not healthy after ${timeoutSeconds}s (health: ${health.Status})`;
      throw new Error(
        `${where}: container ${name} ${reason}.\nLast health checks:\n${healthLog || "  (none ran)"}\n` +
          `docker logs --tail 50:\n${await containerLogs(mocks, id)}`,
      );
    }
    await sleep(mocks.healthPollMs);
  }
}

// --- command:local:Command --------------------------------------------------------------------

/**
 * Runs a command's `create`, or with `previous` (an in-place update: inputs other than `triggers`
 * changed) its `update`, else `create` again, with the previous outputs in
 * `PULUMI_COMMAND_STDOUT`/`_STDERR` as pulumi-command does.
 */
