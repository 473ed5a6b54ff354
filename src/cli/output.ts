/**
 * Everything sfs prints, except the progress bar (progress.ts), goes through {@link Output}, so
 * `--json`, `--quiet` and `--debug` behave the same in every command.
 *
 * Streams:
 * - stdout carries results only: human text from {@link Output.info} or, with `--json`, one JSON
 *   object per line from {@link Output.event}. Scripts can parse it without filtering chatter.
 * - stderr carries everything meant for the person at the terminal: notes, warnings, errors,
 *   debug lines and the progress bar.
 *
 * `--quiet` silences only optional chatter on stderr (notes and the progress bar). It never hides
 * results, warnings or errors: `sfs send --quiet` must still print the ticket or it is useless.
 *
 * @module
 */

import { codeInfo, type ErrorCategory, type ErrorCode, type Remedy, SfsError } from "../errors.ts";
import { fromOsError } from "../os_error.ts";
import { escapeForDisplay } from "../text.ts";

/** Where output goes; `Deno.stdout` and `Deno.stderr` satisfy it. */
export interface Sink {
  /** Writes some of `p` and returns how many bytes were written. */
  writeSync(p: Uint8Array): number;
}

/**
 * Lines drawn live at the bottom of stderr (the progress board): Output erases them before it
 * prints on stderr and draws them again after, so what it prints goes above them.
 */
export interface LiveArea {
  /** Erases the live lines. */
  clear(): void;
  /** Draws the live lines again. */
  redraw(): void;
}

/** Options for {@link Output}. */
export interface OutputOptions {
  /** Print machine-readable JSON lines instead of human text. */
  json: boolean;
  /** Silence notes and the progress bar (results, warnings and errors still print). */
  quiet: boolean;
  /** Print debug lines and stack traces. */
  debug: boolean;
  /**
   * Results go here.
   * @default {Deno.stdout}
   */
  stdout?: Sink;
  /**
   * Notes, warnings and errors go here.
   * @default {Deno.stderr}
   */
  stderr?: Sink;
}

/** A JSON-encodable value for {@link Output.event} fields. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue | undefined };

/**
 * Process exit codes: scripts branch on these, so they are part of the CLI's interface.
 *
 * | code | meaning                                                              |
 * | ---- | -------------------------------------------------------------------- |
 * | 0    | success                                                              |
 * | 1    | any other error                                                      |
 * | 2    | usage: bad arguments or options, or a prompt that could not be asked |
 * | 3    | verification failed: the data or a key is not what was promised      |
 * | 4    | network: could not connect, connection lost, or timed out            |
 * | 130  | interrupted by SIGINT or SIGTERM (what was verified is kept)          |
 */
export const ExitCode = {
  OK: 0,
  ERROR: 1,
  USAGE: 2,
  VERIFY: 3,
  NETWORK: 4,
  INTERRUPTED: 130,
} as const;

/** One of the {@link ExitCode} values. */
export type ExitCode = typeof ExitCode[keyof typeof ExitCode];

// Verification failures get their own exit code because a script must never mistake a tampered or
// corrupt transfer for a flaky network and simply retry into accepting it.
const EXIT_CODES: { readonly [C in ErrorCategory]: ExitCode } = {
  usage: ExitCode.USAGE,
  verification: ExitCode.VERIFY,
  network: ExitCode.NETWORK,
  interrupted: ExitCode.INTERRUPTED,
  other: ExitCode.ERROR,
};

/** Returns the process exit code for an error code (see the table on {@link ExitCode}). */
export function exitCodeFor(code: ErrorCode): ExitCode {
  return EXIT_CODES[codeInfo(code).category];
}

/**
 * Turns anything thrown into an SfsError with a stable code; unknown errors become INTERNAL.
 *
 * The original error is kept as `cause`, so `--debug` can still show where it came from.
 */
export function toSfsError(err: unknown): SfsError {
  if (err instanceof Deno.errors.NotCapable) {
    // A missing Deno permission is a packaging bug in sfs, not something the user did wrong.
    return new SfsError("INTERNAL", err.message, {
      cause: err,
      hint:
        "Run sfs through `deno task sfs` or a released binary, which grant the needed permissions",
    });
  }
  const known = fromOsError(err);
  if (known !== undefined) return known;
  if (err instanceof Error) {
    return new SfsError("INTERNAL", err.message || err.name, { cause: err });
  }
  return new SfsError("INTERNAL", `Unexpected error: ${String(err)}`, { cause: err });
}

/** Each {@link Remedy} in the CLI's words: the options a user of `sfs` has. */
const REMEDY_HINTS: { readonly [R in Remedy]: string } = {
  "fewer-signatures": "The sender signs with fewer algorithms than --require asks for",
  "replace-or-elsewhere": "Use --force to replace it, or --out to save elsewhere",
  "wait-or-elsewhere":
    "Wait for it to finish (it resumes where it stopped), or save elsewhere with --out",
  "give-passphrase": "Set SFS_PASSPHRASE or run on a terminal to be asked",
};

/** The hint printed for `err`: the CLI's words for its remedy, else its own hint. */
export function hintFor(err: SfsError): string | undefined {
  return err.remedy === undefined ? err.hint : REMEDY_HINTS[err.remedy];
}

const ENCODER = new TextEncoder();

/**
 * Human text for a terminal: each line with its refused characters escaped (src/text.ts), so a
 * name or message from someone else cannot move the cursor, retitle the window, write the
 * clipboard or flip what follows. Line breaks between lines are ours and stay.
 */
function forTerminal(text: string): string {
  return text.split("\n").map((line) => escapeForDisplay(line)).join("\n");
}

/**
 * A JSON line with every refused character written as a `\uXXXX` escape: the same JSON value,
 * but nothing a terminal acts on (JSON.stringify leaves DEL, C1 and bidi characters raw).
 */
function jsonLine(value: unknown): string {
  return escapeForDisplay(JSON.stringify(value), { json: true }) + "\n";
}

/** Writes all of `text`; `writeSync` may write only part of a buffer. */
function writeAll(sink: Sink, text: string): void {
  let bytes = ENCODER.encode(text);
  while (bytes.length > 0) {
    const n = sink.writeSync(bytes);
    bytes = bytes.subarray(n);
  }
}

/** Formats an error's stack, followed by the stacks of its causes. */
function stackOf(err: unknown): string {
  const parts: string[] = [];
  // Depth limit: a cause chain can be cyclic.
  for (let e = err, depth = 0; e !== undefined && depth < 8; depth++) {
    parts.push(e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join("\nCaused by: ");
}

/** The CLI's printer: human text or JSON lines on stdout, diagnostics on stderr. */
export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly debugEnabled: boolean;
  #stdout: Sink;
  #stderr: Sink;
  #live: LiveArea | undefined;

  constructor(options: OutputOptions) {
    this.json = options.json;
    this.quiet = options.quiet;
    this.debugEnabled = options.debug;
    this.#stdout = options.stdout ?? Deno.stdout;
    this.#stderr = options.stderr ?? Deno.stderr;
  }

  /** Prints on stderr above `live` from now on (see {@link LiveArea}). */
  attachLive(live: LiveArea): void {
    this.#live = live;
  }

  /** Writes `text` on stderr, above the live lines if any. */
  #toStderr(text: string): void {
    this.#live?.clear();
    writeAll(this.#stderr, text);
    this.#live?.redraw();
  }

  /**
   * Prints `{"event":name,...fields}` as one line on stdout in JSON mode; does nothing otherwise.
   *
   * Commands call both `event()` and `info()` for each result, so each mode gets its own form.
   */
  event(name: string, fields: Record<string, JsonValue | undefined> = {}): void {
    if (!this.json) return;
    // `event` goes first because people read these logs too; a field cannot override it.
    const { event: _ignored, ...rest } = fields;
    writeAll(this.#stdout, jsonLine({ event: name, ...rest }));
  }

  /**
   * Prints `value` as one JSON line on stdout in JSON mode (a result that is not an event, such
   * as the array `sfs search --json` prints); does nothing otherwise.
   */
  result(value: JsonValue): void {
    if (!this.json) return;
    writeAll(this.#stdout, jsonLine(value));
  }

  /**
   * Widest a result line may be: one less than the terminal's width (a character in the last
   * column makes some terminals wrap), unlimited when stdout is not a terminal, so a pipe gets
   * every value whole.
   */
  resultWidth(): number {
    if (this.#stdout !== Deno.stdout || !Deno.stdout.isTerminal()) return Infinity;
    try {
      return (Deno.consoleSize().columns || 80) - 1;
    } catch {
      return 79;
    }
  }

  /** Prints a human-readable result line on stdout; does nothing in JSON mode. */
  info(text: string): void {
    if (this.json) return;
    writeAll(this.#stdout, forTerminal(text) + "\n");
  }

  /** Prints optional chatter (`Listening on …`) on stderr, unless quiet. */
  note(text: string): void {
    if (this.quiet) return;
    this.#toStderr(forTerminal(text) + "\n");
  }

  /** Prints `sfs: warning: …` (then `sfs: hint: …`) on stderr; warnings are never silenced. */
  warn(text: string, options: { hint?: string } = {}): void {
    this.#toStderr(`sfs: warning: ${forTerminal(text)}\n`);
    if (options.hint !== undefined) {
      this.#toStderr(`sfs: hint: ${forTerminal(options.hint)}\n`);
    }
  }

  /** Prints `sfs: debug: …` on stderr when debugging. */
  debug(text: string): void {
    if (!this.debugEnabled) return;
    this.#toStderr(`sfs: debug: ${forTerminal(text)}\n`);
  }

  /**
   * Reports a failure on stderr and returns its SfsError, so the caller can pick the exit code.
   *
   * Human mode prints `sfs: error: …` and `sfs: hint: …`; JSON mode prints one line
   * `{"error":{"code":…,"message":…,"hint":…}}` instead. Stack traces only with `--debug`.
   */
  error(err: unknown): SfsError {
    const e = toSfsError(err);
    const hint = hintFor(e);
    if (this.json) {
      const body = { code: e.code, message: e.message, hint };
      this.#toStderr(jsonLine({ error: body }));
    } else {
      this.#toStderr(`sfs: error: ${forTerminal(e.message)}\n`);
      if (hint !== undefined) this.#toStderr(`sfs: hint: ${forTerminal(hint)}\n`);
    }
    if (this.debugEnabled) this.#toStderr(forTerminal(stackOf(e)) + "\n");
    return e;
  }
}
