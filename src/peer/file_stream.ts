/**
 * The chunk stream of a file share (docs/PROTOCOL.md §7.2): read, hashed, sealed and sent with a
 * few chunks in flight through a {@link SendQueue}, from the offset the receiver asked for.
 *
 * @module
 */
import { SfsError } from "../errors.ts";
import { readFullSync } from "../fs.ts";
import type { Bytes } from "../crypto/bytes.ts";
import { createSha256, type Sha256Hasher } from "../crypto/sha256.ts";
import { chunkCount, chunkLength, sealChunk, TAG_BYTES } from "../crypto/stream.ts";
import type { Channel } from "../wire/channel.ts";
import type { Manifest } from "../wire/messages.ts";
import { hasherAt } from "./content_hash.ts";
import { SendQueue } from "./send_queue.ts";
import type { SharedFile } from "./sender.ts";

/**
 * Reads, seals and sends the chunks of `file` from `manifest.offset`, so reading and sealing
 * the next chunks overlaps sending this one; the queue's backpressure and reused buffers keep
 * memory flat whatever the file size. Returns the SHA-256 of the whole content as sent: each
 * chunk is hashed as it is read, on top of the content before the offset when resuming.
 */
export async function streamFileChunks(
  channel: Channel,
  file: Pick<SharedFile, "path" | "name" | "size" | "content">,
  manifest: Pick<Manifest, "chunkSize" | "offset" | "size">,
  onProgress?: (sentBytes: number) => void,
): Promise<Bytes> {
  const { chunkSize, offset, size } = manifest;
  const count = chunkCount(size, chunkSize);
  using handle = await Deno.open(file.path, { read: true });
  // Leaves the handle at `offset`.
  const hasher = await sentContentHasher(handle, file, offset);
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
      const hashed = hasher.updateLater(plaintext);
      const into = frame.subarray(0, plaintext.length + TAG_BYTES);
      const sealed = sealChunk(channel.payloadKey, index, index === count - 1, plaintext, { into });
      // The buffers are reused once this settles: the hasher may read the plaintext until then.
      await queue.push(Promise.all([sealed, hashed]).then(([body]) => body));
    }
    await queue.drain();
  } finally {
    await queue.settle();
  }
  return await hasher.digest();
}

/**
 * The hasher of the content as sent: from the start, one that may hash off the main thread
 * (createSha256); when resuming, the kept midstate plus the bytes up to `offset` (content_hash.ts).
 */
async function sentContentHasher(
  handle: Deno.FsFile,
  file: Pick<SharedFile, "name" | "size" | "content">,
  offset: number,
): Promise<Sha256Hasher> {
  if (offset === 0) return await createSha256({ bytes: file.size });
  const hash = await hasherAt(handle, file.content, offset, file.name);
  return {
    update: (data) => void hash.update(data),
    updateLater: (data) => Promise.resolve(void hash.update(data)),
    digest: () => Promise.resolve(new Uint8Array(hash.digest())),
  };
}
