/**
 * The handshake transcript and key schedule (docs/PROTOCOL.md §6.5): staged hashes over the
 * entries `E(m) = bytes32(u8 type ‖ body)` of every handshake message, and the two handshake
 * keys derived from the ephemeral X25519 secret and `H_1`.
 */
import { type Bytes, sha256 } from "../crypto/bytes.ts";
import { ByteWriter } from "../crypto/encoding.ts";
import { hkdfEach } from "../crypto/kdf.ts";
import { LABEL, labelled } from "../crypto/labels.ts";
import { MessageType } from "./messages.ts";

/** The entries hashed so far; each hash is over a prefix of them, under one label. */
export class Transcript {
  readonly #entries: Bytes[] = [];

  /** Appends `E(m)` for a message's content (its type byte and body). */
  append(content: Uint8Array): this {
    this.#entries.push(new ByteWriter().bytes32(content).finish());
    return this;
  }

  /** The hash of the entries so far, and of `extra` after them when given (not appended). */
  async hash(extra?: Uint8Array): Promise<Bytes> {
    const entries = [...this.#entries];
    if (extra) entries.push(new ByteWriter().bytes32(extra).finish());
    return await sha256(labelled(LABEL.TRANSCRIPT, ...entries));
  }
}

/** What `H_R` adds: `u8 RESPONDER_AUTH ‖ bytes16 identity` (the signer's own identity). */
export function responderSigned(identity: Uint8Array): Bytes {
  return new ByteWriter().u8(MessageType.RESPONDER_AUTH).bytes16(identity).finish();
}

/** What `H_I` adds: `u8 INITIATOR_AUTH ‖ bytes16 identity ‖ u8 flags`. */
export function initiatorSigned(identity: Uint8Array, early: boolean): Bytes {
  return new ByteWriter().u8(MessageType.INITIATOR_AUTH).bytes16(identity).u8(early ? 1 : 0)
    .finish();
}

/** The raw handshake keys (§6.5): one per direction, for handshake records only. */
export interface HandshakeKeys {
  readonly initiator: Bytes;
  readonly responder: Bytes;
}

/** `hs_I` and `hs_R` from the X25519 secret, salted with `H_1`. */
export async function deriveHandshakeKeys(dh: Bytes, h1: Bytes): Promise<HandshakeKeys> {
  const [initiator, responder] = await hkdfEach(dh, h1, [
    LABEL.KEY_HANDSHAKE_INITIATOR,
    LABEL.KEY_HANDSHAKE_RESPONDER,
  ]);
  return { initiator, responder };
}
