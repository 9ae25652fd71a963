/**
 * The Docker engine the lab is deployed to: the docker provider's own `docker:host` setting
 * (`unix:///run/docker.sock`, `tcp://...`, `ssh://user@server`). Every part of the program that
 * runs the docker CLI itself (the subnet check, the readiness waits, the self-check) must ask that
 * engine, not the machine's default one.
 */
import * as pulumi from "@pulumi/pulumi";

/** `docker:host`, or undefined: then the CLI's own DOCKER_HOST or context applies, as for the provider. */
export function providerDockerHost(): string | undefined {
  return new pulumi.Config("docker").get("host");
}

/** Environment for a command that runs the docker CLI: DOCKER_HOST when `docker:host` is set. */
export function dockerHostEnvironment(): Record<string, string> {
  const host = providerDockerHost();
  return host === undefined ? {} : { DOCKER_HOST: host };
}
