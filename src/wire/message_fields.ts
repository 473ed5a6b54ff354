/**
 * What the peer messages (messages.ts) and the index messages (index_messages.ts) share: the shape
 * of a codec, the field limits both use, and the codecs of signature sets (§5) and flags.
 */
import type { ByteReader, ByteWriter } from "../crypto/encoding.ts";
import type { Signatures } from "../crypto/sign.ts";

/** Longest file name a manifest may carry, in UTF-8 bytes (the receiver shortens further). */
export const MAX_WIRE_NAME_BYTES = 1024;
/** Largest encoded public identity (§4.1) accepted in any message. */
export const MAX_IDENTITY_BYTES = 2048;
/** Longest RSA-PSS signature in a signature set (§5): RSA-4096 makes 512 bytes. */
export const MAX_SIGNATURE_BYTES = 512;
/** Length of an Ed25519 signature (§5). */
export const ED25519_SIGNATURE_BYTES = 64;
/** Largest encoded signature set (§5): two `bytes16` fields at their largest. */
export const MAX_SIGNATURE_SET_BYTES = 2 + MAX_SIGNATURE_BYTES + 2 + ED25519_SIGNATURE_BYTES;

/** The codec of one message type: its body without the type byte. */
export interface Codec<M extends { type: number }> {
  encode(writer: ByteWriter, message: M): void;
  decode(reader: ByteReader): Omit<M, "type">;
}

/** Writes a signature set (§5): `bytes16 rsa_pss ‖ bytes16 ed25519`, empty when absent. */
export function encodeSignatures(writer: ByteWriter, signatures: Signatures): void {
  // An absent signature is an empty field; decodeSignatures maps it back to undefined.
  writer.bytes16(signatures.rsa ?? new Uint8Array()).bytes16(
    signatures.ed25519 ?? new Uint8Array(),
  );
}

/** Reads a signature set written by {@link encodeSignatures}, checking both lengths. */
export function decodeSignatures(reader: ByteReader): Signatures {
  const rsa = reader.bytes16(MAX_SIGNATURE_BYTES);
  const ed25519 = reader.bytes16(ED25519_SIGNATURE_BYTES);
  if (ed25519.length !== 0 && ed25519.length !== ED25519_SIGNATURE_BYTES) {
    reader.fail("Ed25519 signature not 64 bytes");
  }
  return {
    rsa: rsa.length ? rsa : undefined,
    ed25519: ed25519.length ? ed25519 : undefined,
  };
}

/** A boolean as one byte, 0 or 1; any other value has no meaning and is malformed. */
export function decodeFlag(reader: ByteReader): boolean {
  const value = reader.u8();
  if (value > 1) reader.fail(`flag byte ${value} is not 0 or 1`);
  return value === 1;
}
