/**
 * Resume state (docs/PROTOCOL.md §7.5): `NAME.sfs-state` beside `NAME.sfs-part` records which
 * file the part belongs to, from which sender, and how many bytes of it are verified and on
 * disk. A later `sfs get` of the same file from the same sender continues from there.
 */
import { SfsError } from "../errors.ts";
import { type Bytes, constantTimeEqual, fromHex, toHex } from "../crypto/bytes.ts";
import { writeFileAtomic } from "../fs.ts";

/** Suffix of the state file kept beside an interrupted download. */
export const STATE_SUFFIX = ".sfs-state";
/** Largest state file read; a real one is under 1 KiB. */
const MAX_STATE_BYTES = 4096;
/** Most entries of the output folder looked at when searching for a resumable download. */
const MAX_SCANNED_ENTRIES = 100_000;
const FORMAT = "sfs-partial";

/** What is known about an interrupted download. */
export interface ResumeState {
  /** File id from the ticket or listing. */
  readonly fileId: Bytes;
  /** Fingerprint of the sender whose chunks were verified. */
  readonly sender: Bytes;
  /** Content SHA-256 and size from the sender's manifest. */
  readonly sha256: Bytes;
  readonly size: number;
  /** The safe name the file will get (the part file is `name` + `.sfs-part`). */
  readonly name: string;
  /** Bytes at the start of the part file that were verified and synced to disk. */
  readonly verified: number;
}

/** Writes the state atomically; call only after the part file's first `verified` bytes are synced. */
export async function saveResumeState(path: string, state: ResumeState): Promise<void> {
  await writeFileAtomic(
    path,
    JSON.stringify({
      format: FORMAT,
      version: 1,
      fileId: toHex(state.fileId),
      sender: toHex(state.sender),
      sha256: toHex(state.sha256),
      size: state.size,
      name: state.name,
      verified: state.verified,
    }) + "\n",
  );
}

/** Reads a state file; undefined when it is missing, unreadable or not one of ours. */
export async function loadResumeState(path: string): Promise<ResumeState | undefined> {
  let text: string;
  try {
    const info = await Deno.lstat(path);
    if (!info.isFile || info.size > MAX_STATE_BYTES) return undefined;
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
    typeof value !== "object" || value === null || value.format !== FORMAT || value.version !== 1
  ) {
    return undefined;
  }
  const fileId = typeof value.fileId === "string" ? fromHex(value.fileId) : undefined;
  const sender = typeof value.sender === "string" ? fromHex(value.sender) : undefined;
  const sha256 = typeof value.sha256 === "string" ? fromHex(value.sha256) : undefined;
  const { size, verified, name } = value;
  if (
    fileId?.length !== 16 || sender?.length !== 32 || sha256?.length !== 32 ||
    typeof name !== "string" || !Number.isSafeInteger(size) || !Number.isSafeInteger(verified) ||
    (verified as number) < 0 || (verified as number) > (size as number)
  ) {
    return undefined;
  }
  return { fileId, sender, sha256, size: size as number, verified: verified as number, name };
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
