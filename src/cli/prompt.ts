/**
 * Questions asked on the terminal: passphrases without echo, and yes/no confirmations.
 *
 * Prompts are written to stderr so stdout keeps carrying results only.
 *
 * @module
 */

import { SfsError } from "../errors.ts";
import { escapeForDisplay } from "../text.ts";

/** The parts of `Deno.stdin` a prompt needs; tests pass a scripted fake. */
export interface TerminalInput {
  /** True when input comes from a terminal, so a person can answer. */
  isTerminal(): boolean;
  /** Turns raw mode (no echo, no line editing, Ctrl-C as a byte) on or off. */
  setRaw(mode: boolean): void;
  /** Reads into `p`; resolves to the byte count, or null at end of input. */
  read(p: Uint8Array): Promise<number | null>;
}

/** Options for {@link readSecret} and {@link confirm}. */
export interface PromptOptions {
  /**
   * Where answers come from.
   * @default {Deno.stdin}
   */
  stdin?: TerminalInput;
  /**
   * Where the question goes.
   * @default {writes to Deno.stderr}
   */
  write?: (text: string) => void;
  /**
   * The hint shown when input is not a terminal (`readSecret` only), e.g. naming an env var.
   * @default {"Run the command in a terminal to be asked"}
   */
  hint?: string;
}

// Long enough for any passphrase; bounds memory if something pipes garbage into a raw terminal.
const MAX_SECRET_CHARS = 4096;
const MAX_LINE_BYTES = 1024;

const ENCODER = new TextEncoder();

/** Writes `text` to stderr, all of it (prompts and their follow-ups go there). */
export function writeStderr(text: string): void {
  let bytes = ENCODER.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(Deno.stderr.writeSync(bytes));
}

function cancelled(): SfsError {
  return new SfsError("USAGE", "Cancelled");
}

/**
 * Asks for a secret on the terminal without echoing it and returns what was typed.
 *
 * Handles Backspace, Ctrl-U (clear) and ignores arrow keys and other escape sequences.
 * Throws SfsError USAGE "Cancelled" on Ctrl-C, Ctrl-D on an empty line, or end of input, and
 * SfsError USAGE with a hint when stdin is not a terminal (a pipe must not be read as a secret by
 * surprise: the caller decides whether another source is acceptable).
 */
export async function readSecret(promptText: string, options: PromptOptions = {}): Promise<string> {
  const stdin = options.stdin ?? Deno.stdin;
  const write = options.write ?? writeStderr;
  if (!stdin.isTerminal()) {
    throw new SfsError("USAGE", "Cannot ask for a secret: standard input is not a terminal", {
      hint: options.hint ?? "Run the command in a terminal to be asked",
    });
  }
  write(promptText);
  stdin.setRaw(true);
  try {
    return await readRawLine(stdin);
  } finally {
    // Raw mode must never outlive the prompt, or the user's shell is left without echo.
    stdin.setRaw(false);
    write("\n");
  }
}

/** Reads one line in raw mode, applying the few editing keys a hidden prompt can support. */
async function readRawLine(stdin: TerminalInput): Promise<string> {
  const decoder = new TextDecoder();
  const chars: string[] = [];
  const buf = new Uint8Array(256);
  // Inside an escape sequence (arrow keys send ESC [ A): skip until its final byte.
  let escape: "none" | "start" | "csi" = "none";
  while (true) {
    const n = await stdin.read(buf);
    if (n === null) throw cancelled();
    for (const ch of decoder.decode(buf.subarray(0, n), { stream: true })) {
      const code = ch.codePointAt(0) ?? 0;
      if (escape === "start") {
        escape = ch === "[" || ch === "O" ? "csi" : "none";
        continue;
      }
      if (escape === "csi") {
        if (code >= 0x40 && code <= 0x7e) escape = "none";
        continue;
      }
      if (ch === "\r" || ch === "\n") return chars.join("");
      if (code === 0x03) throw cancelled(); // Ctrl-C
      if (code === 0x04) { // Ctrl-D: like a shell, it only means "end" on an empty line
        if (chars.length === 0) throw cancelled();
        continue;
      }
      if (code === 0x7f || code === 0x08) chars.pop(); // Backspace: one code point
      else if (code === 0x15) chars.length = 0; // Ctrl-U
      else if (code === 0x1b) escape = "start";
      else if (code >= 0x20 && chars.length < MAX_SECRET_CHARS) chars.push(ch);
    }
  }
}

/**
 * Asks a yes/no question (default no) and returns true only for `y` or `yes`.
 *
 * Returns false without asking when stdin is not a terminal, so scripts never hang on it and
 * never agree to something by accident.
 */
export async function confirm(question: string, options: PromptOptions = {}): Promise<boolean> {
  const stdin = options.stdin ?? Deno.stdin;
  const write = options.write ?? writeStderr;
  if (!stdin.isTerminal()) return false;
  // The question may quote names and keys from files or the network: escape each line as the
  // rest of the output does, keeping the line breaks that lay it out.
  const shown = question.split("\n").map((line) => escapeForDisplay(line)).join("\n");
  write(`${shown} [y/N] `);
  const answer = await readCookedLine(stdin);
  return /^y(es)?$/i.test(answer.trim());
}

/** Reads one line as the terminal's line discipline delivers it. */
async function readCookedLine(stdin: TerminalInput): Promise<string> {
  const bytes: number[] = [];
  const buf = new Uint8Array(256);
  while (bytes.length < MAX_LINE_BYTES) {
    const n = await stdin.read(buf);
    if (n === null) break;
    const chunk = buf.subarray(0, n);
    const end = chunk.indexOf(0x0a);
    bytes.push(...(end === -1 ? chunk : chunk.subarray(0, end)));
    if (end !== -1) break;
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}
