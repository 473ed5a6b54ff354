/**
 * Per-file stream keys of a tree transfer (docs/PROTOCOL.md §7.8, docs/design/folders.md F6.1):
 *
 * ```
 * file_key_i = HKDF-SHA256(ikm = payload_key, salt = manifest_hash,
 *                          info = "sfs/v2/key/file" ‖ u64 i, 32 bytes)
 * ```
 *
 * Each file of a tree is a §7.2 stream under its own key, so the stream code stays unchanged (a
 * StreamOpener per file) and a resumed file starts at its own chunk index. A (key, nonce) pair
 * never repeats: the payload key belongs to one connection, `i` to one manifest entry (HKDF with
 * distinct infos gives independent keys), and within one file the chunk indices are distinct.
 * A file's chunks sent as another file's fail authentication, so files cannot be swapped or
 * reordered.
 *
 * @module
 */
import { SfsError } from "../errors.ts";
import { type Bytes, concat, utf8 } from "./bytes.ts";
import { type AeadBackend, AeadKey } from "./aead.ts";
import { LABEL } from "./labels.ts";

/** Imports a connection's raw payload key (§6.5) as HKDF key material, not extractable. */
export function payloadKdfKey(payloadKey: Bytes): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", payloadKey, "HKDF", false, ["deriveBits"]);
}

/** The 32 raw bytes of entry `index`'s key (for vectors; transfers use {@link fileKey}). */
export async function fileKeyBytes(
  payloadKdf: CryptoKey,
  manifestHash: Bytes,
  index: number,
): Promise<Bytes> {
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new SfsError("INTERNAL", `Entry index ${index} is not a u64`);
  }
  const position = new Uint8Array(8);
  new DataView(position.buffer).setBigUint64(0, BigInt(index));
  const bits = await crypto.subtle.deriveBits(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: manifestHash,
      info: concat(utf8(LABEL.KEY_FILE), position),
    },
    payloadKdf,
    256,
  );
  return new Uint8Array(bits);
}

/**
 * The stream key of manifest entry `index` (§7.8), on the process's AEAD backend. The caller
 * disposes it when the file's stream ends.
 */
export async function fileKey(
  payloadKdf: CryptoKey,
  manifestHash: Bytes,
  index: number,
  options: { backend?: AeadBackend } = {},
): Promise<AeadKey> {
  const raw = await fileKeyBytes(payloadKdf, manifestHash, index);
  try {
    return await AeadKey.import(raw, options);
  } finally {
    raw.fill(0);
  }
}
