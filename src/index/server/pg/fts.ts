/**
 * The search language of SEARCH (docs/PROTOCOL.md §12.4) in PostgreSQL's terms: the same matching
 * rules as the SQLite FTS5 path (../fts_query.ts), on a `tsvector` column with a GIN index.
 *
 * PostgreSQL's text-search parser does not tokenize like FTS5's unicode61 (it keeps
 * "report.pdf" as one file-name token, splits "q3-report" three ways, and its letters depend on
 * the database's locale), so the parser is not used at all: this module cuts text into tokens
 * the way unicode61 does (runs of letters, digits and private-use characters, case folded,
 * diacritics removed) and writes the `tsvector` and `tsquery` literals itself. Both casts read
 * lexemes verbatim, so no configuration, stemming or stop word gets in between.
 *
 * Pure: no I/O.
 */
import { MAX_QUERY_BYTES } from "../../protocol/limits.ts";
import { MAX_SEARCH_TERMS } from "../fts_query.ts";

const TOKEN_RE = /[\p{L}\p{N}\p{Co}]+/gu;
const MARK_RE = /\p{M}/gu;
/** tsvector positions stop at 16383; later tokens share it (phrases there may overmatch). */
const MAX_POSITION = 16383;

/**
 * `text` cut into normalized tokens: NFD without combining marks, lower case, final sigma as
 * sigma (as unicode61 folds it). Compared with unicode61 on mixed scripts, the one known
 * difference left: a letter whose mark unicode61 keeps (Greek "ᾳ" stays, here it is "α").
 */
export function tokens(text: string): string[] {
  const folded = text.normalize("NFD").replace(MARK_RE, "").normalize("NFC").toLowerCase();
  return folded.replaceAll("ς", "σ").match(TOKEN_RE) ?? [];
}

/**
 * The `tsvector` literal of an announcement's name and keywords. The name's tokens come first,
 * then one unused position, then the keywords' tokens in order: a phrase can span two keywords
 * (as in FTS5, where the keywords are one column) but never the name and a keyword (FTS5's two
 * columns).
 */
export function toTsVector(name: string, keywords: readonly string[]): string {
  const positions = new Map<string, number[]>();
  let position = 0;
  const add = (token: string) => {
    position = Math.min(position + 1, MAX_POSITION);
    const list = positions.get(token);
    if (list === undefined) positions.set(token, [position]);
    else if (list[list.length - 1] !== position) list.push(position);
  };
  for (const token of tokens(name)) add(token);
  position++;
  for (const keyword of keywords) for (const token of tokens(keyword)) add(token);
  return [...positions].map(([token, at]) => `${quote(token)}:${at.join(",")}`).join(" ");
}

/**
 * A user's search text as a `tsquery` literal: each whitespace-separated term becomes a phrase
 * of its tokens (`'q3' <-> 'report'`), all terms ANDed; a term whose last token has two or more
 * characters matches that token as a prefix (`:*`). At most {@linkcode MAX_SEARCH_TERMS} terms.
 * Undefined when no term has a letter or digit (no results). Tokens are quoted, so nothing a
 * user types is tsquery syntax.
 */
export function toTsQuery(input: string): string | undefined {
  const terms = new Set<string>();
  for (const raw of input.slice(0, MAX_QUERY_BYTES).normalize("NFC").split(/\s+/u)) {
    if (terms.size === MAX_SEARCH_TERMS) break;
    // The two-character rule counts the term's own last word, as fts_query.ts does.
    const words = raw.match(TOKEN_RE);
    if (words === null) continue;
    const found = tokens(raw);
    if (found.length === 0) continue;
    const prefix = [...words[words.length - 1]].length >= 2 ? ":*" : "";
    const phrase = found.map(quote);
    phrase[phrase.length - 1] += prefix;
    terms.add(phrase.length === 1 ? phrase[0] : `(${phrase.join(" <-> ")})`);
  }
  return terms.size === 0 ? undefined : [...terms].join(" & ");
}

/** A lexeme quoted for tsvector/tsquery input; tokens hold no quote or backslash, but be sure. */
function quote(token: string): string {
  return `'${token.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}
