/**
 * Units and tables shared by the benchmarks' reports: sizes and rates the way a person writes
 * them, durations, ratios, and a padded Markdown table. Numbers in, text out.
 *
 * @module
 */

/** Formats a byte count the way a person would write it: `1 GiB`, `4 MiB`, `1.5 GB`, `1000 B`. */
export function formatSize(bytes: number): string {
  const units = [
    ["GiB", 1024 ** 3],
    ["MiB", 1024 ** 2],
    ["KiB", 1024],
    ["GB", 1e9],
    ["MB", 1e6],
    ["kB", 1e3],
  ] as const;
  for (const [unit, factor] of units) {
    const hundredths = (bytes / factor) * 100;
    const exact = Math.abs(hundredths - Math.round(hundredths)) < 1e-6;
    if (exact && hundredths >= 100 && hundredths < 1_000_000) {
      return `${trim(bytes / factor)} ${unit}`;
    }
  }
  return `${bytes} B`;
}

/** Decimal megabytes (10^6 bytes) per second. */
export function megabytesPerSecond(bytes: number, seconds: number): number {
  return bytes / 1e6 / seconds;
}

/** Binary mebibytes (2^20 bytes) per second. */
export function mebibytesPerSecond(bytes: number, seconds: number): number {
  return bytes / 1024 ** 2 / seconds;
}

/** `173 MB/s (165 MiB/s)`: a rate in both units, decimal first. */
export function formatRate(bytes: number, seconds: number): string {
  return `${group(megabytesPerSecond(bytes, seconds))} MB/s (${
    group(mebibytesPerSecond(bytes, seconds))
  } MiB/s)`;
}

/** A duration for the table: whole milliseconds below 1 s, seconds with two decimals above. */
export function formatSeconds(seconds: number): string {
  return seconds < 1 ? `${(seconds * 1000).toFixed(0)} ms` : `${seconds.toFixed(2)} s`;
}

/** A ratio as `1.23×`. */
export function formatRatio(ratio: number): string {
  return `${ratio.toFixed(2)}×`;
}

/** Renders rows as a Markdown table with padded columns; the first row is the header. */
export function markdownTable(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${widths.map((w, i) => (cells[i] ?? "").padEnd(w)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** A whole number with thousands separators, or one decimal below 100. */
function group(value: number): string {
  return value < 100 ? value.toFixed(1) : Math.round(value).toLocaleString("en-US");
}

function trim(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/0+$/, "");
}
