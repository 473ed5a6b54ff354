/**
 * The chunk stream of a file share (docs/PROTOCOL.md §7.2): read, checked, sealed and sent with a
 * few chunks in flight through a {@link SendQueue}, from the offset the receiver asked for.
 *
 * @module
 */
import { SfsError } from "../errors.ts";
import { readFullSync } from "../fs.ts";
import { type Bytes, constantTimeEqual } from "../crypto/bytes.ts";
import { createSha256 } from "../crypto/sha256.ts";
import { chunkCount, chunkLength, sealChunk, TAG_BYTES } from "../crypto/stream.ts";
import type { Channel } from "../wire/channel.ts";
import type { Manifest } from "../wire/messages.ts";
import { hasherAt } from "./content_hash.ts";
import { hasStamp } from "./content_stamp.ts";
import { SendQueue } from "./send_queue.ts";
import type { SharedFile } from "./sender.ts";

/**
 * Reads, seals and sends the chunks of `file` from `manifest.offset`, so reading and sealing
 * the next chunks overlaps sending this one; the queue's backpressure and reused buffers keep
 * memory flat whatever the file size. Returns whether what was read is provably the content that
 * was hashed (§7.3): the handle's stamp, when settled, unchanged from before the first read to
 * after the last; otherwise the SHA-256 of what was read, on top of the content before the
 * offset when resuming, equal to the file's.
 */
export async function streamFileChunks(
  channel: Channel,
  file: Pick<SharedFile, "path" | "name" | "size" | "sha256" | "content" | "stamp">,
  manifest: Pick<Manifest, "chunkSize" | "offset" | "size">,
  onProgress?: (sentBytes: number) => void,
): Promise<boolean> {
  const { chunkSize, offset, size } = manifest;
  const count = chunkCount(size, chunkSize);
  using handle = await Deno.open(file.path, { read: true });
  // Leaves the handle at `offset`.
  const check = await sentContentCheck(handle, file, offset);
  channel.payloadKey.expectBytes(size - offset);
  const queue = new SendQueue(
    channel,
    Math.min(chunkSize, size),
    onProgress && ((sent) => onProgress(offset + sent)),
  );
  try {
    for (let index = offset / chunkSize; index < count; index++) {
      const { plaintext: whole, frame } = queue.nextBuffers();
      const plaintext = whole.subarray(0, chunkLength(size, chunkSize, index));
      if (!readFullSync(handle, plaintext)) {
        throw new SfsError("FILE_CHANGED", `"${file.name}" shrank while it was being sent`);
      }
      check.update(plaintext);
      const into = frame.subarray(0, plaintext.length + TAG_BYTES);
      await queue.push(
        sealChunk(channel.payloadKey, index, index === count - 1, plaintext, { into }),
      );
    }
    await queue.drain();
  } finally {
    await queue.settle();
  }
  return await check.sentAsHashed();
}

/** Checks, as the chunks are read, that what is sent is the content that was hashed. */
interface SentContentCheck {
  /** Takes in a chunk as read. */
  update(data: Bytes): void;
  /** After the last chunk: whether everything read was the hashed content. */
  sentAsHashed(): Promise<boolean>;
}

/**
 * The check of what `handle` gives from `offset` on. A settled stamp needs no hashing (a change
 * sets the change time to the present, content_stamp.ts): the handle's `fstat` must show it now
 * and again after the last read. Otherwise, or when the stamp moved since (a `chmod` moves it
 * too), what is read is hashed: from the start (createSha256); when
 * resuming, from the kept midstate plus the bytes up to `offset` (content_hash.ts).
 */
async function sentContentCheck(
  handle: Deno.FsFile,
  file: Pick<SharedFile, "name" | "size" | "sha256" | "content" | "stamp">,
  offset: number,
): Promise<SentContentCheck> {
  const { stamp } = file;
  if (stamp !== undefined && hasStamp(await handle.stat(), stamp)) {
    await handle.seek(offset, Deno.SeekMode.Start);
    return {
      update: () => {},
      sentAsHashed: async () => hasStamp(await handle.stat(), stamp),
    };
  }
  const hasher = offset === 0
    ? await createSha256({ bytes: file.size })
    : await hasherAt(handle, file.content, offset, file.name);
  return {
    update: (data) => hasher.update(data),
    sentAsHashed: async () => constantTimeEqual(await hasher.digest(), file.sha256),
  };
}
