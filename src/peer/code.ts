/**
 * Short codes (docs/design/short-codes.md, part 1): `NAMEPLATE-WORD-WORD-WORD…`, e.g.
 * `7-crimson-tiger-lamp`. The nameplate is a public rendezvous number the index allocates; the
 * words are the secret, drawn uniformly from {@link CODE_WORDS} (11 bits each). Pure: no I/O.
 */
import { SfsError } from "../errors.ts";
import { CODE_WORDS } from "./code_words.ts";
import { MAX_NAMEPLATE } from "../wire/index_numbers.ts";

/** Fewest words a code may have: 3 × 11 = 33 bits of secret, beyond the public nameplate. */
export const MIN_CODE_WORDS = 3;
/** Most words a code may have; bounds the work a pasted text can cause. */
export const MAX_CODE_WORDS = 8;
/** Largest nameplate (defined with the messages that carry it). */
export { MAX_NAMEPLATE };
/** Bits of secret one word carries (the list has 2^11 words). */
export const BITS_PER_WORD = 11;

const WORD_SET: ReadonlySet<string> = new Set(CODE_WORDS);
// Digits without a leading zero, then 3 to 8 words of 3 to 8 letters; checked again in detail.
const CODE_SHAPE = /^([1-9][0-9]{0,5})((?:-[a-z]{3,8}){3,8})$/;

/** A parsed short code. */
export interface ShortCode {
  /** The public rendezvous number, 1 … 999999. */
  readonly nameplate: number;
  /** The secret words, each in {@link CODE_WORDS}. */
  readonly words: readonly string[];
}

/** Formats a code in its one canonical form, `7-crimson-tiger-lamp`; throws BAD_CODE if invalid. */
export function formatCode(nameplate: number, words: readonly string[]): string {
  checkNameplate(nameplate);
  checkWords(words);
  return [String(nameplate), ...words].join("-");
}

/**
 * True when `text` has a code's shape (PROTOCOL §14.1: a number and 3 to 8 words of 3 to 8
 * letters, forgiving case and surrounding space): such text is a code, never a ticket, file id or
 * name. {@link parseCode} then checks its words.
 */
export function looksLikeCode(text: string): boolean {
  return CODE_SHAPE.test(text.trim().toLowerCase());
}

/**
 * Parses a code as typed or pasted: surrounding whitespace and upper case are forgiven, nothing
 * else (no inner spaces, no other separators, no leading zeros, only listed words). Throws
 * BAD_CODE, naming the first unknown word position but never the word (it is secret).
 */
export function parseCode(text: string): ShortCode {
  const match = CODE_SHAPE.exec(text.trim().toLowerCase());
  if (match === null) {
    throw new SfsError(
      "BAD_CODE",
      `Not a code: expected a number and ${MIN_CODE_WORDS} to ${MAX_CODE_WORDS} words`,
      { hint: "a code looks like 7-crimson-tiger-lamp" },
    );
  }
  const nameplate = Number(match[1]);
  const words = match[2].slice(1).split("-");
  checkWords(words);
  return { nameplate, words };
}

/**
 * Picks `count` words uniformly and independently: 16 random bits per word, of which the low 11
 * index the list; 2^16 is a multiple of 2^11, so every word is equally likely.
 */
export function randomCodeWords(
  count: number = MIN_CODE_WORDS,
  options: {
    /** Source of random bytes. @default crypto.getRandomValues */
    random?: (length: number) => Uint8Array;
  } = {},
): string[] {
  if (!Number.isInteger(count) || count < MIN_CODE_WORDS || count > MAX_CODE_WORDS) {
    throw new SfsError(
      "USAGE",
      `A code has ${MIN_CODE_WORDS} to ${MAX_CODE_WORDS} words, not "${count}"`,
    );
  }
  const random = options.random ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)));
  const bytes = random(2 * count);
  if (bytes.length !== 2 * count) {
    throw new SfsError("INTERNAL", "Random source returned a short read");
  }
  const words: string[] = [];
  for (let i = 0; i < count; i++) {
    words.push(CODE_WORDS[((bytes[2 * i] << 8) | bytes[2 * i + 1]) & (CODE_WORDS.length - 1)]);
  }
  return words;
}

/** Bits of secret in a code of `count` words: 11 per word (33 for the default three). */
export function codeEntropyBits(count: number): number {
  return count * BITS_PER_WORD;
}

function checkNameplate(nameplate: number): void {
  if (!Number.isInteger(nameplate) || nameplate < 1 || nameplate > MAX_NAMEPLATE) {
    throw new SfsError("BAD_CODE", `Nameplate "${nameplate}" is not a number from 1 to 999999`);
  }
}

function checkWords(words: readonly string[]): void {
  if (words.length < MIN_CODE_WORDS || words.length > MAX_CODE_WORDS) {
    throw new SfsError(
      "BAD_CODE",
      `A code has ${MIN_CODE_WORDS} to ${MAX_CODE_WORDS} words, not ${words.length}`,
    );
  }
  const unknown = words.findIndex((word) => !WORD_SET.has(word));
  if (unknown >= 0) {
    throw new SfsError("BAD_CODE", `Word ${unknown + 1} of the code is not in the word list`, {
      hint: "check the spelling of each word",
    });
  }
}
