/** What sender and receiver must compute alike (docs/PROTOCOL.md §7). */
import { type Bytes, sha256, utf8 } from "../crypto/bytes.ts";
import { ByteWriter } from "../crypto/encoding.ts";
import { LABEL, labelled } from "../crypto/labels.ts";
import { encodeMessage, FILE_ID_BYTES, type Manifest } from "../wire/messages.ts";

/** Sealed chunks kept in flight on each side: enough to overlap disk, crypto and socket. */
export const CHUNKS_IN_FLIGHT = 4;

/**
 * A file's id: the first 16 bytes of SHA-256 over the owner's fingerprint, the content hash and
 * the name. It is stable across restarts of `sfs send` (so a ticket and a resume keep working)
 * and differs between owners, so equal files of two people do not link them.
 */
export async function fileIdOf(
  ownerFingerprint: Uint8Array,
  contentSha256: Uint8Array,
  name: string,
): Promise<Bytes> {
  const digest = await sha256(labelled(LABEL.FILE_ID, ownerFingerprint, contentSha256, utf8(name)));
  return digest.slice(0, FILE_ID_BYTES);
}

/**
 * The data the final signatures cover (§7.3): transcript hash ‖ SHA-256(manifest body) ‖ content
 * SHA-256 ‖ u64 size. The transcript hash binds it to this receiver's handshake.
 */
export async function finalSignedData(transcriptHash: Bytes, manifest: Manifest): Promise<Bytes> {
  return new ByteWriter()
    .raw(transcriptHash)
    .raw(await sha256(encodeMessage(manifest)))
    .raw(manifest.sha256)
    .u64(manifest.size)
    .finish();
}
