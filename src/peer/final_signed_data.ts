/** What the sender's final signatures cover (docs/PROTOCOL.md §7.3); both sides compute it. */
import { type Bytes, sha256 } from "../crypto/bytes.ts";
import { ByteWriter } from "../crypto/encoding.ts";
import { encodeMessage, type Manifest, type TreeManifest } from "../wire/messages.ts";

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

/**
 * The data a tree's final signatures cover (§7.7): transcript hash ‖ SHA-256(TREE_MANIFEST body)
 * ‖ manifest hash ‖ u64 total bytes — §7.3's shape with the manifest hash as the content hash.
 */
export async function treeFinalSignedData(
  transcriptHash: Bytes,
  treeManifest: TreeManifest,
  manifestHash: Bytes,
  totalBytes: number,
): Promise<Bytes> {
  return new ByteWriter()
    .raw(transcriptHash)
    .raw(await sha256(encodeMessage(treeManifest)))
    .raw(manifestHash)
    .u64(totalBytes)
    .finish();
}
