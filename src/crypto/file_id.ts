/** File ids (docs/PROTOCOL.md §7.1), shared by peers and the index so both compute them alike. */
import { type Bytes, sha256, utf8 } from "./bytes.ts";
import { LABEL, labelled } from "./labels.ts";

/** Length of a file id in bytes. */
export const FILE_ID_BYTES = 16;

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
