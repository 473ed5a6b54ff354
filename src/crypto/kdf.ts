/** The one HKDF-SHA256 helper (docs/PROTOCOL.md §3); it derives the handshake and application keys of §6.5. */
import { type Bytes, utf8 } from "./bytes.ts";

/**
 * Derives `length` bytes with HKDF-SHA256 from `ikm` and `salt` for each label in `infos`;
 * `ikm` is imported once for all of them (a key schedule derives several keys at a time).
 */
export async function hkdfEach(
  ikm: Bytes,
  salt: Bytes,
  infos: readonly string[],
  length = 32,
): Promise<Bytes[]> {
  const key = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  return await Promise.all(infos.map(async (info) =>
    new Uint8Array(
      await crypto.subtle.deriveBits(
        { name: "HKDF", hash: "SHA-256", salt, info: utf8(info) },
        key,
        length * 8,
      ),
    )
  ));
}

/** Imports 32 raw bytes as a non-extractable AES-256-GCM key. */
export function aesKey(raw: Bytes): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}
