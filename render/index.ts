/**
 * Every file each lab host gets, from the plan. Components upload these; `npm run render` writes
 * them to disk; the golden test pins them. TLS material is not here: it comes from the stack's CA.
 */
import { allHosts, type LabHost, type LabPlan } from "../plan/plan";
import { renderNameServerFiles } from "./bind";
import { renderClientFiles } from "./client";
import { renderDovecotFiles } from "./dovecot";
import type { RenderedFile } from "./files";
import { renderResolvFile } from "./resolv";
import { renderSendmailFiles } from "./sendmail";

export type { RenderedFile } from "./files";

/**
 * The files of one host, in a stable order. An exercise lab's name server and mail hosts get only
 * their resolver: they keep their packages' stock configuration for the students to edit (the
 * configured lab's files, `answerKeyOf(plan)`, are the answer key); its PCs get their presets.
 */
export function renderHostFiles(plan: LabPlan, host: LabHost): RenderedFile[] {
  const files = ((): RenderedFile[] => {
    if (plan.exercise && host.role !== "client") return [];
    switch (host.role) {
      case "name-server":
        return renderNameServerFiles(plan);
      case "mail-host":
        // renderDovecotFiles includes the users file: Dovecot authenticates against those accounts.
        return [...renderSendmailFiles(plan, host), ...renderDovecotFiles(plan, host)];
      case "client":
        return renderClientFiles(plan, host);
      default: {
        const unknown: never = host;
        throw new Error(`no renderer for host ${JSON.stringify(unknown)}`);
      }
    }
  })();
  return [...files, renderResolvFile(plan, host)];
}

/** Every host's files, name server first. */
export function renderLab(plan: LabPlan): { host: LabHost; files: RenderedFile[] }[] {
  return allHosts(plan).map((host) => ({
    host,
    files: renderHostFiles(plan, host),
  }));
}
