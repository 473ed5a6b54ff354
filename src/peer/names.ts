/**
 * File names received from a peer are untrusted: this turns one into a single safe path
 * component before the receiver touches the file system.
 *
 * @module
 */

import { SfsError } from "../errors.ts";
import { displayExcerpt, removeUnsafe } from "../text.ts";

/** Our own temporary suffixes; a peer must not be able to create or clobber such files. */
export const RESERVED_SUFFIXES = [".sfs-part", ".sfs-state", ".sfs-lock"] as const;

/**
 * Most file systems (ext4, APFS, NTFS) allow 255 bytes or units in a name; ten are kept free so
 * that `NAME.sfs-part` and `NAME.sfs-state` fit too.
 */
const MAX_NAME_BYTES = 245;

/** An extension longer than this is not worth keeping when the name must be shortened. */
const MAX_KEPT_EXTENSION_BYTES = 32;

// Forbidden in Windows file names; harmless elsewhere but confusing in shells.
const WINDOWS_FORBIDDEN = /[<>:"|?*]/g;
// Windows device names, matched on the part before the first dot with trailing spaces removed
// ("con .txt" also opens the console). Superscript digits count too on Windows.
const WINDOWS_DEVICE = /^(con|prn|aux|nul|conin\$|conout\$|com[1-9¹²³]|lpt[1-9¹²³])$/i;

const ENCODER = new TextEncoder();

/**
 * True when `name` opens a device on Windows: its part before the first dot, without trailing
 * spaces, is `CON`, `NUL`, `COM1` … in any case.
 */
export function isWindowsDeviceName(name: string): boolean {
  return WINDOWS_DEVICE.test(name.split(".")[0].replace(/ +$/, ""));
}

function byteLength(s: string): number {
  return ENCODER.encode(s).length;
}

/**
 * Returns a safe base name for an untrusted file name, or throws SfsError UNSAFE_NAME.
 *
 * A name that was fine on the sender's system is repaired rather than refused, as long as the
 * repair cannot make it mean something else; only names with no safe reading are refused.
 *
 * | rule                                                       | action                     |
 * | ---------------------------------------------------------- | -------------------------- |
 * | directories (`a/b`, `..\b`, `/abs`, `C:\x`)                | keep the last component    |
 * | control chars U+0000–001F, U+007F–009F                     | drop                       |
 * | bidi controls U+202A–202E, U+2066–2069, U+200E/F, U+061C   | drop                       |
 * | line and paragraph separators U+2028, U+2029               | drop                       |
 * | Unicode form                                               | normalise to NFC           |
 * | `< > : " \| ? *`                                           | replace with `_`           |
 * | leading/trailing spaces, trailing dots                     | strip                      |
 * | empty, `.`, `..` (also after the steps above)              | refuse                     |
 * | Windows devices (`CON`, `nul.txt`, `COM1`, `LPT9.log` …)   | prefix with `_`            |
 * | over 245 UTF-8 bytes                                       | shorten, keeping extension |
 * | ends in `.sfs-part`, `.sfs-state` or `.sfs-lock` (any case) | refuse                     |
 *
 * Refusing our temp suffixes (instead of renaming) is deliberate: such a name is never an
 * honest file, so the receiver should say so rather than save it under a made-up name.
 */
export function safeFileName(untrusted: string): string {
  // Both separators on every platform: a Windows sender's "dir\file" must not become a file
  // literally named "dir\file" on Unix, and a Unix receiver must not let it through to Windows.
  const last = untrusted.split(/[/\\]/).pop() ?? "";
  // Controls and bidi characters (src/text.ts): invisible, some acted on by terminals, and
  // they let "invoice\u202Etxt.exe" display as "invoiceexe.txt". Manifests cannot carry them
  // (§7.1); dropping them here keeps this function safe for any caller.
  let name = removeUnsafe(last).normalize("NFC");
  // Normalising can only compose characters, never create separators or controls, so the
  // checks above still hold; forbidden ASCII is replaced after it for the same reason.
  name = name.replace(WINDOWS_FORBIDDEN, "_");
  if (name === "." || name === "..") throw unsafe(untrusted, "is a directory reference");
  // Windows silently drops trailing dots and spaces, so "a.txt. " would alias "a.txt" there.
  name = name.replace(/^ +/, "").replace(/[. ]+$/, "");
  if (name === "") throw unsafe(untrusted, "is empty once unsafe characters are removed");
  name = shorten(name, MAX_NAME_BYTES);
  // Shortening cuts between graphemes, so a single grapheme over the limit leaves nothing.
  if (name === "") throw unsafe(untrusted, "cannot be shortened to fit a file name");
  // Checked after shortening, which can cut "con x\u0301\u0301….txt" down to "con.txt".
  if (isWindowsDeviceName(name)) name = shorten(`_${name}`, MAX_NAME_BYTES);
  const lower = name.toLowerCase();
  if (RESERVED_SUFFIXES.some((suffix) => lower.endsWith(suffix))) {
    throw unsafe(untrusted, "uses a suffix reserved for sfs temporary files");
  }
  return name;
}

function unsafe(untrusted: string, why: string): SfsError {
  return new SfsError("UNSAFE_NAME", `File name "${displayExcerpt(untrusted)}" ${why}`);
}

/**
 * Made on first use, not at load: building a segmenter loads ICU's break rules for the default
 * locale (tens of ms), and only a name over {@link MAX_NAME_BYTES} needs one (issue 12).
 */
let graphemes: Intl.Segmenter | undefined;

/** Cuts `name` to at most `max` UTF-8 bytes between characters, keeping a short extension. */
function shorten(name: string, max: number): string {
  if (byteLength(name) <= max) return name;
  const dot = name.lastIndexOf(".");
  const ext = dot > 0 ? name.slice(dot) : "";
  const keepExt = ext !== "" && byteLength(ext) <= MAX_KEPT_EXTENSION_BYTES;
  const base = keepExt ? name.slice(0, dot) : name;
  const budget = max - (keepExt ? byteLength(ext) : 0);
  let out = "";
  let used = 0;
  // Cut between grapheme clusters, not code points, so no accent or emoji is left half-built.
  graphemes ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
  for (const { segment: ch } of graphemes.segment(base)) {
    const n = byteLength(ch);
    if (used + n > budget) break;
    out += ch;
    used += n;
  }
  // Cutting can expose a trailing space or dot, which Windows would silently drop.
  out = out.replace(/[. ]+$/, "");
  return keepExt ? out + ext : out;
}
