/**
 * Resolver settings of every lab host: the lab's name server and the host's own domain, as the
 * course sets `nameserver` in /etc/resolv.conf on every machine.
 */
import type { LabPlan, PlannedHost } from "../plan/plan";
import { generatedHeader, PATHS, type RenderedFile } from "./files";

export function renderResolvConf(plan: LabPlan, host: PlannedHost): string {
  return (
    generatedHeader("#", plan.stack, ["mail-lab:nameServer.address"]) +
    `search ${host.domain}\n` +
    `nameserver ${plan.nameServer.address}\n`
  );
}

export function renderResolvFile(plan: LabPlan, host: PlannedHost): RenderedFile {
  return { path: PATHS.resolvConf, content: renderResolvConf(plan, host) };
}
