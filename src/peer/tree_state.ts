/**
 * Resume state of a tree download (docs/PROTOCOL.md §7.5, per file): `state` inside the part
 * folder `DIR/.NAME.sfs-part/` records which share, from which sender, under which manifest, and
 * how far the transfer got — the entry in progress and how many of its bytes are verified and on
 * disk. Every file before that entry was verified whole and synced before the state moved past it.
 *
 * The file is JSON padded to {@link TREE_STATE_BYTES}, created at that size once and rewritten in
 * place (as the single-file state, resume_state.ts), so recording progress never needs a new
 * block on a full disk.
 *
 * @module
 */
import { SfsError } from "../errors.ts";
import { type Bytes, fromHex, toHex } from "../crypto/bytes.ts";
import { lstatOrUndefined, writeAll } from "../fs.ts";
import { removeName } from "./part_file_paths.ts";

/** Size of every tree state file written, and the largest one read. */
export const TREE_STATE_BYTES = 4096;
const FORMAT = "sfs-tree-partial";
const VERSION = 1;

/** What is known about an interrupted tree download. */
export interface TreeState {
  /** The share id from the ticket or listing (F3.4). */
  readonly shareId: Bytes;
  /** Fingerprint of the sender whose streams were verified. */
  readonly sender: Bytes;
  /** Hash of the manifest kept in the part folder. */
  readonly manifestHash: Bytes;
  /** Chunk size of the streams: a resume starts on one of its boundaries. */
  readonly chunkSize: number;
  /** Index of the entry in progress: every file before it is verified and synced. */
  readonly entry: number;
  /** Bytes at the start of that entry's file that are verified and synced. */
  readonly verified: number;
}

/**
 * Encodes a state as exactly {@link TREE_STATE_BYTES} bytes. The fields that change between
 * checkpoints come first, inside the first 512-byte sector, so an in-place rewrite cut by a
 * crash cannot mix two checkpoints.
 */
export function encodeTreeState(state: TreeState): Uint8Array {
  const json = JSON.stringify({
    format: FORMAT,
    version: VERSION,
    entry: state.entry,
    verified: state.verified,
    chunkSize: state.chunkSize,
    shareId: toHex(state.shareId),
    sender: toHex(state.sender),
    manifestHash: toHex(state.manifestHash),
  });
  const bytes = new TextEncoder().encode(json);
  if (bytes.length >= TREE_STATE_BYTES) throw new SfsError("INTERNAL", "Tree state too large");
  const padded = new Uint8Array(TREE_STATE_BYTES).fill(0x20);
  padded.set(bytes);
  padded[TREE_STATE_BYTES - 1] = 0x0a;
  return padded;
}

/** Parses a state file's text, validating every field; undefined when it is not one of ours. */
export function parseTreeState(text: string): TreeState | undefined {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  if (value.format !== FORMAT || value.version !== VERSION) return undefined;
  const hex = (field: unknown, length: number) => {
    const bytes = typeof field === "string" ? fromHex(field) : undefined;
    return bytes?.length === length ? bytes : undefined;
  };
  const shareId = hex(value.shareId, 16);
  const sender = hex(value.sender, 32);
  const manifestHash = hex(value.manifestHash, 32);
  const { entry, verified, chunkSize } = value;
  if (
    !shareId || !sender || !manifestHash || !isCount(entry) || !isCount(verified) ||
    !isCount(chunkSize) || chunkSize < 1 || verified % chunkSize !== 0
  ) {
    return undefined;
  }
  return { shareId, sender, manifestHash, chunkSize, entry, verified };
}

/** Reads a state file; undefined when it is missing, not a regular file, or not one of ours. */
export async function loadTreeState(path: string): Promise<TreeState | undefined> {
  const info = await lstatOrUndefined(path).catch(() => undefined);
  if (!info?.isFile || info.size > TREE_STATE_BYTES) return undefined;
  try {
    return parseTreeState(await Deno.readTextFile(path));
  } catch {
    return undefined;
  }
}

/** A state file created once at its full size and rewritten in place through our handle. */
export class TreeStateFile {
  readonly #file: Deno.FsFile;
  #state: TreeState;

  private constructor(file: Deno.FsFile, state: TreeState) {
    this.#file = file;
    this.#state = state;
  }

  /**
   * Creates the state file at `path` (replacing what is there: the caller owns the private
   * folder it is in) and records `state` durably.
   */
  static async create(path: string, state: TreeState): Promise<TreeStateFile> {
    await removeName(path);
    const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
    const stateFile = new TreeStateFile(file, state);
    try {
      await stateFile.record(state.entry, state.verified);
    } catch (err) {
      file.close();
      throw err;
    }
    return stateFile;
  }

  /** The state last recorded. */
  get state(): TreeState {
    return this.#state;
  }

  /** Records that `entry` is in progress with `verified` bytes on disk, and syncs. */
  async record(entry: number, verified: number): Promise<void> {
    const state = { ...this.#state, entry, verified };
    const bytes = encodeTreeState(state);
    await this.#file.seek(0, Deno.SeekMode.Start);
    await writeAll(this.#file, bytes);
    await this.#file.syncData();
    this.#state = state;
  }

  /** Closes the handle; the file stays. */
  close(): void {
    try {
      this.#file.close();
    } catch {
      // Closed already.
    }
  }
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
