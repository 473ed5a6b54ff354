/**
 * The one definition of display-safe text: what may reach a terminal from someone else (a
 * sender's file name, a peer's error, an index listing), and how to show a string that is not
 * safe. Pure: no I/O.
 *
 * Refused, because a terminal acts on them or they change how the text around them reads:
 *
 * | characters                         | why                                                    |
 * | ---------------------------------- | ------------------------------------------------------ |
 * | U+0000–001F (C0), U+007F (DEL)     | ESC starts escape sequences (OSC 52 writes the         |
 * |                                    | clipboard, OSC 0 the window title); CR, BS and LF      |
 * |                                    | overwrite or forge lines                               |
 * | U+0080–009F (C1)                   | 8-bit forms of ESC sequences (CSI U+009B, OSC U+009D)  |
 * | U+202A–202E, U+2066–2069           | bidi embeddings, overrides, isolates: "a\u202Etxt.exe"  |
 * |                                    | shows as "aexe.txt"                                    |
 * | U+200E, U+200F, U+061C             | invisible direction marks (LRM, RLM, ALM)              |
 * | U+2028, U+2029                     | line and paragraph separators: a line break in disguise |
 * | lone surrogates                    | not text; encoders turn them into U+FFFD               |
 *
 * Zero-width joiners and non-ASCII spaces are allowed in names: real names use them (emoji,
 * Persian, macOS). {@link escapeForDisplay} can escape look-alike spaces too, for logs.
 *
 * @module
 */

/** The refused characters as a regex class body, one source for both patterns below. */
const REFUSED_CLASS = "\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029" +
  "\\u202a-\\u202e\\u2066-\\u2069";
const UNSAFE_CHAR = new RegExp(`[${REFUSED_CLASS}]`, "u");
const UNSAFE_CHARS = new RegExp(`[${REFUSED_CLASS}]|\\p{Cs}`, "gu");
// Spaces other than U+0020 that look like one (or like nothing): NBSP, Ogham, en/em and the
// other typographic spaces, narrow NBSP, medium math space, ideographic space, and the invisible
// zero-width space and byte-order mark.
const LOOKALIKE_SPACES = /[\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000\ufeff]/gu;

/** True when `text` holds no refused character (see the module table) and is well formed. */
export function isDisplaySafe(text: string): boolean {
  return text.isWellFormed() && !UNSAFE_CHAR.test(text);
}

/** Returns `text` without its refused characters (for names that are repaired, not refused). */
export function removeUnsafe(text: string): string {
  return text.replace(UNSAFE_CHARS, "");
}

/** Options of {@link escapeForDisplay}. */
export interface EscapeOptions {
  /**
   * Also escape spaces other than U+0020 (log lines, where a look-alike space could forge a
   * field boundary).
   * @default {false}
   */
  spaces?: boolean;
  /**
   * Write escapes as JSON's `\uXXXX` instead of `\u{…}`: applied to a JSON text, the value stays
   * the same (every refused character is in the BMP, and outside strings JSON has none).
   * @default {false}
   */
  json?: boolean;
}

/**
 * Returns `text` with every refused character written as `\u{…}`, so it can be printed on a
 * terminal and still shows that something was there. Safe text comes back unchanged.
 */
export function escapeForDisplay(text: string, options: EscapeOptions = {}): string {
  const escape = options.json
    ? (ch: string) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`
    : (ch: string) => `\\u{${ch.codePointAt(0)!.toString(16)}}`;
  const escaped = text.replace(UNSAFE_CHARS, escape);
  return options.spaces ? escaped.replace(LOOKALIKE_SPACES, escape) : escaped;
}

/** Characters of an untrusted name or path quoted in an error before it is cut short. */
const EXCERPT_CHARS = 80;

/**
 * {@link escapeForDisplay} of at most the first 80 characters of `text`, with `…` when it was
 * cut: how an error quotes an untrusted name, which may be kilobytes long.
 */
export function displayExcerpt(text: string): string {
  return escapeForDisplay(
    text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text,
  );
}
