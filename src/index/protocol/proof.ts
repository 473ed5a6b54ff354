/**
 * Proof of possession for the index (docs/PROTOCOL.md §12.2): signatures over the handshake's
 * transcript hash and the username. The transcript hash covers the server's fresh nonce, so a
 * proof is a response to a per-connection challenge and is worthless on any other channel.
 */
import type { Bytes } from "../../crypto/bytes.ts";
import { ByteWriter } from "../../crypto/encoding.ts";
import type { Identity, PublicIdentity } from "../../crypto/identity.ts";
import { LABEL } from "../../crypto/labels.ts";
import { sign, type SignaturePolicy, type Signatures, verify } from "../../crypto/sign.ts";

/** The signed data: `transcript_hash ‖ bytes16 UTF-8 username` (the label is added by sign). */
export function proofData(transcriptHash: Uint8Array, username: string): Bytes {
  return new ByteWriter().raw(transcriptHash).text(username).finish();
}

/** Signs the proof for `username` on the channel whose transcript hash is given. */
export function signProof(
  identity: Identity,
  transcriptHash: Uint8Array,
  username: string,
  policy: SignaturePolicy = "both",
): Promise<Signatures> {
  return sign(identity, LABEL.AUTH_SIGNATURE, proofData(transcriptHash, username), policy);
}

/** Verifies a proof; throws SfsError BAD_SIGNATURE when a required or present one fails. */
export function verifyProof(
  signer: PublicIdentity,
  transcriptHash: Uint8Array,
  username: string,
  proof: Signatures,
  required: SignaturePolicy = "both",
): Promise<void> {
  return verify(
    signer,
    LABEL.AUTH_SIGNATURE,
    proofData(transcriptHash, username),
    proof,
    required,
  );
}
