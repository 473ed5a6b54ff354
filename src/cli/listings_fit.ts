/**
 * Fitting a table to the terminal: columns that may shrink do, less useful ones go, and what a
 * user copies into the next command (a file ID) is never cut. `--json` has every value in full.
 *
 * @module
 */
import { shortenMiddle } from "./progress_line.ts";

/** One column of a table. */
export interface Column {
  readonly header: string;
  /** The cells, one per row. */
  readonly cells: readonly string[];
  /**
   * Narrowest this column may become, cut with an ellipsis; undefined: never cut.
   * @default {undefined}
   */
  readonly min?: number;
  /**
   * Width it gives way to before any column is dropped.
   * @default {min}
   */
  readonly comfortable?: number;
  /**
   * Order in which columns are dropped when shrinking is not enough (1 goes first); undefined
   * columns stay.
   */
  readonly dropOrder?: number;
  /** Cut in the middle (a file name keeps its extension) instead of at the end. */
  readonly middle?: boolean;
}

const GAP = "  ";

/**
 * Lays out `columns` in at most `width` characters a line (Infinity: as wide as they are), the
 * header first. What still does not fit after every column shrank and went is cut at the end.
 */
export function fitTable(columns: readonly Column[], width: number): string[] {
  let shown = [...columns];
  const widths = new Map<Column, number>(
    columns.map((c) => [c, Math.max(c.header.length, ...c.cells.map((s) => [...s].length))]),
  );
  const total = () =>
    shown.reduce((sum, c) => sum + widths.get(c)!, 0) + GAP.length * (shown.length - 1);
  const shrink = (c: Column, to: number | undefined) => {
    const excess = total() - width;
    if (excess <= 0 || to === undefined || !shown.includes(c)) return;
    const now = widths.get(c)!;
    widths.set(c, Math.min(now, Math.max(to, now - excess)));
  };
  // First the shrinkable columns give way down to a comfortable width, then columns go, then
  // the shrinkable ones give way down to their least.
  for (const c of columns) shrink(c, c.comfortable ?? c.min);
  const droppable = columns.filter((c) => c.dropOrder !== undefined)
    .sort((a, b) => a.dropOrder! - b.dropOrder!);
  for (const c of droppable) {
    if (total() <= width) break;
    shown = shown.filter((s) => s !== c);
  }
  for (const c of columns) shrink(c, c.min);
  const rows = columns[0].cells.map((_, i) => shown.map((c) => c.cells[i]));
  return [shown.map((c) => c.header), ...rows].map((cells) => {
    const line = cells.map((cell, i) => {
      const c = shown[i];
      const w = widths.get(c)!;
      const fitted = [...cell].length <= w
        ? cell
        : c.middle
        ? shortenMiddle(cell, w)
        : cutEnd(cell, w);
      return i === cells.length - 1
        ? fitted
        : fitted.padEnd(w + fitted.length - [...fitted].length);
    }).join(GAP);
    return [...line].length <= width ? line : cutEnd(line, width);
  });
}

/** Cuts `text` to `width` characters, the last being an ellipsis. */
function cutEnd(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  return width <= 0 ? "" : chars.slice(0, width - 1).join("") + "…";
}
