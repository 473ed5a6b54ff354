/**
 * The messages of a tree transfer (docs/PROTOCOL.md §7.7, docs/design/folders.md F5): TREE_GET
 * (21), TREE_MANIFEST (22), MANIFEST_PAGE (23) and WANT (24). messages.ts merges them into the
 * one table of messages, so `encodeMessage` and `decodeMessage` handle them like any other.
 *
 * The manifest's header and pages travel here as bytes whose length alone is checked: their
 * fields, paths and order are checked by `ManifestReader` (src/peer/manifest_reader.ts), the one
 * reader of the manifest encoding, before anything else looks at them. Everything else is
 * decoded and validated here.
 *
 * @module
 */
import type { Bytes } from "../crypto/bytes.ts";
import { ByteReader, type ByteWriter } from "../crypto/encoding.ts";
import { FILE_ID_BYTES } from "../crypto/file_id.ts";
import type { Signatures } from "../crypto/sign.ts";
import { type Codec, decodeFlag, decodeSignatures, encodeSignatures } from "./message_fields.ts";

/** Type numbers of the tree messages (§7.7). */
export const TreeMessageType = {
  TREE_GET: 21,
  TREE_MANIFEST: 22,
  MANIFEST_PAGE: 23,
  WANT: 24,
} as const;
/** One of the tree message type numbers. */
export type TreeMessageType = typeof TreeMessageType[keyof typeof TreeMessageType];

/** Bytes of a manifest hash (F3.4). */
export const MANIFEST_HASH_BYTES = 32;
/**
 * Largest encoded manifest header (F3.1): version, fingerprint, a 255-byte name behind its
 * length, root, and three u64 fields.
 */
export const MAX_MANIFEST_HEADER_BYTES = 1 + 32 + 2 + 255 + 1 + 8 + 8 + 8;
/** Largest manifest page (F3.3): one sealed record, far under its 1 MiB limit. */
export const MAX_MANIFEST_PAGE_BYTES = 256 * 1024;
/** Longest path of a manifest entry in UTF-8 bytes (F4.1; tree_paths.ts re-exports it). */
export const MAX_MANIFEST_PATH_BYTES = 3072;
/** Bytes of an entry after its path: type, flags, size, mtime, SHA-256 (F3.2). */
export const MANIFEST_ENTRY_TAIL_BYTES = 1 + 1 + 8 + 8 + 32;
/** Smallest manifest page: `u64 first ‖ u16 count` and one entry of a one-byte path. */
export const MIN_MANIFEST_PAGE_BYTES = 8 + 2 + 2 + 1 + MANIFEST_ENTRY_TAIL_BYTES;
/** Most ranges in one WANT: a u16 count (16 bytes each, ~1 MiB, one sealed record). */
export const MAX_WANT_RANGES = 0xffff - 1;

/** TREE_GET flags bit 0: a WANT follows the manifest (reuse, F7.4); the sender waits for it. */
const FLAG_WANT = 1;

/**
 * A receiver asks for a tree (§7.7): from file entry `entry`, byte `offset` of that file (a
 * chunk boundary), as the early request or after the handshake. A plain GET for a tree's share
 * id is the same as `{ entry: 0, offset: 0, manifestHash: zeros, want: false }`.
 */
export interface TreeGet {
  type: typeof TreeMessageType.TREE_GET;
  /** The share id (F3.4). */
  shareId: Bytes;
  /**
   * The manifest hash the receiver holds from an earlier attempt (resume, F7.3), or 32 zero
   * bytes: when it equals the share's, no pages are sent.
   */
  manifestHash: Bytes;
  /** Index of the manifest entry to start at (a file, or 0). */
  entry: number;
  /** Byte of that entry's file to start at: 0 or a chunk boundary inside it. */
  offset: number;
  /** Flags bit 0: the receiver sends a WANT after the manifest and the sender waits for it. */
  want: boolean;
}

/**
 * The sender's answer to a request for a tree (§7.7): the signed manifest header, where the
 * streams start, and whether pages follow.
 */
export interface TreeManifest {
  type: typeof TreeMessageType.TREE_MANIFEST;
  shareId: Bytes;
  /** The encoded manifest header (F3.1), to be read with `ManifestReader`. */
  header: Bytes;
  /** The owner's signatures over the manifest hash (F3.4). */
  signatures: Signatures;
  /** Chunk size of every file stream (§7.2). */
  chunkSize: number;
  /** The request's entry and offset, echoed: where the first stream starts. */
  entry: number;
  offset: number;
  /** True: MANIFEST_PAGE records with every entry follow; false: the receiver has them. */
  pagesFollow: boolean;
}

/** One page of manifest entries (F3.3), to be read with `ManifestReader.readPage()`. */
export interface ManifestPage {
  type: typeof TreeMessageType.MANIFEST_PAGE;
  page: Bytes;
}

/** A run of entries: `count` entries from index `first`. */
export interface EntryRange {
  readonly first: number;
  readonly count: number;
}

/**
 * The file entries a receiver still needs (reuse, F7.4), ascending and with a gap between
 * ranges (adjacent ranges are one range: one encoding per set of entries).
 */
export interface Want {
  type: typeof TreeMessageType.WANT;
  ranges: EntryRange[];
}

/** Any tree message. */
export type TreeMessage = TreeGet | TreeManifest | ManifestPage | Want;

/** The codec of each tree message type. */
export const TREE_CODECS: {
  [T in TreeMessageType]: Codec<Extract<TreeMessage, { type: T }>>;
} = {
  [TreeMessageType.TREE_GET]: {
    encode: (w, m) =>
      w.raw(m.shareId).raw(m.manifestHash).u64(m.entry).u64(m.offset).u8(m.want ? FLAG_WANT : 0),
    decode: (r) => ({
      shareId: r.raw(FILE_ID_BYTES),
      manifestHash: r.raw(MANIFEST_HASH_BYTES),
      entry: r.u64(),
      offset: r.u64(),
      want: decodeFlag(r),
    }),
  },
  [TreeMessageType.TREE_MANIFEST]: {
    encode: (w, m) => {
      w.raw(m.shareId).bytes16(m.header);
      encodeSignatures(w, m.signatures);
      w.u32(m.chunkSize).u64(m.entry).u64(m.offset).u8(m.pagesFollow ? 1 : 0);
    },
    decode: (r) => ({
      shareId: r.raw(FILE_ID_BYTES),
      header: r.bytes16(MAX_MANIFEST_HEADER_BYTES),
      signatures: decodeSignatures(r),
      chunkSize: r.u32(),
      entry: r.u64(),
      offset: r.u64(),
      pagesFollow: decodeFlag(r),
    }),
  },
  [TreeMessageType.MANIFEST_PAGE]: {
    encode: (w, m) => w.raw(m.page),
    decode: (r) => ({ page: decodePage(r) }),
  },
  [TreeMessageType.WANT]: {
    encode: encodeWant,
    decode: (r) => ({ ranges: decodeRanges(r) }),
  },
};

/**
 * The page is the whole body. Its size is checked before it is copied, and its framing here —
 * `u64 first ‖ u16 count (≥ 1) ‖ count × (text path ‖ 50 bytes)`, nothing after — so a cut or
 * padded page is BAD_MESSAGE at the boundary; the fields are ManifestReader's to check.
 */
function decodePage(reader: ByteReader): Bytes {
  const length = reader.remaining;
  if (length < MIN_MANIFEST_PAGE_BYTES) reader.fail(`page of ${length} bytes is too short`);
  if (length > MAX_MANIFEST_PAGE_BYTES) {
    reader.fail(`page of ${length} bytes exceeds ${MAX_MANIFEST_PAGE_BYTES}`);
  }
  const page = reader.raw(length);
  const framing = new ByteReader(page, "manifest page");
  framing.u64();
  const count = framing.u16();
  if (count === 0) framing.fail("empty page");
  for (let i = 0; i < count; i++) {
    framing.bytes16(MAX_MANIFEST_PATH_BYTES);
    framing.raw(MANIFEST_ENTRY_TAIL_BYTES);
  }
  framing.end();
  return page;
}

function encodeWant(writer: ByteWriter, m: Want): void {
  writer.list(m.ranges, (w, range) => w.u64(range.first).u64(range.count));
}

/** Ranges of at least one entry each, ascending, with a gap between one and the next. */
function decodeRanges(reader: ByteReader): EntryRange[] {
  const ranges = reader.list(MAX_WANT_RANGES, (r) => ({ first: r.u64(), count: r.u64() }));
  let end = -1;
  for (const { first, count } of ranges) {
    if (count === 0) reader.fail("empty range");
    if (first <= end) reader.fail("ranges not ascending with gaps between them");
    end = first + count;
    if (!Number.isSafeInteger(end)) reader.fail("range out of range");
  }
  return ranges;
}
