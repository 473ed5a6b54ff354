/**
 * Resume state (docs/PROTOCOL.md §7.5): `NAME.sfs-state` beside `NAME.sfs-part` records which
 * file the part belongs to, from which sender, and how many bytes of it are verified and on
 * disk. A later `sfs get` of the same file from the same sender continues from there.
 */
import { SfsError } from "../errors.ts";
import { type Bytes, constantTimeEqual, fromHex, toHex } from "../crypto/bytes.ts";

/** Suffix of the state file kept beside an interrupted download. */
export const STATE_SUFFIX = ".sfs-state";
/**
 * Size of every state file we write, and the largest one read. The file is created at this size
 * (padded with spaces) when the download starts and later rewritten in place, so recording
 * progress never needs a new block: on a full disk the state can still be saved.
 */
export const STATE_FILE_BYTES = 4096;
/** Most entries of the output folder looked at when searching for a resumable download. */
const MAX_SCANNED_ENTRIES = 100_000;
const FORMAT = "sfs-partial";
const VERSION = 2;

/** What is known about an interrupted download. */
export interface ResumeState {
  /** File id from the ticket or listing. */
  readonly fileId: Bytes;
  /** Fingerprint of the sender whose chunks were verified. */
  readonly sender: Bytes;
  /** Content SHA-256 and size from the sender's manifest. */
  readonly sha256: Bytes;
  readonly size: number;
  /** Chunk size of the stream the bytes came in: a resume must start on one of its boundaries. */
  readonly chunkSize: number;
  /** The safe name the file will get (the part file is `name` + `.sfs-part`). */
  readonly name: string;
  /** Bytes at the start of the part file that were verified and synced to disk. */
  readonly verified: number;
}

/**
 * Encodes a state as exactly {@link STATE_FILE_BYTES} bytes of JSON padded with spaces. The
 * fields that change between checkpoints come first, inside the first 512-byte sector, so an
 * in-place rewrite cut by a crash cannot leave a mix of two `verified` values.
 */
export function encodeResumeState(state: ResumeState): Uint8Array {
  const json = JSON.stringify({
    format: FORMAT,
    version: VERSION,
    verified: state.verified,
    chunkSize: state.chunkSize,
    size: state.size,
    fileId: toHex(state.fileId),
    sender: toHex(state.sender),
    sha256: toHex(state.sha256),
    name: state.name,
  });
  const bytes = new TextEncoder().encode(json);
  // A safe name has at most 245 UTF-8 bytes, under 1 KiB even with every character escaped.
  if (bytes.length >= STATE_FILE_BYTES) throw new SfsError("INTERNAL", "Resume state too large");
  const padded = new Uint8Array(STATE_FILE_BYTES).fill(0x20);
  padded.set(bytes);
  padded[STATE_FILE_BYTES - 1] = 0x0a;
  return padded;
}

/** Reads a state file; undefined when it is missing, unreadable or not one of ours. */
export async function loadResumeState(path: string): Promise<ResumeState | undefined> {
  let text: string;
  try {
    const info = await Deno.lstat(path);
    if (!info.isFile || info.size > STATE_FILE_BYTES) return undefined;
    text = await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
  return parseResumeState(text);
}

/** Parses a state file's text, validating every field. */
export function parseResumeState(text: string): ResumeState | undefined {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (
    typeof value !== "object" || value === null || value.format !== FORMAT ||
    value.version !== VERSION
  ) {
    return undefined;
  }
  const fileId = typeof value.fileId === "string" ? fromHex(value.fileId) : undefined;
  const sender = typeof value.sender === "string" ? fromHex(value.sender) : undefined;
  const sha256 = typeof value.sha256 === "string" ? fromHex(value.sha256) : undefined;
  const { size, verified, chunkSize, name } = value;
  if (
    fileId?.length !== 16 || sender?.length !== 32 || sha256?.length !== 32 ||
    typeof name !== "string" || !Number.isSafeInteger(size) || !Number.isSafeInteger(verified) ||
    !Number.isSafeInteger(chunkSize) || (chunkSize as number) < 1 ||
    (verified as number) < 0 || (verified as number) > (size as number)
  ) {
    return undefined;
  }
  return {
    fileId,
    sender,
    sha256,
    size: size as number,
    chunkSize: chunkSize as number,
    verified: verified as number,
    name,
  };
}

/**
 * Where a download described by `state` can continue (§7.5): at `verified`, which is a chunk
 * boundary; or, when every byte is verified but the file was never published, at the start of
 * the last chunk, so the sender streams it again and signs the transfer. Returns a reason
 * instead when the state cannot be resumed, or 0 when there is nothing worth resuming.
 */
export function resumeOffset(state: ResumeState): number | { reason: string } {
  const { verified, size, chunkSize } = state;
  if (verified === size) {
    return size === 0 ? 0 : Math.floor((size - 1) / chunkSize) * chunkSize;
  }
  if (verified % chunkSize !== 0) {
    return { reason: `the saved progress (byte ${verified}) is not on a chunk boundary` };
  }
  return verified;
}

/**
 * Finds the state of an interrupted download of `fileId` from `sender` in `outDir`, so the
 * receiver can ask for the rest before it knows the file's name.
 */
export async function findResumeState(
  outDir: string,
  fileId: Bytes,
  sender: Bytes,
): Promise<ResumeState | undefined> {
  let scanned = 0;
  try {
    for await (const entry of Deno.readDir(outDir)) {
      if (++scanned > MAX_SCANNED_ENTRIES) break;
      if (!entry.isFile || !entry.name.endsWith(STATE_SUFFIX)) continue;
      const state = await loadResumeState(`${outDir}/${entry.name}`);
      if (
        state && constantTimeEqual(state.fileId, fileId) &&
        constantTimeEqual(state.sender, sender) && `${state.name}${STATE_SUFFIX}` === entry.name
      ) {
        return state;
      }
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw new SfsError("IO", `Cannot read "${outDir}"`, { cause: err });
  }
  return undefined;
}
