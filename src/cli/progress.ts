/**
 * Live transfer progress on stderr.
 *
 * Uses npm `cli-progress`, which works cleanly under Deno's Node compatibility (tested: it
 * renders on a TTY and throttles redraws itself); we only gate it on a terminal and `--quiet`,
 * feed it our own byte and rate formatting, and keep its signal handlers off.
 *
 * @module
 */

// @ts-types="@types/cli-progress"
import cliProgress from "cli-progress";
import { escapeForDisplay } from "../text.ts";

const UPDATE_INTERVAL_MS = 100;

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

/** Options for {@link Progress}. */
export interface ProgressOptions {
  /**
   * Show nothing at all.
   * @default {false}
   */
  quiet?: boolean;
  /**
   * Whether the output is a terminal; without one there is no bar (logs stay clean).
   * @default {() => Deno.stderr.isTerminal()}
   */
  isTerminal?: () => boolean;
  /**
   * Receives the bar's text, escape sequences included.
   * @default {writes to Deno.stderr}
   */
  write?: (text: string) => void;
  /**
   * Terminal width in columns; the bar line is cut to fit.
   * @default {Deno.consoleSize().columns, or 80}
   */
  columns?: number;
}

const ENCODER = new TextEncoder();

function writeStderr(text: string): void {
  let bytes = ENCODER.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(Deno.stderr.writeSync(bytes));
}

function consoleColumns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 80;
  }
}

/** A one-line progress bar on stderr: label, bar, percent, bytes done/total, rate and ETA. */
export class Progress {
  #enabled: boolean;
  #write: (text: string) => void;
  #columns: () => number;
  #bar: cliProgress.SingleBar | undefined;
  #done = 0;
  #lastForward = 0;

  constructor(options: ProgressOptions = {}) {
    const isTerminal = options.isTerminal ?? (() => Deno.stderr.isTerminal());
    this.#enabled = !(options.quiet ?? false) && isTerminal();
    this.#write = options.write ?? writeStderr;
    const columns = options.columns;
    this.#columns = columns === undefined ? consoleColumns : () => columns;
  }

  /** Shows a new bar for `total` bytes; ends any bar still showing. */
  start(label: string, total: number): void {
    this.finish();
    if (!this.#enabled) return;
    // The label can hold a name from the other side: the bar's own escape codes are the only
    // ones that may reach the terminal.
    const shown = escapeForDisplay(label);
    const write = this.#write;
    const columns = this.#columns;
    // cli-progress only needs these members of a Node stream; an adapter keeps the writer
    // injectable so tests never touch the real stderr.
    const stream = {
      isTTY: true,
      get columns(): number {
        return columns();
      },
      write(chunk: string): boolean {
        write(chunk);
        return true;
      },
    };
    this.#bar = new cliProgress.SingleBar({
      stream: stream as unknown as NodeJS.WritableStream,
      // At most ten redraws a second: enough to look live, cheap enough for fast transfers.
      fps: 10,
      barsize: 20,
      // `linewrap: true` makes cli-progress cut the line to the width instead of sending
      // escape codes that turn terminal wrapping off (left off if we crash mid-transfer).
      linewrap: true,
      hideCursor: false,
      // Off: a SIGINT listener in Deno replaces the default handler, so Ctrl-C would not exit.
      gracefulExit: false,
      clearOnComplete: false,
      // Updates reach the bar at most every UPDATE_INTERVAL_MS, so 50 samples are a ~5 s window.
      etaBuffer: 50,
      format: (options, params) => {
        const bar = formatBarCells(params.progress, options.barsize ?? 20);
        const elapsed = (Date.now() - params.startTime) / 1000;
        const rate = elapsed > 0 ? params.value / elapsed : 0;
        // Before the first sample cli-progress reports an ETA of "0"; unknown reads better.
        const eta = params.value > 0 ? formatDuration(Number(params.eta)) : "--";
        const pct = Math.floor(Math.min(1, Math.max(0, params.progress)) * 100);
        return `${shown} [${bar}] ${String(pct).padStart(3)}% ` +
          `${formatBytes(params.value)}/${formatBytes(params.total)} ` +
          `${formatRate(rate)} ETA ${eta}`;
      },
    });
    this.#done = 0;
    this.#lastForward = Date.now();
    this.#bar.start(total, 0);
  }

  /** Records that `doneBytes` of the total are done; the bar redraws on its own schedule. */
  update(doneBytes: number): void {
    if (this.#bar === undefined) return;
    this.#done = doneBytes;
    // Callers update once per chunk, thousands of times a second on a fast link; cli-progress
    // estimates the ETA from its last N samples, which would then span only milliseconds.
    const now = Date.now();
    if (now - this.#lastForward < UPDATE_INTERVAL_MS) return;
    this.#lastForward = now;
    this.#bar.update(doneBytes);
  }

  /** Draws the final state and moves to the next line; safe to call more than once. */
  finish(): void {
    const bar = this.#bar;
    if (bar === undefined) return;
    this.#bar = undefined;
    bar.update(this.#done);
    // stop() draws the final state and ends the line.
    bar.stop();
  }
}

/** Draws the bar cells for a fraction in [0, 1]. */
function formatBarCells(fraction: number, size: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * size);
  return "#".repeat(filled) + "-".repeat(size - filled);
}
