/**
 * The search language of SEARCH (docs/PROTOCOL.md §12.4) and its translation to an FTS5 query.
 * A user's text never reaches the FTS5 parser as syntax: every term is quoted.
 *
 * Pure: no I/O.
 */
import { MAX_QUERY_BYTES } from "../protocol/limits.ts";

/** Search terms beyond this many are ignored, which bounds the work one query can cause. */
export const MAX_SEARCH_TERMS = 8;
// Runs of what unicode61 treats as token characters (letters, numbers, private use); a search
// term without one could only ever produce an empty phrase.
const TOKEN_RE = /[\p{L}\p{N}\p{Co}]+/gu;

/**
 * Turns a user-typed search string into a safe FTS5 query: each whitespace-separated term
 * becomes a quoted phrase, all of them ANDed. Quoting means no FTS5 syntax (`NEAR`, `OR`, `-`,
 * `*`, `^`, column filters) ever reaches the parser. A term whose last word has two or more
 * characters matches as a prefix (`"repo"*` finds "reports"); a one-character word does not,
 * because `"a"*` would merge the postings of every word starting with "a". Returns undefined
 * when no term has a letter or digit, which callers treat as "no results".
 */
export function toFtsQuery(input: string): string | undefined {
  const terms = new Set<string>();
  // A SEARCH carries at most MAX_QUERY_BYTES UTF-8 bytes, so at most as many UTF-16 units; the
  // same bound applies to text from any other caller.
  for (const raw of input.slice(0, MAX_QUERY_BYTES).normalize("NFC").split(/\s+/u)) {
    if (terms.size === MAX_SEARCH_TERMS) break;
    const words = raw.match(TOKEN_RE);
    if (words === null) continue;
    const prefix = [...words[words.length - 1]].length >= 2 ? "*" : "";
    terms.add(`"${raw.replaceAll('"', '""')}"${prefix}`);
  }
  return terms.size === 0 ? undefined : [...terms].join(" AND ");
}
