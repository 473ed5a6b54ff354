/**
 * Manifests (docs/design/folders.md F3): what an owner signs about a shared tree or file — every
 * entry's path, type, size, executable bit, modification time and SHA-256 — in one canonical
 * binary encoding (docs/PROTOCOL.md §2), sent in bounded pages and signed once over its hash.
 *
 * The hash is taken as the bytes stream past (header, then entries in order), so neither side
 * ever holds the whole manifest: 200,000 entries are ~20 MB, and a page is at most
 * {@link MAX_PAGE_BYTES}. Page boundaries are transport only; the hash does not see them.
 *
 * Pure: no I/O.
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { SfsError } from "../errors.ts";
import { type Bytes, constantTimeEqual } from "../crypto/bytes.ts";
import { ByteReader, ByteWriter } from "../crypto/encoding.ts";
import { fileIdOf } from "../crypto/file_id.ts";
import { formatFingerprint, type Identity, type PublicIdentity } from "../crypto/identity.ts";
import { LABEL } from "../crypto/labels.ts";
import { sign, type Signatures, verify } from "../crypto/sign.ts";
import { MANIFEST_ENTRY_TAIL_BYTES, MAX_MANIFEST_PAGE_BYTES } from "../wire/tree_messages.ts";
import { componentProblem, MAX_TREE_PATH_BYTES } from "./tree_paths.ts";

/** Version byte of the manifest encoding. */
export const MANIFEST_VERSION = 1;
/** Most entries in one manifest (F3): a bound on what a receiver stores and checks. */
export const MAX_MANIFEST_ENTRIES = 10_000_000;
/**
 * Most bytes of a manifest's entries (F3.2: the pages without their headers). A receiver spools
 * them to disk before it can check the signature over their hash, so without this a hostile
 * sender could make it write MAX_MANIFEST_ENTRIES entries of 3,124 bytes (31 GB) first. 2 GiB hold the
 * 10,000,000 entries of a largest tree at paths of ~160 bytes on average; a walk stops past it
 * (TREE_LIMIT), so an honest sender never makes a manifest a receiver refuses.
 */
export const MAX_MANIFEST_BYTES = 2 ** 31;
/** Largest encoded page (F3.3); one page is one sealed record, well under its 1 MiB limit. */
export const MAX_PAGE_BYTES = MAX_MANIFEST_PAGE_BYTES;
/** Longest share name in UTF-8 bytes, as for announcements (§12.5). */
export const MAX_MANIFEST_NAME_BYTES = 255;

const HASH_BYTES = 32;
const ENCODER = new TextEncoder();
const ZERO_HASH = new Uint8Array(HASH_BYTES);
/** Bytes of an entry after its path: type, flags, size, mtime, SHA-256. */
export const ENTRY_TAIL_BYTES = MANIFEST_ENTRY_TAIL_BYTES;
/** Bytes of an entry besides its path: its u16 length, then the tail. */
const ENTRY_FIXED_BYTES = 2 + ENTRY_TAIL_BYTES;
/** Bytes of a page before its entries: u64 first index, u16 count. */
export const PAGE_HEADER_BYTES = 10;

/** The wire value of each entry type, and of the root's type in the header. */
export const EntryType = { file: 1, folder: 2 } as const;
/** A regular file or a folder. */
export type EntryKind = keyof typeof EntryType;

/** Bit 0 of an entry's flags: the file is executable. The other bits MUST be zero. */
const FLAG_EXECUTABLE = 1;

/** The header of a manifest: who shares what, and how much of it. */
export interface ManifestHeader {
  /** Owner's fingerprint (§4.2), 32 bytes: the signer, named inside what is signed. */
  readonly ownerFingerprint: Bytes;
  /** The share's name: one path component (tree_paths.ts rules). */
  readonly name: string;
  /** A single file (one entry, named `name`) or a folder (entries relative to it). */
  readonly root: EntryKind;
  /** When the owner made the manifest, ms since the Unix epoch. */
  readonly createdAt: number;
  /** Number of entries that follow. */
  readonly entryCount: number;
  /** Sum of the files' sizes. */
  readonly totalBytes: number;
}

/** One file or folder of a manifest. */
export interface ManifestEntry {
  /** Relative path, components joined by `/` (tree_paths.ts rules). */
  readonly path: string;
  readonly kind: EntryKind;
  /** Files only; false for folders. */
  readonly executable: boolean;
  /** Bytes; 0 for folders. */
  readonly size: number;
  /** Modification time, ms since the Unix epoch (earlier times are sent as 0). */
  readonly mtime: number;
  /** SHA-256 of the content; 32 zero bytes for folders. */
  readonly sha256: Bytes;
}

/** Encodes a header (F3.1); SfsError USAGE when a field breaks a rule. */
export function encodeManifestHeader(header: ManifestHeader): Bytes {
  const problem = headerProblem(header);
  if (problem !== undefined) throw new SfsError("USAGE", `Cannot make a manifest: ${problem}`);
  return new ByteWriter()
    .u8(MANIFEST_VERSION)
    .raw(header.ownerFingerprint)
    .text(header.name)
    .u8(EntryType[header.root])
    .u64(header.createdAt)
    .u64(header.entryCount)
    .u64(header.totalBytes)
    .finish();
}

/** Decodes a header, rejecting anything but a canonical encoding of valid fields (BAD_MESSAGE). */
export function decodeManifestHeader(bytes: Uint8Array): ManifestHeader {
  const reader = new ByteReader(bytes, "manifest header");
  const version = reader.u8();
  if (version !== MANIFEST_VERSION) reader.fail(`unknown version ${version}`);
  const header: ManifestHeader = {
    ownerFingerprint: reader.raw(HASH_BYTES),
    name: reader.text(MAX_MANIFEST_NAME_BYTES),
    root: kindOf(reader, reader.u8()),
    createdAt: reader.u64(),
    entryCount: reader.u64(),
    totalBytes: reader.u64(),
  };
  reader.end();
  const problem = headerProblem(header);
  if (problem !== undefined) reader.fail(problem);
  return header;
}

/** Appends one entry (F3.2) to `writer`; SfsError USAGE when a field breaks a rule. */
export function writeManifestEntry(writer: ByteWriter, entry: ManifestEntry): void {
  const problem = entryProblem(entry);
  if (problem !== undefined) throw new SfsError("USAGE", `Cannot list "${entry.path}": ${problem}`);
  writer
    .text(entry.path)
    .u8(EntryType[entry.kind])
    .u8(entry.executable ? FLAG_EXECUTABLE : 0)
    .u64(entry.size)
    .u64(entry.mtime)
    .raw(entry.sha256);
}

/** One entry's encoding on its own (what the manifest hash takes in). */
export function encodeManifestEntry(entry: ManifestEntry): Bytes {
  const writer = new ByteWriter();
  writeManifestEntry(writer, entry);
  return writer.finish();
}

export function readManifestEntry(reader: ByteReader): ManifestEntry {
  const path = reader.text(MAX_TREE_PATH_BYTES);
  const kind = kindOf(reader, reader.u8());
  const flags = reader.u8();
  if (flags > FLAG_EXECUTABLE) reader.fail(`entry flags ${flags} have unknown bits`);
  const entry: ManifestEntry = {
    path,
    kind,
    executable: flags === FLAG_EXECUTABLE,
    size: reader.u64(),
    mtime: reader.u64(),
    sha256: reader.raw(HASH_BYTES),
  };
  const problem = entryProblem(entry);
  if (problem !== undefined) reader.fail(problem);
  return entry;
}

/** Encodes a page (F3.3): `u64 first ‖ u16 count ‖ entries`. */
export function encodeManifestPage(first: number, entries: readonly ManifestEntry[]): Bytes {
  const writer = new ByteWriter().u64(first).u16(entries.length);
  for (const entry of entries) writeManifestEntry(writer, entry);
  const page = writer.finish();
  if (entries.length === 0 || page.length > MAX_PAGE_BYTES) {
    throw new SfsError("INTERNAL", `A manifest page of ${entries.length} entries does not fit`);
  }
  return page;
}

/**
 * Cuts entries into pages of at most {@link MAX_PAGE_BYTES}, filling each before starting the
 * next. Holds one page at a time, so a walk can feed it without collecting the tree.
 */
export async function* manifestPages(
  entries: AsyncIterable<ManifestEntry> | Iterable<ManifestEntry>,
  options: { maxPageBytes?: number } = {},
): AsyncGenerator<Bytes> {
  const max = options.maxPageBytes ?? MAX_PAGE_BYTES;
  let first = 0;
  let page: ManifestEntry[] = [];
  let bytes = PAGE_HEADER_BYTES;
  for await (const entry of entries) {
    const size = ENTRY_FIXED_BYTES + ENCODER.encode(entry.path).length;
    if (page.length > 0 && (bytes + size > max || page.length === 0xffff)) {
      yield encodeManifestPage(first, page);
      first += page.length;
      page = [];
      bytes = PAGE_HEADER_BYTES;
    }
    page.push(entry);
    bytes += size;
  }
  if (page.length > 0) yield encodeManifestPage(first, page);
}

/**
 * The manifest hash (F3.4), taken as the bytes go past:
 * `SHA-256(labelled("sfs/v1/manifest", header ‖ entry_0 ‖ … ‖ entry_n−1))`.
 */
export class ManifestHasher {
  // A pure-JS hash, not node:crypto's: a receiver of one small file then never loads Deno's Node
  // compatibility layer for one manifest of a few hundred bytes (issue 12); it stays incremental
  // (and synchronous) for a tree's, which neither side holds whole.
  readonly #hash = sha256.create();

  constructor(headerBytes: Uint8Array) {
    this.#hash.update(ENCODER.encode(LABEL.MANIFEST)).update(new Uint8Array(1));
    this.#hash.update(headerBytes);
  }

  /** Takes in one encoded entry, or several back to back. */
  update(entryBytes: Uint8Array): this {
    this.#hash.update(entryBytes);
    return this;
  }

  /** The 32-byte manifest hash; the hasher cannot be used afterwards. */
  digest(): Bytes {
    return this.#hash.digest();
  }
}

/** Signs a manifest hash with both of the owner's keys (F3.4), as announcements are. */
export function signManifest(identity: Identity, manifestHash: Uint8Array): Promise<Signatures> {
  return sign(identity, LABEL.MANIFEST_SIGNATURE, manifestHash, "both");
}

/**
 * Checks a manifest against its owner, in this order: the header names the owner's fingerprint
 * (KEY_MISMATCH), then both signatures over the hash verify (BAD_SIGNATURE).
 */
export async function verifyManifest(
  owner: PublicIdentity,
  header: ManifestHeader,
  manifestHash: Uint8Array,
  signatures: Signatures,
): Promise<void> {
  if (!constantTimeEqual(header.ownerFingerprint, owner.fingerprint)) {
    throw new SfsError(
      "KEY_MISMATCH",
      `The manifest names owner key ${formatFingerprint(header.ownerFingerprint)}, not ${
        formatFingerprint(owner.fingerprint)
      }`,
    );
  }
  await verify(owner, LABEL.MANIFEST_SIGNATURE, manifestHash, signatures, "both");
}

/** The id a tree share is fetched by: §7.1's file id with the manifest hash as the content hash. */
export function shareIdOf(header: ManifestHeader, manifestHash: Uint8Array): Promise<Bytes> {
  return fileIdOf(header.ownerFingerprint, manifestHash, header.name);
}

function kindOf(reader: ByteReader, value: number): EntryKind {
  if (value === EntryType.file) return "file";
  if (value === EntryType.folder) return "folder";
  return reader.fail(`unknown entry type ${value}`);
}

function headerProblem(h: ManifestHeader): string | undefined {
  if (h.ownerFingerprint.length !== HASH_BYTES) return "owner fingerprint must be 32 bytes";
  if (ENCODER.encode(h.name).length > MAX_MANIFEST_NAME_BYTES) return "name too long";
  const nameProblem = componentProblem(h.name);
  if (nameProblem !== undefined) return `the name ${nameProblem}`;
  if (!isCount(h.createdAt)) return "bad creation time";
  if (!isCount(h.entryCount) || h.entryCount > MAX_MANIFEST_ENTRIES) {
    return `entry count must be at most ${MAX_MANIFEST_ENTRIES}`;
  }
  if (h.root === "file" && h.entryCount !== 1) return "a single file is exactly one entry";
  if (!isCount(h.totalBytes)) return "bad total size";
  return undefined;
}

function entryProblem(e: ManifestEntry): string | undefined {
  if (!isCount(e.size) || !isCount(e.mtime)) return "size and time must be non-negative integers";
  if (e.sha256.length !== HASH_BYTES) return "SHA-256 must be 32 bytes";
  if (e.kind === "folder") {
    // One encoding per folder: nothing a folder does not have may vary.
    if (e.executable || e.size !== 0 || !constantTimeEqual(e.sha256, ZERO_HASH)) {
      return "a folder has no executable bit, size or hash";
    }
  }
  return undefined;
}

function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}
