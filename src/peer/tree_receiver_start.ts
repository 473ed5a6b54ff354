/**
 * Where a tree download starts (docs/design/folders.md F7.3): an interrupted earlier run's part
 * folder for the same share from the same sender is found before connecting, checked under the
 * share's lock, and continued from the entry in progress; anything inconsistent discards it and
 * the download starts over, saying why.
 *
 * @module
 */
import { join } from "../path.ts";
import { type Bytes, constantTimeEqual } from "../crypto/bytes.ts";
import { chunkCount } from "../crypto/stream.ts";
import { lstatOrUndefined } from "../fs.ts";
import { type TreeGet, TreeMessageType } from "../wire/messages.ts";
import type { ManifestHeader } from "./manifest.ts";
import { PART_SUFFIX } from "./part_file.ts";
import { checkProof, proofEntries } from "./proof.ts";
import type { FetchOptions } from "./receiver_options.ts";
import { TargetLock } from "./target_lock.ts";
import { TreePart } from "./tree_part.ts";
import { componentProblem } from "./tree_paths.ts";
import { loadTreeState, type TreeState } from "./tree_state.ts";
import type { TreeStart } from "./tree_receive_stream.ts";

/** Most entries of the output folder looked at when searching for a part folder. */
const MAX_SCANNED_ENTRIES = 100_000;

/** An interrupted tree download, checked and locked, ready to be continued. */
export interface TreeResume {
  readonly name: string;
  readonly part: TreePart;
  readonly state: TreeState;
  readonly header: ManifestHeader;
  readonly lock: TargetLock;
  /** Where the sender is asked to start. */
  readonly start: TreeStart;
  /** Files (not folders) in the manifest. */
  readonly files: number;
}

/** The early request that continues `resume` (F5.1). */
export function treeGetOf(shareId: Bytes, resume: TreeResume): TreeGet {
  return {
    type: TreeMessageType.TREE_GET,
    shareId,
    manifestHash: resume.state.manifestHash,
    entry: resume.start.entry,
    offset: resume.start.offset,
    want: false,
  };
}

/**
 * Finds an interrupted download of the share `options.fileId` from `sender` in the output folder
 * and reopens it under its lock; undefined when there is none or it cannot be continued (then
 * it is discarded, with a note).
 */
export async function chooseTreeStart(
  options: FetchOptions,
  sender: Bytes,
): Promise<TreeResume | undefined> {
  const found = await findTreeState(options.outDir, options.fileId, sender);
  if (!found) return undefined;
  const lock = await TargetLock.acquire(join(options.outDir, found.name));
  try {
    const resume = await reopen(options, found.name, sender);
    if (resume === undefined) {
      await lock.release();
      return undefined;
    }
    return { ...resume, lock };
  } catch (err) {
    await lock.release();
    throw err;
  }
}

/** Lets go of a resume that was not taken up (the lock). */
export async function releaseTreeStart(resume: TreeResume | undefined): Promise<void> {
  await resume?.lock.release();
}

async function reopen(
  options: FetchOptions,
  name: string,
  sender: Bytes,
): Promise<Omit<TreeResume, "lock"> | undefined> {
  const part = await TreePart.reopen(options.outDir, name, {
    force: options.force,
    proof: options.proof,
  });
  const startOver = async (why: string) => {
    options.onNote?.(`Starting "${name}" over: ${why}`);
    await TreePart.discardStale(options.outDir, name);
    return undefined;
  };
  if (!(part instanceof TreePart)) return await startOver(part.reason);
  // Read again under the lock: another get may have finished or changed it meanwhile.
  const state = await loadTreeState(part.statePath);
  if (
    !state || !constantTimeEqual(state.shareId, options.fileId) ||
    !constantTimeEqual(state.sender, sender)
  ) {
    return await startOver("its saved state is gone or changed");
  }
  let header: ManifestHeader;
  try {
    // Its hash and both signatures again: the folder is ours, but what it holds is checked.
    const proof = await checkProof(part.manifestPath, { expectedOwner: sender });
    if (!constantTimeEqual(proof.manifestHash, state.manifestHash)) {
      return await startOver("its manifest does not match its state");
    }
    header = proof.header;
  } catch {
    return await startOver("its manifest does not verify");
  }
  const point = await resumePoint(part, state);
  if (point.start === undefined) return await startOver("there is nothing to continue");
  return { name, part, state, header, start: point.start, files: point.files };
}

/**
 * The entry and byte to continue from, and the number of files: the first file at or after the
 * state's entry (the sender starts streams at files), at the state's verified bytes if it is
 * that entry; or, when every file was verified but the transfer was never signed off, the last
 * chunk of the last file, so the sender streams it again and ends with FINAL. No start when the
 * state makes no sense for the manifest or the tree has no file to ask for.
 *
 * One more pass over the kept manifest, after checkProof's: a resume reads it whole anyway,
 * since what the part folder holds is checked (hash and signatures) before it is trusted, and
 * the stream walks the kept files again (F7.3). A sequential read of a file of at most
 * MAX_MANIFEST_BYTES, about 1 MB for 10,000 files: not worth a second source of truth (a file
 * count or byte total in the state would need checking against the manifest all the same).
 */
async function resumePoint(
  part: TreePart,
  state: TreeState,
): Promise<{ start?: TreeStart; files: number }> {
  let last: { index: number; size: number } | undefined;
  let files = 0;
  let start: TreeStart | undefined;
  let bad = false;
  let index = 0;
  for await (const entry of proofEntries(part.manifestPath)) {
    if (entry.kind === "file") {
      files++;
      last = { index, size: entry.size };
      if (start === undefined && index >= state.entry) {
        const offset = index === state.entry ? state.verified : 0;
        if (offset > 0 && offset >= entry.size) bad = true;
        start = { entry: index, offset };
      }
    } else if (index === state.entry && state.verified !== 0) {
      bad = true;
    }
    index++;
  }
  if (bad) return { files };
  if (start === undefined && last !== undefined) {
    const offset = (chunkCount(last.size, state.chunkSize) - 1) * state.chunkSize;
    start = { entry: last.index, offset };
  }
  return { start, files };
}

/** Finds the part folder (`.NAME.sfs-part/state`) of `shareId` from `sender` in `outDir`. */
async function findTreeState(
  outDir: string,
  shareId: Bytes,
  sender: Bytes,
): Promise<{ name: string; state: TreeState } | undefined> {
  let scanned = 0;
  try {
    for await (const entry of Deno.readDir(outDir)) {
      if (++scanned > MAX_SCANNED_ENTRIES) break;
      if (!entry.isDirectory || !entry.name.startsWith(".")) continue;
      if (!entry.name.endsWith(PART_SUFFIX)) continue;
      // Only a name a share can have: a planted `.sfs-part` or `....sfs-part` (names "" and
      // "..") would take its lock outside the folder (`DIR.sfs-lock`) and fail the download.
      const name = entry.name.slice(1, -PART_SUFFIX.length);
      if (componentProblem(name) !== undefined) continue;
      const folder = join(outDir, entry.name);
      if (!(await lstatOrUndefined(folder))?.isDirectory) continue;
      const state = await loadTreeState(join(folder, "state"));
      if (
        state && constantTimeEqual(state.shareId, shareId) &&
        constantTimeEqual(state.sender, sender)
      ) {
        return { name, state };
      }
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  return undefined;
}
