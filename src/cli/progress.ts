/**
 * Live progress on stderr: one line per transfer in flight (a sender serving two receivers shows
 * two lines, each with its own bytes), redrawn in place a few times a second, and `progress`
 * events for `--json`.
 *
 * The lines are drawn as one block under everything else: a note or warning printed meanwhile
 * (through Output, which calls {@link ProgressBoard.clear} and {@link ProgressBoard.redraw})
 * goes above the block, so a failed transfer never leaves a stale bar above its warning. A
 * finished transfer's last line stays in the scrollback; a failed one's is removed.
 *
 * Drawn by hand rather than with a progress-bar package: several bars, lines that come and go
 * in any order and text printed above them while they run is the whole job here, and a line of
 * ours must never wrap (the redraw counts lines).
 *
 * @module
 */

import type { JsonValue, LiveArea, Output } from "./output.ts";
import { escapeForDisplay } from "../text.ts";
import { formatLine } from "./progress_line.ts";
import { writeStderr } from "./prompt.ts";

export { formatBytes, formatDuration, formatRate } from "./progress_line.ts";

/** Least time between two redraws on an update: ten a second look live and cost little. */
const DRAW_INTERVAL_MS = 100;
/** A redraw this often without updates keeps a stalled transfer's rate and ETA honest. */
const TICK_MS = 500;
/** Least time between two `progress` events of one line: a few a second are enough for scripts. */
const EVENT_INTERVAL_MS = 250;
/** The rate is measured over about this much of the recent past. */
const RATE_WINDOW_MS = 5000;

/** Options for {@link ProgressBoard}. */
export interface ProgressOptions {
  /**
   * Draw nothing (events are still sent).
   * @default {false}
   */
  quiet?: boolean;
  /**
   * Whether stderr is a terminal; without one nothing is drawn (logs stay clean).
   * @default {() => Deno.stderr.isTerminal()}
   */
  isTerminal?: () => boolean;
  /**
   * Receives the drawn text, escape sequences included.
   * @default {writes to Deno.stderr}
   */
  write?: (text: string) => void;
  /**
   * Terminal width in columns; each line is fitted to it.
   * @default {Deno.consoleSize().columns, or 80}
   */
  columns?: number;
  /**
   * Receives each line's `progress` event (`--json`), at most four a second per line.
   * @default {none}
   */
  onEvent?: (fields: Record<string, JsonValue | undefined>) => void;
  /**
   * The clock, in milliseconds.
   * @default {() => performance.now()}
   */
  now?: () => number;
}

/** What a new line shows. */
export interface RowOptions {
  /** The line's name: a file name, or who receives (an index username, an address). */
  label: string;
  /** Bytes in all. */
  total: number;
  /**
   * Bytes already there when this run started (a resumed download): shown as done, but not
   * counted in the rate.
   * @default {0}
   */
  from?: number;
  /** Extra fields for the line's `progress` events (a peer, a file name, a phase). */
  fields?: Record<string, JsonValue | undefined>;
  /**
   * Files in the share, for a folder: the line then shows files done of this many, and its
   * events carry `files` and `files_total`.
   * @default {none}
   */
  files?: number;
}

/** One line of the board. */
export interface ProgressRow {
  /**
   * Records that `done` bytes of the total are done; redraws at most ten times a second. For a
   * folder, `folder` says how many files are done and which one is being received (shown after
   * the label, escaped like it).
   */
  update(done: number, folder?: { filesDone: number; current?: string }): void;
  /** Draws the final state as a lasting line and takes the line off the board. */
  finish(): void;
  /** Takes the line off the board without a trace (a failure, whose warning says the rest). */
  remove(): void;
}

function consoleColumns(): number {
  try {
    // A terminal that reports no size (some pseudo-terminals) gets the classic width.
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}

/** A line's state: what it shows and the samples its rate comes from. */
interface Row {
  readonly label: string;
  /** The file of a folder being received, escaped, shown after the label. */
  current?: string;
  readonly total: number;
  readonly fields: Record<string, JsonValue | undefined>;
  done: number;
  /** Files done and in all, for a folder. */
  files?: { done: number; total: number };
  /** (time, bytes) samples over the last RATE_WINDOW_MS, oldest first. */
  samples: Array<{ at: number; done: number }>;
  lastEvent: number;
}

/** The block of progress lines at the bottom of stderr. */
export class ProgressBoard implements LiveArea {
  readonly #draws: boolean;
  readonly #write: (text: string) => void;
  readonly #columns: () => number;
  readonly #onEvent?: (fields: Record<string, JsonValue | undefined>) => void;
  readonly #now: () => number;
  readonly #rows: Row[] = [];
  /** Lines currently drawn; the cursor sits at the start of the line below them. */
  #drawn = 0;
  #lastDraw = -Infinity;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: ProgressOptions = {}) {
    const isTerminal = options.isTerminal ?? (() => Deno.stderr.isTerminal());
    this.#draws = !(options.quiet ?? false) && isTerminal();
    this.#write = options.write ?? writeStderr;
    const columns = options.columns;
    this.#columns = columns === undefined ? consoleColumns : () => columns;
    this.#onEvent = options.onEvent;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Adds a line at the bottom of the block and returns its handle. */
  add(options: RowOptions): ProgressRow {
    const now = this.#now();
    const from = options.from ?? 0;
    const row: Row = {
      // The label can hold a name from the other side: only our own escape codes may reach
      // the terminal.
      label: escapeForDisplay(options.label),
      total: options.total,
      fields: options.fields ?? {},
      done: from,
      ...(options.files !== undefined ? { files: { done: 0, total: options.files } } : {}),
      samples: [{ at: now, done: from }],
      lastEvent: -Infinity,
    };
    this.#rows.push(row);
    this.#event(row, now);
    this.#startTicking();
    this.#draw(now);
    let open = true;
    return {
      update: (done, folder) => {
        if (!open) return;
        if (row.files && folder !== undefined) {
          row.files.done = folder.filesDone;
          row.current = folder.current === undefined ? undefined : escapeForDisplay(folder.current);
        }
        this.#update(row, done);
      },
      finish: () => {
        if (!open) return;
        open = false;
        this.#finish(row);
      },
      remove: () => {
        if (!open) return;
        open = false;
        this.#take(row);
        this.#draw(this.#now());
      },
    };
  }

  /** Erases the drawn lines, so that text can be printed where they were. */
  clear(): void {
    if (this.#drawn === 0) return;
    // Up to the first drawn line, then erase from there to the end of the screen.
    this.#write(`\x1b[${this.#drawn}F\x1b[J`);
    this.#drawn = 0;
  }

  /** Draws the lines again below whatever was printed since {@link clear}. */
  redraw(): void {
    this.#draw(this.#now());
  }

  /** Finishes every line still showing. */
  close(): void {
    for (const row of [...this.#rows]) this.#finish(row);
  }

  #update(row: Row, done: number): void {
    row.done = done;
    const now = this.#now();
    const last = row.samples[row.samples.length - 1];
    if (now - last.at >= DRAW_INTERVAL_MS) {
      row.samples.push({ at: now, done });
      // Keep one sample older than the window, so the window is always covered.
      while (row.samples.length > 2 && now - row.samples[1].at >= RATE_WINDOW_MS) {
        row.samples.shift();
      }
    }
    this.#event(row, now);
    if (now - this.#lastDraw >= DRAW_INTERVAL_MS) this.#draw(now);
  }

  #finish(row: Row): void {
    const now = this.#now();
    row.current = undefined;
    row.samples.push({ at: now, done: row.done });
    this.#take(row);
    row.lastEvent = -Infinity;
    this.#event(row, now);
    if (this.#draws) {
      // The finished line goes above the block, where it stays.
      this.clear();
      this.#write(this.#lineOf(row) + "\n");
    }
    this.#draw(now);
  }

  #take(row: Row): void {
    const index = this.#rows.indexOf(row);
    if (index >= 0) this.#rows.splice(index, 1);
    if (this.#rows.length === 0) this.#stopTicking();
  }

  #event(row: Row, now: number): void {
    if (this.#onEvent === undefined || now - row.lastEvent < EVENT_INTERVAL_MS) return;
    row.lastEvent = now;
    const files = row.files ? { files: row.files.done, files_total: row.files.total } : {};
    this.#onEvent({ ...row.fields, bytes: row.done, total: row.total, ...files });
  }

  #draw(now: number): void {
    if (!this.#draws) return;
    this.#lastDraw = now;
    if (this.#rows.length === 0 && this.#drawn === 0) return;
    const lines = this.#rows.map((row) => this.#lineOf(row));
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}F` : "";
    // Each line is cleared as it is drawn, and anything below the new block (a line that went)
    // is erased, so no stale text is left in between.
    const body = lines.map((line) => `\x1b[2K${line}\n`).join("");
    this.#write(`${up}${body}\x1b[J`);
    this.#drawn = lines.length;
  }

  #lineOf(row: Row): string {
    return formatLine(
      {
        label: row.current === undefined ? row.label : `${row.label}/${row.current}`,
        done: row.done,
        total: row.total,
        rate: rateOf(row, this.#now()),
        ...(row.files ? { files: row.files } : {}),
      },
      this.#columns(),
    );
  }

  #startTicking(): void {
    if (!this.#draws || this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#draw(this.#now()), TICK_MS);
    // Never what keeps the process alive.
    Deno.unrefTimer(this.#timer);
  }

  #stopTicking(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** Bytes a second from the oldest recent sample of this run to now; undefined at first. */
function rateOf(row: Row, now: number): number | undefined {
  const first = row.samples[0];
  const seconds = (now - first.at) / 1000;
  return seconds > 0 ? (row.done - first.done) / seconds : undefined;
}

/**
 * The board for a command's output: drawn on a terminal unless `--quiet` or `--json`, sending
 * `progress` events with `--json`, and attached to `out` so notes and warnings print above it.
 */
export function progressFor(out: Output, options: ProgressOptions = {}): ProgressBoard {
  const board = new ProgressBoard({
    quiet: out.quiet || out.json,
    onEvent: out.json ? (fields) => out.event("progress", fields) : undefined,
    ...options,
  });
  out.attachLive(board);
  return board;
}
