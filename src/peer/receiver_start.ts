/**
 * Where a download starts (docs/PROTOCOL.md §7.5): continue the verified part of an interrupted
 * earlier run, or start from byte 0. Everything here runs under the target's lock, so two gets of
 * the same file never write one part file.
 */
import { join } from "../path.ts";
import { isSfsError, SfsError } from "../errors.ts";
import type { Sha256Hasher } from "../crypto/sha256.ts";
import { type Bytes, constantTimeEqual } from "../crypto/bytes.ts";
import type { Channel } from "../wire/channel.ts";
import { type Manifest, MessageType, type TreeManifest } from "../wire/messages.ts";
import { safeFileName } from "./names.ts";
import { PartFile, type PartInfo } from "./part_file.ts";
import type { FetchOptions } from "./receiver_options.ts";
import {
  findResumeState,
  loadResumeState,
  resumeOffset,
  type ResumeState,
  STATE_SUFFIX,
} from "./resume_state.ts";
import { TargetLock } from "./target_lock.ts";
import { TreePart } from "./tree_part.ts";
import type { TreeResume } from "./tree_receiver_start.ts";

/** Returned when the saved progress was discarded and the download must start over. */
export const START_OVER: unique symbol = Symbol("start over");

/** A part file from an earlier run that may be continued at `offset`. */
interface Resumable {
  readonly part: PartFile;
  readonly state: ResumeState;
  readonly offset: number;
}

/** What a fetch holds before its part file is open; {@link releaseStart} lets go of it. */
export interface Start {
  /** The sender's fingerprint (a resume continues only a download from the same sender). */
  readonly sender: Bytes;
  /** The name an earlier run saved under, if there is one (it is locked first). */
  earlierName?: string;
  /** The lock on the target name being written, once known. */
  lock?: TargetLock;
  /** The earlier run's part file, until it is taken over or given up. */
  resumable?: Resumable;
}

/** Finds an interrupted earlier download of this file from this sender and reopens it. */
export async function chooseStart(options: FetchOptions, sender: Bytes): Promise<Start> {
  const start: Start = { sender };
  const earlier = await findResumeState(options.outDir, options.fileId, sender);
  if (!earlier) return start;
  start.earlierName = earlier.name;
  try {
    // Taken before the state is trusted: another get of the same file may be writing it.
    start.lock = await TargetLock.acquire(join(options.outDir, earlier.name));
    start.resumable = await reopenForResume(options, earlier);
    return start;
  } catch (err) {
    await releaseStart(start);
    throw err;
  }
}

/** Closes a part file that was not taken over and releases the lock. */
export async function releaseStart(start: Start): Promise<void> {
  start.resumable?.part.close();
  await start.lock?.release();
}

/**
 * Returns the sender's answer to the GET (or TREE_GET) for the chosen start, which the handshake
 * sent as its early request (§6.4): MANIFEST for a file, TREE_MANIFEST for a tree (F5.1).
 */
export async function requestManifest(
  channel: Channel,
  start: Start,
  tree: TreeResume | undefined,
  options: FetchOptions,
): Promise<Manifest | TreeManifest | typeof START_OVER> {
  const offset = start.resumable?.offset ?? 0;
  let reply;
  try {
    reply = await channel.receive();
  } catch (err) {
    // The sender's answer to an offset it will not serve (§7.5), e.g. after its chunk size
    // changed: the saved progress can never be used with it, so it goes.
    if (!isSfsError(err, "BAD_MESSAGE")) throw err;
    if (tree) return await startTreeOver(tree, options, err);
    if (!start.resumable) throw err;
    const why = `the sender refused to resume at byte ${offset}`;
    return await startOver(start.resumable, why, options, err);
  }
  if (reply.type !== MessageType.MANIFEST && reply.type !== MessageType.TREE_MANIFEST) {
    throw new SfsError(
      "UNEXPECTED_MESSAGE",
      `Expected message ${MessageType.MANIFEST}, got ${reply.type}`,
    );
  }
  return reply;
}

/** Discards a tree's part folder whose resume point the sender refused (as {@link startOver}). */
async function startTreeOver(
  tree: TreeResume,
  options: FetchOptions,
  cause: unknown,
): Promise<typeof START_OVER> {
  await TreePart.discardStale(options.outDir, tree.name);
  const why = "the sender refused to resume there";
  if (options.reconnect) {
    options.onNote?.(`Starting "${tree.name}" over: ${why}`);
    return START_OVER;
  }
  throw new SfsError("BAD_MESSAGE", `Cannot resume "${tree.name}": ${why}`, {
    cause,
    hint: "The interrupted download was discarded; run the same command again to start over",
  });
}

/**
 * Opens the part file for a checked manifest: the earlier run's, rewound to its verified
 * prefix (fed to `hasher`), or a new one under the target's lock.
 */
export async function openPart(
  start: Start,
  manifest: Manifest,
  options: FetchOptions,
  hasher: Sha256Hasher,
): Promise<PartFile | typeof START_OVER> {
  const info: PartInfo = {
    fileId: options.fileId,
    sender: start.sender,
    sha256: manifest.sha256,
    size: manifest.size,
    chunkSize: manifest.chunkSize,
    name: safeFileName(manifest.name),
  };
  const resumable = start.resumable;
  if (!resumable) return await openFresh(start, info, options);
  const state = resumable.state;
  if (
    state.name !== info.name || state.size !== manifest.size ||
    !constantTimeEqual(state.sha256, manifest.sha256)
  ) {
    // The manifest matches the file id (checked before), so the state file was edited.
    return await startOver(resumable, "the saved state does not match the file", options);
  }
  const part = resumable.part;
  start.resumable = undefined;
  try {
    await part.rewind(resumable.offset, info, (bytes) => hasher.update(bytes));
  } catch (err) {
    await part.keep();
    throw err;
  }
  options.onNote?.(`Resuming "${info.name}" at ${resumable.offset} of ${manifest.size} bytes`);
  return part;
}

/** A new part file under `info.name`, locked; an earlier run's lock on another name goes. */
async function openFresh(start: Start, info: PartInfo, options: FetchOptions): Promise<PartFile> {
  if (start.earlierName !== info.name) {
    await start.lock?.release();
    start.lock = undefined;
    await Deno.mkdir(options.outDir, { recursive: true });
    start.lock = await TargetLock.acquire(join(options.outDir, info.name));
  }
  await noteStaleState(options, info.name, start.sender);
  return await PartFile.create(options.outDir, info.name, options.force ?? false, info);
}

/**
 * Under the target's lock, rereads the state (it may have changed before we held the lock) and
 * reopens its part file. Returns undefined, after saying why, when the download must start over.
 */
async function reopenForResume(
  options: FetchOptions,
  earlier: ResumeState,
): Promise<Resumable | undefined> {
  const state = await loadResumeState(join(options.outDir, earlier.name + STATE_SUFFIX));
  if (
    !state || !constantTimeEqual(state.fileId, earlier.fileId) ||
    !constantTimeEqual(state.sender, earlier.sender)
  ) {
    return undefined;
  }
  const offset = resumeOffset(state);
  if (offset === 0) return undefined;
  if (typeof offset !== "number") {
    options.onNote?.(`Starting "${state.name}" over: ${offset.reason}`);
    return undefined;
  }
  const part = await PartFile.reopen(
    options.outDir,
    state.name,
    options.force ?? false,
    state.verified,
  );
  if (!(part instanceof PartFile)) {
    // PartFile.create then removes that name (never the file it may link to) and starts afresh.
    options.onNote?.(`Starting "${state.name}" over: ${part.reason}`);
    return undefined;
  }
  return { part, state, offset };
}

/**
 * Discards the saved progress of a resume that cannot go on, and asks for a fresh start on a
 * new connection when one can be made; otherwise fails, and the next run starts over.
 */
async function startOver(
  resumable: Resumable,
  why: string,
  options: FetchOptions,
  cause?: unknown,
): Promise<typeof START_OVER> {
  await resumable.part.discard();
  const name = resumable.state.name;
  if (options.reconnect) {
    options.onNote?.(`Starting "${name}" over: ${why}`);
    return START_OVER;
  }
  throw new SfsError("BAD_MESSAGE", `Cannot resume "${name}": ${why}`, {
    cause,
    hint: "The interrupted download was discarded; run the same command again to start over",
  });
}

/** Says why an interrupted download of another file under the same name is not continued. */
async function noteStaleState(options: FetchOptions, name: string, sender: Bytes): Promise<void> {
  const stale = await loadResumeState(join(options.outDir, name + STATE_SUFFIX));
  if (!stale || constantTimeEqual(stale.fileId, options.fileId)) return;
  options.onNote?.(
    `Starting "${name}" over: the interrupted download was of ${
      constantTimeEqual(stale.sender, sender)
        ? "another version of the file"
        : "a file from another sender"
    }`,
  );
}
