/**
 * The handshake's messages (docs/PROTOCOL.md §6): HELLO and HELLO_REPLY in plaintext, then the
 * handshake records RESPONDER_AUTH, INITIATOR_AUTH and KEY_TRANSPORT. messages.ts merges their
 * codecs into the one table of messages.
 */
import { SfsError } from "../errors.ts";
import type { Bytes } from "../crypto/bytes.ts";
import type { ByteReader } from "../crypto/encoding.ts";
import { NONCE_BYTES, X25519_BYTES } from "../crypto/exchange.ts";
import type { Signatures } from "../crypto/sign.ts";
import {
  type Codec,
  decodeFlag,
  decodeSignatures,
  encodeSignatures,
  MAX_IDENTITY_BYTES,
} from "./message_fields.ts";
import { MessageType } from "./message_types.ts";

/** Protocol version spoken by this build. */
export const PROTOCOL_VERSION = 2;
/** Longest `options` field of HELLO / HELLO_REPLY; version 2 requires it empty (§6.2). */
const MAX_OPTIONS_BYTES = 2048;
/** Longest RSA-OAEP wrapped secret (RSA-4096 makes 512 bytes). */
export const MAX_WRAPPED_BYTES = 512;

/** Initiator's first message (§6.2): no identity, only the ephemeral key and a nonce. */
export interface Hello {
  type: typeof MessageType.HELLO;
  version: number;
  /** Reserved; empty in version 2 (it sits where version 1 had the identity). */
  options: Bytes;
  ephemeral: Bytes;
  nonce: Bytes;
}

/** Responder's plain answer (§6.2), sent together with RESPONDER_AUTH. */
export interface HelloReply {
  type: typeof MessageType.HELLO_REPLY;
  version: number;
  options: Bytes;
  ephemeral: Bytes;
  nonce: Bytes;
}

/** The responder's identity and its signatures over H_R (§6.4), under its handshake key. */
export interface ResponderAuth {
  type: typeof MessageType.RESPONDER_AUTH;
  identity: Bytes;
  signatures: Signatures;
}

/** The initiator's identity and its signatures over H_I (§6.4), under its handshake key. */
export interface InitiatorAuth {
  type: typeof MessageType.INITIATOR_AUTH;
  identity: Bytes;
  /** An early request follows as the initiator's second handshake record. */
  early: boolean;
  signatures: Signatures;
}

/** The per-connection secret under the initiator's RSA-OAEP key (§6.4). */
export interface KeyTransport {
  type: typeof MessageType.KEY_TRANSPORT;
  wrappedSecret: Bytes;
}

/** Any handshake message. */
export type HandshakeMessage = Hello | HelloReply | ResponderAuth | InitiatorAuth | KeyTransport;

/** The codec of every handshake message; a missing one is a compile error in messages.ts. */
export const HANDSHAKE_CODECS: { [M in HandshakeMessage as M["type"]]: Codec<M> } = {
  [MessageType.HELLO]: {
    encode: (w, m) => w.u16(m.version).bytes16(m.options).raw(m.ephemeral).raw(m.nonce),
    decode: (r) => ({ ...decodeVersionAndOptions(r, "hello"), ...decodeEphemeral(r) }),
  },
  [MessageType.HELLO_REPLY]: {
    encode: (w, m) => w.u16(m.version).bytes16(m.options).raw(m.ephemeral).raw(m.nonce),
    decode: (r) => ({ ...decodeVersionAndOptions(r, "hello reply"), ...decodeEphemeral(r) }),
  },
  [MessageType.RESPONDER_AUTH]: {
    encode: (w, m) => {
      w.bytes16(m.identity);
      encodeSignatures(w, m.signatures);
    },
    decode: (r) => ({ identity: r.bytes16(MAX_IDENTITY_BYTES), signatures: decodeSignatures(r) }),
  },
  [MessageType.INITIATOR_AUTH]: {
    encode: (w, m) => {
      w.bytes16(m.identity).u8(m.early ? 1 : 0);
      encodeSignatures(w, m.signatures);
    },
    decode: (r) => ({
      identity: r.bytes16(MAX_IDENTITY_BYTES),
      early: decodeFlag(r),
      signatures: decodeSignatures(r),
    }),
  },
  [MessageType.KEY_TRANSPORT]: {
    encode: (w, m) => w.bytes16(m.wrappedSecret),
    decode: (r) => ({ wrappedSecret: r.bytes16(MAX_WRAPPED_BYTES) }),
  },
};

/**
 * Reads `u16 version ‖ bytes16 options`, the version first (§6.8): a peer of another version
 * gets VERSION_MISMATCH naming both, whatever follows, and version 2 requires empty options.
 */
function decodeVersionAndOptions(
  reader: ByteReader,
  what: string,
): { version: number; options: Bytes } {
  const version = reader.u16();
  if (version !== PROTOCOL_VERSION) {
    throw new SfsError(
      "VERSION_MISMATCH",
      `Protocol ${version} is not supported; this sfs speaks ${PROTOCOL_VERSION}`,
    );
  }
  const options = reader.bytes16(MAX_OPTIONS_BYTES);
  if (options.length !== 0) reader.fail(`non-empty options in a version 2 ${what}`);
  return { version, options };
}

function decodeEphemeral(reader: ByteReader): { ephemeral: Bytes; nonce: Bytes } {
  return { ephemeral: reader.raw(X25519_BYTES), nonce: reader.raw(NONCE_BYTES) };
}
