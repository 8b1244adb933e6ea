// Plain-text tables for the terminal: fixed columns, long cells cut with "…".

export function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  maxWidths: readonly number[] = [],
): string {
  const cut = (text: string, width: number | undefined) =>
    width !== undefined && text.length > width ? `${text.slice(0, width - 1)}…` : text;
  const cells = rows.map((row) => row.map((cell, column) => cut(cell, maxWidths[column])));
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...cells.map((row) => (row[column] ?? "").length)),
  );
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((width) => "-".repeat(width))), ...cells.map(line)].join("\n");
}

export function utc(iso: string): string {
  return `${iso.slice(0, 16).replace("T", " ")} UTC`;
}
