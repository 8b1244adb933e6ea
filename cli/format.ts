// Plain-text tables for the terminal: long cells are cut with "…" (the full data is in --json). Every cell is shown
// with control characters escaped (terminalText), whoever built it.
import { terminalText } from "./terminal.ts";

/** The narrowest a column is squeezed to when the table must fit a terminal. */
const MIN_COLUMN = 6;
const GAP = 2;

export const CUT_MARK = "…";

/**
 * Columns as wide as their widest cell, each capped at `maxWidths[column]`; with `width` (the terminal's columns),
 * the widest columns are narrowed until every line fits, never below MIN_COLUMN (or the header, if shorter).
 */
export function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  maxWidths: readonly (number | undefined)[] = [],
  width?: number,
): string {
  const safeRows = rows.map((row) => row.map(terminalText));
  const natural = headers.map((header, column) => {
    const widest = Math.max(header.length, ...safeRows.map((row) => (row[column] ?? "").length));
    const cap = maxWidths[column];
    return cap === undefined ? widest : Math.min(widest, Math.max(cap, header.length));
  });
  const widths = width === undefined ? natural : fitWidths(natural, headers, width);
  const cut = (text: string, columnWidth: number) =>
    text.length > columnWidth ? `${text.slice(0, Math.max(columnWidth - 1, 0))}${CUT_MARK}` : text;
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) => {
        const shown = cut(cell, widths[column]!);
        return column === row.length - 1 ? shown : shown.padEnd(widths[column]!);
      })
      .join(" ".repeat(GAP))
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...safeRows.map(line)].join("\n");
}

/** Narrows the widest column, one character at a time, until the table fits (or nothing can be narrowed). */
function fitWidths(natural: readonly number[], headers: readonly string[], width: number): number[] {
  const widths = [...natural];
  const floor = headers.map((header, column) => Math.min(natural[column]!, Math.max(MIN_COLUMN, header.length)));
  const total = () => widths.reduce((sum, w) => sum + w, 0) + GAP * (widths.length - 1);
  while (total() > width) {
    let widest = -1;
    for (let column = 0; column < widths.length; column++) {
      if (widths[column]! > floor[column]! && (widest === -1 || widths[column]! > widths[widest]!)) widest = column;
    }
    if (widest === -1) break;
    widths[widest]!--;
  }
  return widths;
}

export function utc(iso: string): string {
  return `${iso.slice(0, 16).replace("T", " ")} UTC`;
}

/** "1 resource", "2 resources": counts in sentences. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
