/**
 * Key exchange pieces of the handshake (docs/PROTOCOL.md §6): ephemeral X25519, the per-transfer
 * secret carried under the receiver's RSA-OAEP key, and the session key schedule.
 */
import { SfsError } from "../errors.ts";
import type { Bytes } from "./bytes.ts";
import { concat } from "./bytes.ts";
import { hkdfEach } from "./kdf.ts";
import { LABEL, labelled } from "./labels.ts";

/** Size of an X25519 public key, a transported secret and a hello nonce. */
export const X25519_BYTES = 32;
export const SECRET_BYTES = 32;
export const NONCE_BYTES = 32;

/** A fresh ephemeral X25519 key pair; the private half never leaves WebCrypto. */
export interface Ephemeral {
  readonly publicKey: Bytes;
  readonly privateKey: CryptoKey;
}

/** Raw application keys (§6.5): one per direction for sealed records, one for the payload stream. */
export interface SessionKeys {
  /** Seals records the responder (sender, index server) writes. */
  readonly responder: Bytes;
  /** Seals records the initiator (receiver, index client) writes. */
  readonly initiator: Bytes;
  /** Seals the payload stream's chunks (§7). */
  readonly payload: Bytes;
}

/** Generates an ephemeral X25519 key pair. */
export async function generateEphemeral(): Promise<Ephemeral> {
  const pair = await crypto.subtle.generateKey({ name: "X25519" }, false, [
    "deriveBits",
  ]) as CryptoKeyPair;
  return {
    publicKey: new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)),
    privateKey: pair.privateKey,
  };
}

/**
 * X25519 with the peer's raw public key. An all-zero result means the peer sent a low-order
 * point to force a known secret; it is refused (RFC 7748 §6.1).
 */
export async function x25519(privateKey: CryptoKey, peerPublic: Bytes): Promise<Bytes> {
  let shared: Bytes;
  try {
    const peer = await crypto.subtle.importKey("raw", peerPublic, { name: "X25519" }, false, []);
    shared = new Uint8Array(
      await crypto.subtle.deriveBits({ name: "X25519", public: peer }, privateKey, 256),
    );
  } catch (cause) {
    throw new SfsError("BAD_KEY", "Invalid ephemeral X25519 key", { cause });
  }
  if (shared.every((byte) => byte === 0)) {
    throw new SfsError("BAD_KEY", "Ephemeral X25519 key is a low-order point");
  }
  return shared;
}

/** Encrypts the per-transfer secret to the receiver's RSA-OAEP key, labelled for sfs. */
export async function wrapSecret(receiverOaep: CryptoKey, secret: Bytes): Promise<Bytes> {
  return new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "RSA-OAEP", label: labelled(LABEL.OAEP) },
      receiverOaep,
      secret,
    ),
  );
}

/** Decrypts a wrapped secret; any failure is DECRYPT_FAILED with no detail (no oracle). */
export async function unwrapSecret(oaepPrivate: CryptoKey, wrapped: Bytes): Promise<Bytes> {
  let secret: Bytes;
  try {
    secret = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "RSA-OAEP", label: labelled(LABEL.OAEP) },
        oaepPrivate,
        wrapped,
      ),
    );
  } catch {
    throw new SfsError("DECRYPT_FAILED", "Cannot decrypt the transfer secret");
  }
  if (secret.length !== SECRET_BYTES) {
    throw new SfsError("DECRYPT_FAILED", "Cannot decrypt the transfer secret");
  }
  return secret;
}

/**
 * The key schedule: HKDF-SHA256 over `shared ‖ secret`, salted with the transcript hash. Both
 * inputs are needed, so a reader must break X25519 (forward secrecy) *and* hold the receiver's
 * RSA key (only the chosen receiver can read).
 */
export async function deriveSessionKeys(
  shared: Bytes,
  secret: Bytes,
  transcriptHash: Bytes,
): Promise<SessionKeys> {
  const ikm = concat(shared, secret);
  let keys: Bytes[];
  try {
    keys = await hkdfEach(ikm, transcriptHash, [
      LABEL.KEY_RESPONDER,
      LABEL.KEY_INITIATOR,
      LABEL.KEY_PAYLOAD,
    ]);
  } finally {
    ikm.fill(0);
  }
  const [responder, initiator, payload] = keys;
  return { responder, initiator, payload };
}
