/**
 * The check report as a fixed-width text table (check | result | detail), pure: the same results
 * always give the same text. Long details wrap onto continuation rows within `detailWidth`, so
 * the table reads the same in a terminal, in `pulumi up`'s output and in a CI log.
 */
import type { CheckResult } from "./judge";

export interface TableOptions {
  /** Widest a detail cell gets before it wraps. Default 80. */
  readonly detailWidth?: number;
}

const HEADER = { check: "check", result: "result", detail: "detail" } as const;

/** One line of text: control characters (newlines, tabs, CRs from SMTP) become single spaces. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
}

/** Splits text into lines of at most `width`, at spaces where it can, mid-word where it must. */
export function wrap(text: string, width: number): string[] {
  if (width < 1) throw new Error(`wrap: width must be at least 1, got ${width}`);
  const lines: string[] = [];
  let rest = oneLine(text);
  while (rest.length > width) {
    const space = rest.lastIndexOf(" ", width);
    const cut = space > 0 ? space : width;
    lines.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  lines.push(rest);
  return lines;
}

/** The table, then a summary line; ends with a newline. */
export function renderTable(results: readonly CheckResult[], options: TableOptions = {}): string {
  const detailWidth = options.detailWidth ?? 80;
  const rows = results.map((result) => ({
    check: oneLine(result.check),
    result: result.result,
    detail: wrap(result.detail, detailWidth),
  }));
  const checkWidth = Math.max(HEADER.check.length, ...rows.map((row) => row.check.length));
  const resultWidth = Math.max(HEADER.result.length, ...rows.map((row) => row.result.length));
  const contentWidth = Math.max(HEADER.detail.length, ...rows.flatMap((row) => row.detail.map((line) => line.length)));
  const line = (check: string, result: string, detail: string) =>
    `${check.padEnd(checkWidth)} | ${result.padEnd(resultWidth)} | ${detail}`.trimEnd();
  const out = [
    line(HEADER.check, HEADER.result, HEADER.detail),
    `${"-".repeat(checkWidth)}-+-${"-".repeat(resultWidth)}-+-${"-".repeat(contentWidth)}`,
  ];
  for (const row of rows) {
    const [first = "", ...more] = row.detail;
    out.push(line(row.check, row.result, first));
    for (const continuation of more) out.push(line("", "", continuation));
  }
  const failed = results.filter((result) => result.result === "fail").length;
  out.push(
    results.length === 0
      ? "no checks: the lab has no client to run them from"
      : `${results.length} checks: ${results.length - failed} passed, ${failed} failed`,
  );
  return `${out.join("\n")}\n`;
}
