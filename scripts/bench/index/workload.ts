/**
 * The synthetic workload of the index benchmark, all from one seed: the made-up vocabulary that
 * names the listings, the fields of listing number i, and the mix of search queries.
 *
 * @module
 */

/** Page size of every benchmark search: the `sfs search` default. */
export const SEARCH_LIMIT = 50;
/** Mean number of listings whose name contains one given vocabulary word. */
export const LISTINGS_PER_WORD = 25;
/** Share of listings addressed to recipients (the rest are public). */
export const PRIVATE_SHARE = 0.1;

/** Topic keywords owners attach to files (1 to 3 each). */
// deno-fmt-ignore
export const TAGS: readonly string[] = [
  "photos", "music", "tax", "invoice", "backup", "report", "draft", "slides", "video", "podcast",
  "dataset", "thesis", "recipe", "travel", "holiday", "family", "wedding", "budget", "contract",
  "scan", "manual", "firmware", "iso", "linux", "game", "mod", "save", "map", "lecture", "notes",
  "paper", "book", "ebook", "comic", "audio", "raw", "album", "mix", "demo", "stems", "logo",
  "design", "font", "icons", "mockup", "source", "release", "build", "logs", "dump", "archive",
  "legal", "medical", "insurance", "receipt", "resume", "letter", "poster", "flyer", "brochure",
  "catalog", "price", "quote", "order", "payroll", "census", "survey", "sensor", "weather",
  "satellite", "genome", "model", "weights", "checkpoint", "shader", "texture", "sprite", "level",
  "trailer", "episode", "season", "subtitle", "lyrics", "score", "sheet", "chart", "plan",
  "blueprint", "cad", "print", "stl", "gcode", "schematic", "pcb", "kernel", "patch", "config",
  "keys", "wallet", "ledger",
];
/** File extensions, as the last token of a name. */
// deno-fmt-ignore
export const EXTENSIONS: readonly string[] = [
  "pdf", "zip", "tar", "gz", "mp4", "mkv", "flac", "mp3", "jpg", "png", "docx", "xlsx", "csv",
  "iso", "txt", "json",
];
const CONSONANTS = "bdfgklmnprstvz";
const VOWELS = "aeiou";

/** Words the synthetic file names are made of. */
export interface Vocabulary {
  /** Three-syllable made-up words ("kavomi"); equal length, so none is a prefix of another. */
  readonly words: readonly string[];
}

/** A small, fast, seeded PRNG (mulberry32): the same seed gives the same listings and queries. */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
}

/**
 * The name vocabulary for `listings` listings: each listing's name has two words drawn uniformly,
 * so one word is in {@link LISTINGS_PER_WORD} names on average (a Poisson spread around it).
 */
export function makeVocabulary(seed: number, listings: number): Vocabulary {
  const count = Math.max(20, Math.round((2 * listings) / LISTINGS_PER_WORD));
  const rng = new Rng(seed ^ 0x5eed);
  const tags = new Set(TAGS);
  const words = new Set<string>();
  while (words.size < count) {
    let word = "";
    for (let s = 0; s < 3; s++) word += rng.pick([...CONSONANTS]) + rng.pick([...VOWELS]);
    if (!tags.has(word)) words.add(word);
  }
  return { words: [...words] };
}

/** The fields of one synthetic listing (everything but who owns it and the signature). */
export interface ListingFields {
  readonly name: string;
  readonly size: number;
  readonly sha256: Uint8Array<ArrayBuffer>;
  readonly keywords: string[];
  /** Indexes of the bench users it is addressed to; empty for public. */
  readonly recipients: number[];
}

/** Options of {@link listingFields}. */
export interface ListingOptions {
  /** Seed of the whole corpus. */
  seed: number;
  /** Bench users; recipients are drawn from them. */
  users: number;
}

/** Draws listing number `i`; the same seed and `i` always give the same fields. */
export function listingFields(
  vocab: Vocabulary,
  i: number,
  options: ListingOptions,
): ListingFields {
  const { seed, users } = options;
  const rng = new Rng((seed * 0x9e3779b1) ^ i);
  const name = `${rng.pick(vocab.words)}-${rng.pick(vocab.words)}-${1 + rng.below(999)}.` +
    rng.pick(EXTENSIONS);
  const keywords = new Set<string>();
  const tagCount = 1 + rng.below(3);
  while (keywords.size < tagCount) keywords.add(rng.pick(TAGS));
  // Log-uniform from 1 KiB to 4 GiB: many small files, a few huge ones.
  const size = Math.round(2 ** (10 + rng.next() * 22));
  const sha256 = new Uint8Array(32);
  for (let b = 0; b < 32; b++) sha256[b] = rng.below(256);
  const recipients = new Set<number>();
  if (users > 1 && rng.next() < PRIVATE_SHARE) {
    const count = 1 + rng.below(2);
    while (recipients.size < Math.min(count, users - 1)) recipients.add(rng.below(users));
  }
  return { name, size, sha256, keywords: [...keywords], recipients: [...recipients] };
}

/** The query mix, with the share of each kind. */
export const QUERY_MIX = [
  { kind: "word", share: 0.7, example: "kavomi" },
  { kind: "prefix", share: 0.1, example: "kavo" },
  { kind: "word+tag", share: 0.1, example: "kavomi photos" },
  { kind: "tag", share: 0.1, example: "photos" },
] as const;

/**
 * One search string from the mix: a name word (about {@link LISTINGS_PER_WORD} matches), its first
 * four letters (words sharing two syllables, ≈ 1–2 words), a word and a tag (usually 0–1
 * matches), or a tag alone (≈ 2 % of all listings; the first page of 50).
 */
export function makeQuery(rng: Rng, vocab: Vocabulary): string {
  let r = rng.next();
  const kind = QUERY_MIX.find((k) => (r -= k.share) < 0)?.kind ?? "tag";
  const word = rng.pick(vocab.words);
  switch (kind) {
    case "word":
      return word;
    case "prefix":
      return word.slice(0, 4);
    case "word+tag":
      return `${word} ${rng.pick(TAGS)}`;
    case "tag":
      return rng.pick(TAGS);
  }
}
