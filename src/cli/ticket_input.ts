/**
 * Where `sfs get` reads a ticket or a code from besides its argument: a command line is visible
 * to every local user in `ps`, so `sfs get -` reads it from standard input and `sfs get` without
 * an argument from `SFS_TICKET`.
 */
import { SfsError } from "../errors.ts";

/** The environment variable `sfs get` reads when given no argument. */
export const TICKET_ENV = "SFS_TICKET";
/** Most bytes read from standard input: a ticket is at most 1024 characters (PROTOCOL §10). */
const MAX_STDIN_BYTES = 4096;

/** Where the text may come from; tests inject both. */
export interface TicketInputOptions {
  /** @default {Deno.env.get} */
  getEnv?: (name: string) => string | undefined;
  /** @default {Deno.stdin.readable} */
  stdin?: ReadableStream<Uint8Array>;
}

/**
 * The ticket, code, id or name to fetch: `what` itself, or for `-` the first non-empty line of
 * standard input, or without `what` the value of `SFS_TICKET`. Throws USAGE when none is given.
 */
export async function readTicketInput(
  what: string | undefined,
  options: TicketInputOptions = {},
): Promise<string> {
  if (what === "-") return await firstLine(options.stdin ?? Deno.stdin.readable);
  if (what !== undefined) return what;
  const fromEnv = (options.getEnv ?? ((name) => Deno.env.get(name)))(TICKET_ENV)?.trim();
  if (fromEnv === undefined || fromEnv === "") {
    throw new SfsError("USAGE", "Nothing to get: give a ticket, code, ID or name", {
      hint: `Pass - to read it from standard input, or set ${TICKET_ENV}`,
    });
  }
  return fromEnv;
}

/** The first non-empty line of `stream`, trimmed; reads at most {@link MAX_STDIN_BYTES}. */
async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let read = 0;
  try {
    while (read < MAX_STDIN_BYTES) {
      const { value, done } = await reader.read();
      if (done) break;
      read += value.length;
      text += decoder.decode(value, { stream: true });
      const line = text.split(/\r?\n/).map((l) => l.trim()).find((l, i, all) =>
        l !== "" && i < all.length - 1
      );
      // One chunk may hold a whole overlong line: the bound is on the line, not on the reads.
      if (line !== undefined) {
        if (line.length > MAX_STDIN_BYTES) break;
        return line;
      }
    }
  } finally {
    reader.releaseLock();
  }
  const line = text.trim().split(/\r?\n/)[0]?.trim() ?? "";
  if (line === "" || read > MAX_STDIN_BYTES) {
    throw new SfsError("USAGE", "Standard input held no ticket or code on its first line");
  }
  return line;
}
