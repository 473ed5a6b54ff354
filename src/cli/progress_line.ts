/**
 * The text of one progress line, fitted to the terminal: the numbers (percent, bytes, rate, ETA)
 * always show, the bar narrows, and the name is shortened in the middle, so on an 80-column
 * terminal a long file name never hides how far the transfer is.
 *
 * @module
 */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"] as const;

/** Formats a byte count in binary units: `0 B`, `1023 B`, `1.0 KiB`, `12.3 MiB`. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "? B";
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  // Rounding 1023.96 KiB to one decimal would print "1024.0 KiB"; carry into the next unit.
  if (Number(value.toFixed(1)) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** Formats a transfer rate: `0 B/s`, `1.5 MiB/s`. */
export function formatRate(bytesPerSec: number): string {
  return `${formatBytes(bytesPerSec)}/s`;
}

/** Formats a duration in whole seconds as `42s`, `3m05s` or `2h07m`; unknown is `--`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Shortens `text` to `width` characters by cutting its middle: `very-long…name.tar.gz`. */
export function shortenMiddle(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= 0) return "";
  if (width === 1) return "…";
  // More of the end than the start: a name's end (its extension, a version) tells files apart.
  const head = Math.floor((width - 1) / 2);
  const tail = width - 1 - head;
  return chars.slice(0, head).join("") + "…" + chars.slice(chars.length - tail).join("");
}

/** What one progress line shows. */
export interface LineState {
  /** Display-safe label (the caller escapes anything from elsewhere). */
  readonly label: string;
  readonly done: number;
  readonly total: number;
  /** Bytes a second over this run only; undefined before there is a measure. */
  readonly rate?: number;
  /** Files done and in all, for a share of several files (a folder). */
  readonly files?: { readonly done: number; readonly total: number };
}

/** Widest bar, in cells; it narrows before the name is cut below {@link MIN_LABEL}. */
const BAR_CELLS = 20;
/** The bar keeps this many cells before the name is cut. */
const BAR_MIN = 10;
/** Narrowest name kept while the bar can still give way. */
const MIN_LABEL = 12;

/**
 * Lays out `label [bar] pct% done/total [n/m files] rate ETA eta` in at most `columns - 1` characters (the
 * last column is left empty: a character there makes some terminals wrap, and a wrapped line
 * breaks the redraw of the lines above).
 */
export function formatLine(state: LineState, columns: number): string {
  const width = Math.max(1, columns - 1);
  const fraction = state.total > 0 ? Math.min(1, Math.max(0, state.done / state.total)) : 1;
  const pct = String(Math.floor(fraction * 100)).padStart(3);
  const rate = state.rate === undefined ? "--/s" : formatRate(state.rate);
  const left = state.total - state.done;
  const eta = state.rate === undefined || state.rate <= 0
    ? (left <= 0 ? "0s" : "--")
    : formatDuration(left / state.rate);
  const files = state.files ? ` ${state.files.done}/${state.files.total} files` : "";
  const numbers = `${pct}% ${formatBytes(state.done)}/${
    formatBytes(state.total)
  }${files} ${rate} ETA ${eta}`;
  const labelLength = [...state.label].length;
  // Room for the label and the bar: the bar gives way to BAR_MIN cells before the name is cut,
  // then further (to nothing) before the name is cut below MIN_LABEL.
  const room = width - numbers.length - 1;
  let cells = Math.min(BAR_CELLS, Math.max(BAR_MIN, room - labelLength - 3));
  if (room - (cells + 3) < MIN_LABEL) cells = room - 3 - MIN_LABEL;
  const bar = cells >= 5 ? ` [${barCells(fraction, cells)}]` : "";
  const labelWidth = room - bar.length;
  if (labelWidth < 1) return [...numbers].slice(0, width).join("");
  return `${shortenMiddle(state.label, labelWidth)}${bar} ${numbers}`;
}

/** Draws `size` bar cells for a fraction in [0, 1]. */
function barCells(fraction: number, size: number): string {
  const filled = Math.round(fraction * size);
  return "#".repeat(filled) + "-".repeat(size - filled);
}
