/** What the sender's final signatures cover (docs/PROTOCOL.md §7.3); both sides compute it. */
import { type Bytes, sha256 } from "../crypto/bytes.ts";
import { ByteWriter } from "../crypto/encoding.ts";
import { encodeMessage, type Manifest } from "../wire/messages.ts";

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
