/**
 * Proofs of origin (docs/design/folders.md F9): the owner's signed manifest kept next to a
 * download as `NAME.sfs-proof`, so that anyone who trusts the owner's fingerprint can check the
 * file or tree later, offline. The same format covers a single file (a one-entry manifest) and a
 * tree.
 *
 * A proof is read twice, streaming, never whole: first to recompute the manifest hash and check
 * the signatures, then — only if they hold — to compare each entry with the disk. A tree's
 * comparison is a merge of two sequences in the same canonical order (the proof's entries and a
 * walk of the tree, see proof_compare.ts), so memory stays bounded however many entries there are.
 *
 * @module
 */
import { SfsError } from "../errors.ts";
import { type Bytes, concat, constantTimeEqual } from "../crypto/bytes.ts";
import { ByteReader, ByteWriter } from "../crypto/encoding.ts";
import {
  decodePublicIdentity,
  formatFingerprint,
  type PublicIdentity,
} from "../crypto/identity.ts";
import type { Signatures } from "../crypto/sign.ts";
import {
  decodeSignatures,
  encodeSignatures,
  MAX_IDENTITY_BYTES,
  MAX_SIGNATURE_SET_BYTES,
} from "../wire/message_fields.ts";
import {
  ENTRY_TAIL_BYTES,
  type ManifestEntry,
  type ManifestHeader,
  MAX_PAGE_BYTES,
  PAGE_HEADER_BYTES,
  verifyManifest,
} from "./manifest.ts";
import { ManifestReader } from "./manifest_reader.ts";
import { MAX_TREE_PATH_BYTES } from "./tree_paths.ts";
import { compareFile, compareTree, Findings } from "./proof_compare.ts";

/** The first bytes of every proof file. */
export const PROOF_MAGIC = "sfs-proof\n";
/** Version byte after the magic. */
export const PROOF_VERSION = 1;
/** Suffix of a proof next to its download. */
export const PROOF_SUFFIX = ".sfs-proof";

const MAGIC_BYTES = new TextEncoder().encode(PROOF_MAGIC);
/** A header's largest encoding: version, fingerprint, 255-byte name, root, three u64. */
const MAX_HEADER_BYTES = 1 + 32 + 2 + 255 + 1 + 3 * 8;
/** Bytes of an entry after its path: type, flags, size, mtime, SHA-256. */
const READ_BYTES = 1024 * 1024;

/** Everything in a proof before its entries (F9): magic, version, owner, signatures, header. */
export function encodeProofPreamble(
  ownerIdentity: Uint8Array,
  signatures: Signatures,
  headerBytes: Uint8Array,
): Bytes {
  const writer = new ByteWriter().raw(MAGIC_BYTES).u8(PROOF_VERSION).bytes16(ownerIdentity);
  encodeSignatures(writer, signatures);
  return writer.bytes16(headerBytes).finish();
}

/** A whole proof: the preamble, then the encoded entries back to back. */
export function encodeProof(
  ownerIdentity: Uint8Array,
  signatures: Signatures,
  headerBytes: Uint8Array,
  entries: readonly Uint8Array[],
): Bytes {
  return concat(encodeProofPreamble(ownerIdentity, signatures, headerBytes), ...entries);
}

/** A proof whose encoding and signatures were checked. */
export interface CheckedProof {
  readonly owner: PublicIdentity;
  readonly header: ManifestHeader;
  readonly manifestHash: Bytes;
}

/** One way the disk differs from the proof. */
export interface Difference {
  /** Relative path (for a single file, its name). */
  readonly path: string;
  /**
   * `missing`, `extra`, `type`, `size`, `content` and `skipped` (a symlink, device or name the
   * owner could not have sent) fail the check; `executable` and `mtime` are only reported.
   */
  readonly problem:
    | "missing"
    | "extra"
    | "type"
    | "size"
    | "content"
    | "skipped"
    | "executable"
    | "mtime";
}

/** What {@link verifyWithProof} found. */
export interface ProofCheck extends CheckedProof {
  /** The first differences that fail the check (at most 100). */
  readonly differences: readonly Difference[];
  /** All differences that fail the check, listed or not. */
  readonly differenceCount: number;
  /** The first differences that do not fail it (executable bit, modification time). */
  readonly notes: readonly Difference[];
}

/** Options of {@link verifyWithProof}. */
export interface VerifyOptions {
  /**
   * The fingerprint the owner must have (KEY_MISMATCH otherwise). Without it the signatures are
   * checked against the key the proof carries, and the caller must show that key's fingerprint.
   */
  expectedOwner?: Uint8Array;
}

/**
 * Checks the file or folder at `target` against the proof at `proofPath`: the proof's encoding
 * (BAD_MESSAGE), its owner (KEY_MISMATCH, with `expectedOwner`), both signatures (BAD_SIGNATURE),
 * then every entry against the disk. Returns what differs; the caller decides how to fail.
 */
export async function verifyWithProof(
  target: string,
  proofPath: string,
  options: VerifyOptions = {},
): Promise<ProofCheck> {
  const proof = await checkProof(proofPath, options);
  const found = new Findings();
  const entries = scanProof(proofPath).entries();
  if (proof.header.root === "file") {
    for await (const entry of entries) await compareFile(target, entry, entry.path, found);
  } else {
    await compareTree(target, entries, found);
  }
  return { ...proof, ...found.result() };
}

/** Reads a proof once: its encoding and hash, then its owner and signatures. */
export async function checkProof(
  proofPath: string,
  options: VerifyOptions = {},
): Promise<CheckedProof> {
  const scan = scanProof(proofPath);
  for await (const _ of scan.entries()) {
    // Reading every entry is what computes the hash and checks each path and its order.
  }
  const { owner, header, signatures, manifestHash } = scan.result();
  if (
    options.expectedOwner !== undefined &&
    !constantTimeEqual(options.expectedOwner, owner.fingerprint)
  ) {
    throw new SfsError(
      "KEY_MISMATCH",
      `The proof is signed by ${formatFingerprint(owner.fingerprint)}, not ${
        formatFingerprint(options.expectedOwner)
      }`,
    );
  }
  await verifyManifest(owner, header, manifestHash, signatures);
  return { owner, header, manifestHash };
}

/**
 * The entries of a proof file (or a part folder's `manifest`), decoded and checked as they are
 * read, with bounded memory. The caller must have checked the proof ({@link checkProof}) first.
 */
export function proofEntries(proofPath: string): AsyncGenerator<ManifestEntry> {
  return scanProof(proofPath).entries();
}

interface Scanned {
  readonly owner: PublicIdentity;
  readonly header: ManifestHeader;
  readonly signatures: Signatures;
  readonly manifestHash: Bytes;
}

/** One streaming read of a proof file: entries as they are decoded, then the totals. */
function scanProof(path: string): { entries(): AsyncGenerator<ManifestEntry>; result(): Scanned } {
  let scanned: Scanned | undefined;
  async function* entries(): AsyncGenerator<ManifestEntry> {
    using file = await Deno.open(path, { read: true });
    const input = new BufferedFile(file);
    await input.start();
    const owner = await decodePublicIdentity(await input.sized(MAX_IDENTITY_BYTES, "identity"));
    const signatures = await readSignatures(input);
    const reader = new ManifestReader(await input.sized(MAX_HEADER_BYTES, "header"));
    // Entries are fed to the manifest reader as pages of the wire format, so a proof gets
    // exactly the checks a received manifest gets.
    // One page buffer, filled in place, and its entries decoded one at a time: a page's array of
    // entries, and an array per entry, outlived the young generation while a receiver took a
    // file per entry (issue 11).
    const page = new Uint8Array(MAX_PAGE_BYTES);
    let count = 0;
    let pageBytes = PAGE_HEADER_BYTES;
    const flush = function* (): Generator<ManifestEntry> {
      if (count === 0) return;
      const view = new DataView(page.buffer);
      view.setBigUint64(0, BigInt(reader.entriesRead));
      view.setUint16(8, count);
      const filled = page.subarray(0, pageBytes);
      count = 0;
      pageBytes = PAGE_HEADER_BYTES;
      yield* reader.pageEntries(filled);
    };
    for (let i = 0; i < reader.header.entryCount; i++) {
      const entry = await input.entry();
      if (pageBytes + entry.length > MAX_PAGE_BYTES || count === 0xffff) yield* flush();
      // entry() bounds an entry well below a page.
      page.set(entry, pageBytes);
      pageBytes += entry.length;
      count++;
    }
    yield* flush();
    if (await input.fill(1)) malformed("bytes after the last entry");
    scanned = { owner, header: reader.header, signatures, manifestHash: reader.finish() };
  }
  return {
    entries,
    result: () => scanned ?? malformed("not read to its end"),
  };
}

async function readSignatures(input: BufferedFile): Promise<Signatures> {
  // Two length-prefixed fields; read each whole, then decode them together.
  const rsa = await input.sized(MAX_SIGNATURE_SET_BYTES, "signature");
  const ed25519 = await input.sized(MAX_SIGNATURE_SET_BYTES, "signature");
  const reader = new ByteReader(
    new ByteWriter().bytes16(rsa).bytes16(ed25519).finish(),
    "proof",
  );
  const signatures = decodeSignatures(reader);
  reader.end();
  return signatures;
}

/** Reads a file in large blocks and hands out exact slices; EOF before one is BAD_MESSAGE. */
class BufferedFile {
  readonly #file: Deno.FsFile;
  /**
   * Bytes `#start` to `#end` were read and not taken yet. One buffer, refilled in place: joining
   * each block to the rest of the last one made two fresh buffers per MiB of entries (issue 11).
   */
  #buffer = new Uint8Array(READ_BYTES);
  #start = 0;
  #end = 0;

  constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /** True when at least `n` bytes are buffered, reading more as needed (false: the file ended). */
  async fill(n: number): Promise<boolean> {
    while (this.#end - this.#start < n) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
      if (this.#buffer.length < n) {
        const larger = new Uint8Array(Math.max(n, 2 * this.#buffer.length));
        larger.set(this.#buffer.subarray(0, this.#end));
        this.#buffer = larger;
      }
      const read = await this.#file.read(this.#buffer.subarray(this.#end));
      if (read === null) return false;
      this.#end += read;
    }
    return true;
  }

  async take(n: number, what: string): Promise<Bytes> {
    if (!await this.fill(n)) malformed(`cut short in its ${what}`);
    const out = this.#buffer.slice(this.#start, this.#start + n);
    this.#start += n;
    return out;
  }

  /** Reads and checks the magic and the version. */
  async start(): Promise<void> {
    const magic = await this.take(MAGIC_BYTES.length + 1, "magic");
    if (!MAGIC_BYTES.every((byte, i) => magic[i] === byte)) malformed("not a proof file");
    const version = magic[MAGIC_BYTES.length];
    if (version !== PROOF_VERSION) malformed(`unknown version ${version}`);
  }

  /** A `bytes16` field of at most `max` bytes, its length checked before it is read. */
  async sized(max: number, what: string): Promise<Bytes> {
    const head = await this.take(2, what);
    const length = (head[0] << 8) | head[1];
    if (length > max) malformed(`${what} of ${length} bytes exceeds ${max}`);
    return this.take(length, what);
  }

  /**
   * One encoded entry (F3.2), its length checked before it is read: a view into the buffer, valid
   * until the next read (no array per entry, issue 11).
   */
  async entry(): Promise<Bytes> {
    if (!await this.fill(2)) malformed("cut short in its entries");
    const length = (this.#buffer[this.#start] << 8) | this.#buffer[this.#start + 1];
    if (length > MAX_TREE_PATH_BYTES) malformed(`path of ${length} bytes`);
    const bytes = 2 + length + ENTRY_TAIL_BYTES;
    if (!await this.fill(bytes)) malformed("cut short in its entries");
    const out = this.#buffer.subarray(this.#start, this.#start + bytes);
    this.#start += bytes;
    return out;
  }
}

function malformed(why: string): never {
  throw new SfsError("BAD_MESSAGE", `Malformed proof: ${why}`);
}
