/**
 * Text formatting for the command line: sizes, ratios and aligned tables.
 */

/** `1234567` -> `'1.18 MiB'`; below 1 KiB in bytes. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** `0.5` -> `'50.0%'`; null -> `'-'`. */
export function formatPercent(fraction: number | null): string {
  return fraction === null ? '-' : `${(fraction * 100).toFixed(1)}%`;
}

/** `before / after` as `'3.92x'`. */
export function formatRatio(before: number, after: number): string {
  return after > 0 ? `${(before / after).toFixed(2)}x` : '-';
}

/** Rows of cells as columns padded to their widest cell; columns listed in `right` are right-aligned. */
export function formatTable(rows: readonly string[][], right: readonly number[] = []): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, c) => { widths[c] = Math.max(widths[c] ?? 0, cell.length); });
  return rows.map((row) => row.map((cell, c) => {
    if (c === row.length - 1 && !right.includes(c)) return cell;
    return right.includes(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]);
  }).join('  ')).join('\n');
}
