/**
 * The file streams of a tree, back to back on one channel (docs/PROTOCOL.md §7.8): each file a
 * §7.2 stream under its own key, no message and no round trip between files.
 *
 * Reading, sealing and sending overlap across file boundaries: one queue of at most
 * CHUNKS_IN_FLIGHT sealed chunks (send_queue.ts) spans files, so ten thousand small files cost no more
 * waits than one large one. Each file is read only through a handle whose `fstat` is the file
 * that was hashed (same device and inode, found by `lstat`, so a symlink put in its place is not
 * followed), and its last chunk is sealed only once what was read is known to be what was hashed:
 * its settled stamp (content_stamp.ts) still that of the handle after the last read, or else the
 * SHA-256 of everything read equal to the entry's. Otherwise FILE_CHANGED goes out instead of
 * that chunk, and no file the manifest misdescribes ever completes.
 *
 * @module
 */
import { countWork } from "../gc.ts";
import { isSfsError, SfsError } from "../errors.ts";
import { type Bytes, constantTimeEqual } from "../crypto/bytes.ts";
import type { AeadKey } from "../crypto/aead.ts";
import { fileKey } from "../crypto/file_key.ts";
import { createSha256 } from "../crypto/sha256.ts";
import { chunkCount, chunkLength, sealChunk, TAG_BYTES } from "../crypto/stream.ts";
import type { Channel } from "../wire/channel.ts";
import type { EntryRange } from "../wire/messages.ts";
import { escapeForDisplay } from "../text.ts";
import { SendQueue } from "./send_queue.ts";
import { CHUNKS_IN_FLIGHT } from "./pipelining.ts";
import { readFullSync } from "../fs.ts";
import type { BuiltEntry } from "./tree_manifest.ts";
import { hasStamp } from "./content_stamp.ts";
import type { SharedTree } from "./tree_share.ts";

const BEHIND_READ_BYTES = 1024 * 1024;
/**
 * Files opened, checked and keyed ahead of the one being read: a small file is mostly system
 * calls and a key derivation, so doing those for the next few while this one is read and sealed
 * keeps the channel busy (also bounds the handles open at once).
 */
const FILES_AHEAD = 8;

/** Where the streams start, and which files they cover. */
export interface StreamPlan {
  /** Index of the first entry to stream. */
  readonly entry: number;
  /** Byte of that entry's file to start at (a chunk boundary, checked by the caller). */
  readonly offset: number;
  /** Only the file entries in these ranges (WANT); undefined: every file from `entry` on. */
  readonly ranges?: readonly EntryRange[];
  readonly chunkSize: number;
  /** Told the bytes sent so far by this call. */
  readonly onProgress?: (sentBytes: number) => void;
}

/** Sends the streams of `plan`'s files; returns the bytes sent. */
export async function sendTreeStreams(
  channel: Channel,
  tree: SharedTree,
  plan: StreamPlan,
): Promise<number> {
  const queue = new SendQueue(channel, plan.chunkSize, plan.onProgress);
  try {
    for await (const opened of openedFiles(channel, tree, plan)) {
      const from = opened.built.index === plan.entry ? plan.offset : 0;
      try {
        await sendFile(queue, opened, { from, chunkSize: plan.chunkSize });
        countWork();
      } catch (err) {
        // The chunks already sealed are sound: they go out, and FILE_CHANGED takes exactly the
        // place of the changed file's last chunk (§7.8).
        if (isSfsError(err, "FILE_CHANGED")) await queue.drain().catch(() => {});
        throw err;
      }
    }
    await queue.drain();
  } finally {
    await queue.settle();
  }
  return queue.sent;
}

function isPlanned(built: BuiltEntry, plan: StreamPlan): boolean {
  if (built.entry.kind !== "file" || built.index < plan.entry) return false;
  if (plan.ranges === undefined) return true;
  return plan.ranges.some((r) => built.index >= r.first && built.index < r.first + r.count);
}

/** A planned file, opened through a checked handle, with its stream key. */
interface OpenedFile {
  readonly built: BuiltEntry;
  readonly handle: Deno.FsFile;
  readonly key: AeadKey;
  /** The handle showed the entry's settled stamp when opened: no need to hash what is read. */
  readonly stamped: boolean;
}

/**
 * The planned files in manifest order, each opened and keyed up to {@link FILES_AHEAD} files
 * ahead. A failure (FILE_CHANGED) is thrown only when that file's turn comes, so every file
 * before it still goes out; what was opened and not taken is closed.
 */
async function* openedFiles(
  channel: Channel,
  tree: SharedTree,
  plan: StreamPlan,
): AsyncGenerator<OpenedFile> {
  const ahead: Promise<OpenedFile>[] = [];
  const open = (built: BuiltEntry) => {
    const opening = openFile(channel, tree, built);
    // Awaited in turn; until then a failure must not count as unhandled.
    opening.catch(() => {});
    ahead.push(opening);
  };
  try {
    for await (const built of tree.manifest.entries()) {
      if (!isPlanned(built, plan)) continue;
      open(built);
      if (ahead.length >= FILES_AHEAD) yield await ahead.shift()!;
    }
    while (ahead.length > 0) yield await ahead.shift()!;
  } finally {
    for (const opening of ahead.splice(0)) {
      opening.then((o) => {
        o.handle.close();
        o.key.dispose();
      }, () => {});
    }
  }
}

async function openFile(
  channel: Channel,
  tree: SharedTree,
  built: BuiltEntry,
): Promise<OpenedFile> {
  const [handle, key] = await Promise.allSettled([
    Promise.resolve().then(() => openChecked(built)),
    fileKey(channel.payloadKdf, tree.manifestHash, built.index),
  ]);
  if (handle.status === "fulfilled" && key.status === "fulfilled") {
    return { built, ...handle.value, key: key.value };
  }
  if (handle.status === "fulfilled") handle.value.handle.close();
  if (key.status === "fulfilled") key.value.dispose();
  throw handle.status === "rejected" ? handle.reason : (key as PromiseRejectedResult).reason;
}

/** Reads, checks and queues one file's chunks, from byte `from`, under its own key. */
async function sendFile(
  queue: SendQueue,
  opened: OpenedFile,
  at: { from: number; chunkSize: number },
): Promise<void> {
  const { built, key, stamped } = opened;
  const { entry } = built;
  const count = chunkCount(entry.size, at.chunkSize);
  using handle = opened.handle;
  // Without a settled stamp, what is sent is hashed as it is read. A resumed file is then also
  // read whole in the background through a second checked handle, rather than its first part
  // before the first chunk: that could take longer than the receiver's idle deadline for a large
  // file on a slow disk.
  const behind = !stamped && at.from > 0 ? hashBehind(built, at.from) : undefined;
  behind?.catch(() => {}); // awaited before the last chunk
  const seals: Promise<unknown>[] = [];
  try {
    // OpenSSL where loaded: its context is freed at the digest, where a `node:crypto` Hash per
    // file held native memory until a major GC (issue 11).
    const hasher = stamped ? undefined : await createSha256();
    if (at.from > 0) handle.seekSync(at.from, Deno.SeekMode.Start);
    for (let index = at.from / at.chunkSize; index < count; index++) {
      const { plaintext: whole, frame } = queue.nextBuffers();
      const plaintext = whole.subarray(0, chunkLength(entry.size, at.chunkSize, index));
      if (!readFullSync(handle, plaintext)) throw shrankError(entry.path);
      hasher?.update(plaintext);
      const last = index === count - 1;
      // The last chunk completes the file: it goes out only if the file is what was signed.
      if (last && hasher === undefined && !hasStamp(handle.statSync(), built.stamp!)) {
        throw changedError(built);
      }
      if (last && hasher) await checkSent(built, await hasher.digest(), behind);
      // Sealed with room for the frame header in front: one write per chunk (frame.ts).
      const into = frame.subarray(0, plaintext.length + TAG_BYTES);
      const sealed = sealChunk(key, index, last, plaintext, { into });
      seals.push(sealed);
      await queue.push(sealed);
      // Older seals were sent, so settled: holding one per chunk grew with the file's size.
      if (seals.length > CHUNKS_IN_FLIGHT) seals.shift();
    }
  } finally {
    // The key is freed once its last chunk is sealed, while the queue moves on to later files.
    disposeAfter(key, seals);
  }
}

function disposeAfter(key: AeadKey, seals: Promise<unknown>[]): void {
  Promise.allSettled(seals).then(() => key.dispose());
}

/**
 * Opens the file an entry was hashed from, refusing anything else (FILE_CHANGED): the path must
 * be a regular file, not a symlink (`lstat`), and the handle must be that same file, with the
 * device and inode that were hashed. `stamped`: it also has the entry's settled stamp.
 *
 * Synchronous: each call is a few microseconds on a cached folder, where an async one waits for
 * a pool thread and duplicates the descriptor; those waits were most of the per-file cost of a
 * tree of small files.
 */
function openChecked(built: BuiltEntry): { handle: Deno.FsFile; stamped: boolean } {
  let listed: Deno.FileInfo | undefined;
  try {
    listed = Deno.lstatSync(built.source);
  } catch {
    listed = undefined;
  }
  if (listed === undefined || !listed.isFile || !isHashedFile(listed, built)) {
    throw changedError(built);
  }
  let handle: Deno.FsFile;
  try {
    handle = Deno.openSync(built.source, { read: true });
  } catch {
    throw changedError(built);
  }
  try {
    const info = handle.statSync();
    if (!info.isFile || !isHashedFile(info, built) || !sameContentStamp(info, built)) {
      throw changedError(built);
    }
    return { handle, stamped: built.stamp !== undefined && hasStamp(info, built.stamp) };
  } catch (err) {
    handle.close();
    throw err;
  }
}

/** Same device and inode as when hashed (where the platform has inode numbers). */
function isHashedFile(info: Deno.FileInfo, built: BuiltEntry): boolean {
  if (info.ino === null) return true;
  return info.dev === built.dev && info.ino === built.ino;
}

/** Size and modification time as the manifest lists them. */
function sameContentStamp(info: Deno.FileInfo, built: BuiltEntry): boolean {
  return info.size === built.entry.size &&
    Math.max(0, info.mtime?.getTime() ?? 0) === built.entry.mtime;
}

/**
 * Before the last chunk: what was sent is the file the entry describes. From the start, the
 * SHA-256 of what was read must be the entry's. Resumed, the background pass's SHA-256 of the
 * whole file must be the entry's and its SHA-256 of the part from the offset must be that of
 * what was sent: so the bytes sent are the entry's last bytes. (Size and modification time were
 * checked at opening; an edit while the file is read changes what is read, which the hashes
 * show; bytes appended past the size are not read, and not sent.)
 */
async function checkSent(
  built: BuiltEntry,
  sent: Bytes,
  behind: Promise<{ whole: Bytes; tail: Bytes }> | undefined,
): Promise<void> {
  const whole = behind === undefined ? sent : (await behind).whole;
  const tail = behind === undefined ? sent : (await behind).tail;
  if (!constantTimeEqual(whole, built.entry.sha256) || !constantTimeEqual(tail, sent)) {
    throw changedError(built);
  }
}

/**
 * Reads the entry's file again through its own checked handle: the SHA-256 of its `size` bytes,
 * and of those from `from` on.
 */
async function hashBehind(
  built: BuiltEntry,
  from: number,
): Promise<{ whole: Bytes; tail: Bytes }> {
  using handle = openChecked(built).handle;
  const size = built.entry.size;
  const whole = await createSha256({ bytes: size });
  const tail = await createSha256({ bytes: size - from });
  const buffer = new Uint8Array(BEHIND_READ_BYTES);
  for (let done = 0; done < size;) {
    const n = await handle.read(buffer.subarray(0, Math.min(buffer.length, size - done)));
    if (n === null) throw shrankError(built.entry.path);
    const part = buffer.subarray(0, n);
    whole.update(part);
    if (done + n > from) tail.update(part.subarray(Math.max(0, from - done)));
    done += n;
  }
  return { whole: await whole.digest(), tail: await tail.digest() };
}

function changedError(built: BuiltEntry): SfsError {
  return new SfsError(
    "FILE_CHANGED",
    `"${
      escapeForDisplay(built.entry.path)
    }" changed since it was shared; the share is no longer served`,
    { hint: "Share it again so its hashes are recomputed" },
  );
}

function shrankError(path: string): SfsError {
  return new SfsError("FILE_CHANGED", `"${escapeForDisplay(path)}" shrank while it was being sent`);
}
