/**
 * How `pulumi up` waits for a lab host: by running the image's own healthcheck inside the container
 * every quarter of a second until it passes, instead of waiting for Docker's health status.
 *
 * Why not the docker provider's `wait: true`: Docker runs a healthcheck only every `interval`
 * (Docker >= 25 also has a shorter `start_interval` for the start period; older engines, such as
 * Debian 12's 20.10, have none), so a host that serves after 2 s is reported healthy after the
 * first interval, and the three tiers of a lab (name server, mail hosts, clients) each wait for
 * one. A short interval would make that fast, but it runs the check (four TCP dialogues on a mail
 * host, each logged by Sendmail) in every idle lab forever. So Docker's interval stays slow, for
 * the restart policy and `docker ps`, and the deploy polls during start only.
 */
import * as command from "@pulumi/command";
import type * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import { dockerHostEnvironment } from "./docker-host";

/** How long `pulumi up` waits for a host to pass its healthcheck before it fails. */
export const READY_TIMEOUT_SECONDS = 180;

/**
 * POSIX sh, run on the machine that runs `pulumi up` (it has the docker CLI: the self-check needs
 * it too). A container that stopped or is being restarted by its restart policy has failed its
 * start (an entry point exits on a bad config file): that fails at once with its last log lines.
 */
export const WAIT_UNTIL_READY = `set -u
deadline=$(( $(date +%s) + READY_TIMEOUT ))
while :; do
  if out=$(docker exec "$CONTAINER" /usr/local/bin/healthcheck 2>&1); then exit 0; fi
  state=$(docker inspect -f '{{.State.Status}} {{.RestartCount}}' "$CONTAINER" 2>&1) || state="missing: $state"
  case $state in
    "running 0" | "created 0") ;;
    *)
      echo "$CONTAINER did not start (state: $state); its last log lines:" >&2
      docker logs --tail 30 "$CONTAINER" >&2 2>&1
      exit 1
      ;;
  esac
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "$CONTAINER did not pass /usr/local/bin/healthcheck within $READY_TIMEOUT s: $out" >&2
    exit 1
  fi
  sleep 0.25
done`;

/**
 * A command that completes once `container` passes its image's healthcheck; resources that need
 * the host serving depend on it. It runs again whenever the container is replaced (its id).
 */
export function waitUntilReady(
  name: string,
  container: docker.Container,
  parent: pulumi.Resource,
): command.local.Command {
  return new command.local.Command(
    `${name}-ready`,
    {
      create: WAIT_UNTIL_READY,
      environment: {
        CONTAINER: container.name,
        READY_TIMEOUT: String(READY_TIMEOUT_SECONDS),
        // The engine the provider deploys to (`docker:host`), not the machine's default one.
        ...dockerHostEnvironment(),
      },
      triggers: [container.id],
      logging: "stderr",
    },
    { parent, dependsOn: [container] },
  );
}
