/**
 * Writes rendered files to disk as `<dir>/<host key>/<absolute path in the container>`, the layout
 * of `npm run render` and of the golden files.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { LabPlan } from "../plan/plan";
import { renderLab } from "./index";

/** Writes every host's files under `outDir`; returns the paths written, relative to it. */
export function writeRenderedLab(plan: LabPlan, outDir: string): string[] {
  const written: string[] = [];
  for (const { host, files } of renderLab(plan)) {
    for (const file of files) {
      const relative = path.posix.join(host.key, file.path);
      const target = path.join(outDir, relative);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, file.content, { mode: parseInt(file.mode ?? (file.secret ? "0600" : "0644"), 8) });
      written.push(relative);
    }
  }
  return written;
}
