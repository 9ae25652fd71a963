/**
 * The grade as text, Korean by default or English: one line per course step and host (exercise,
 * step, what, host, result, what was observed), a hint line under each failure, then the summary
 * `N passed, M failed`. Columns are padded by display width (a Hangul syllable takes two cells in
 * a terminal), so the table lines up in Korean too. Pure: the same rows give the same text.
 */
import type { GradeRow } from "./steps";

export type Language = "ko" | "en";

const WORDS = {
  ko: {
    exercise: (n: number) => `실습 ${n}`,
    step: (n: number) => `step ${n}`,
    pass: "통과",
    fail: "실패",
    hint: "힌트",
    headings: ["실습", "단계", "항목", "호스트", "결과", "관찰"],
    summary: (passed: number, failed: number) => `${passed} 통과, ${failed} 실패 (${passed} passed, ${failed} failed)`,
  },
  en: {
    exercise: (n: number) => `Lab ${n}`,
    step: (n: number) => `step ${n}`,
    pass: "pass",
    fail: "FAIL",
    hint: "hint",
    headings: ["lab", "step", "what", "host", "result", "observed"],
    summary: (passed: number, failed: number) => `${passed} passed, ${failed} failed`,
  },
} as const;

/** Terminal cells `text` takes: East Asian wide characters (Hangul, CJK, full-width forms) take two. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    const wide =
      (code >= 0x1100 && code <= 0x115f) ||
      (code >= 0x2e80 && code <= 0xa4cf) ||
      (code >= 0xac00 && code <= 0xd7a3) ||
      (code >= 0xf900 && code <= 0xfaff) ||
      (code >= 0xfe30 && code <= 0xfe4f) ||
      (code >= 0xff00 && code <= 0xff60) ||
      (code >= 0xffe0 && code <= 0xffe6);
    width += wide ? 2 : 1;
  }
  return width;
}

const pad = (text: string, width: number) => text + " ".repeat(Math.max(0, width - displayWidth(text)));

/** One line: control characters (a tool's newlines, SMTP's CRs) become single spaces. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
}

export function renderGrade(rows: readonly GradeRow[], language: Language = "ko"): string {
  const words = WORDS[language];
  const cells = rows.map((row) => [
    words.exercise(row.exercise),
    words.step(row.step),
    row.title[language],
    row.host,
    row.verdict.pass ? words.pass : words.fail,
    oneLine(row.verdict.observed),
  ]);
  const widths = words.headings.map((heading, column) =>
    Math.max(displayWidth(heading), ...cells.map((cell) => displayWidth(cell[column]!))),
  );
  const line = (cell: readonly string[]) =>
    cell
      .map((text, column) => (column === cell.length - 1 ? text : pad(text, widths[column]!)))
      .join(" | ")
      .trimEnd();
  const out = [line(words.headings), widths.map((width) => "-".repeat(width)).join("-+-")];
  for (const [index, row] of rows.entries()) {
    out.push(line(cells[index]!));
    if (!row.verdict.pass && row.verdict.hint) out.push(`    -> ${words.hint}: ${oneLine(row.verdict.hint[language])}`);
  }
  const failed = rows.filter((row) => !row.verdict.pass).length;
  out.push(words.summary(rows.length - failed, failed));
  return `${out.join("\n")}\n`;
}
