/**
 * What both roles of the handshake share (docs/PROTOCOL.md §6): options, the sources of
 * randomness, reading the plain messages, and turning the agreed secrets into a Channel.
 */
import { SfsError } from "../errors.ts";
import type { Bytes } from "../crypto/bytes.ts";
import { deriveSessionKeys, type Ephemeral, generateEphemeral } from "../crypto/exchange.ts";
import type { PublicIdentity } from "../crypto/identity.ts";
import {
  type AeadBackend,
  AeadKey,
  type BackendChooser,
  type BackendHint,
} from "../crypto/aead.ts";
import { aesKey } from "../crypto/kdf.ts";
import { payloadKdfKey } from "../crypto/file_key.ts";
import type { SignaturePolicy } from "../crypto/sign.ts";
import { NONCE_BYTES } from "../crypto/exchange.ts";
import { FrameKind, FrameReader, FrameWriter, type Transport } from "./frame.ts";
import {
  decodeMessage,
  encodeMessage,
  type Hello,
  type HelloReply,
  type Message,
  MessageType,
  PLAIN_TYPES,
  PROTOCOL_VERSION,
} from "./messages.ts";
import { Channel, DEFAULT_MAX_RECORD, withType } from "./channel.ts";
import { deriveHandshakeKeys, type Transcript } from "./handshake_transcript.ts";
import { MAX_HANDSHAKE_FRAME, type ReadRecord } from "./handshake_record.ts";

/** Where the handshake's fresh values come from; tests and vectors inject fixed ones. */
export interface HandshakeSources {
  /** `n` random bytes (nonces, the transported secret). @default crypto.getRandomValues */
  random?: (n: number) => Bytes;
  /** A fresh ephemeral X25519 key pair. @default generateEphemeral */
  ephemeral?: () => Promise<Ephemeral>;
}

/** Options both roles share. */
export interface ChannelOptions extends HandshakeSources {
  /** Bound on any single wait for the peer. @default 30000 */
  idleTimeoutMs?: number;
  /** Largest sealed record accepted from the peer. @default 1 MiB */
  maxRecordBytes?: number;
  /** What the peer is called in the errors it reports: "sender", "index server". @default "other side" */
  peerName?: string;
  /**
   * AES-GCM implementation of the channel's records and payload, or how to choose it for each
   * key's job. @default the process's choice
   */
  aeadBackend?: AeadBackend | BackendChooser;
  /**
   * What the records will carry, for the process's choice of their backend when `aeadBackend`
   * is not given: {@link TRANSFER_RECORDS} for a transfer. @default nothing known
   */
  recordHint?: BackendHint;
}

/**
 * A transfer's records: a few messages around a payload that has its own key, so they need not
 * load a library (OpenSSL's first key costs ~10 ms) that the payload may never need.
 */
export const TRANSFER_RECORDS: BackendHint = { light: true };

/** Options of the initiator (receiver or index client). */
export interface InitiateOptions extends ChannelOptions {
  /** Called with the responder's identity before its signatures are checked; throws to refuse. */
  verifyResponder: (responder: PublicIdentity) => void | Promise<void>;
  /** Which of the responder's handshake signatures must verify. @default "both" */
  require?: SignaturePolicy;
  /** Which algorithms this side signs with; Ed25519 is always required of it. @default "ed25519" */
  sign?: SignaturePolicy;
  /** A first request sent in flight 3 (§6.4), or as the first record when it does not fit. */
  early?: Message;
  /**
   * Called once the responder is proven, before anything about this side goes out (§6.6); a
   * throw ends the handshake there, having sent nothing but the HELLO (a lost race, say).
   */
  onResponderProven?: () => void;
}

/** Options of the responder (sender or index server). */
export interface RespondOptions extends ChannelOptions {
  /** Which algorithms to sign with. @default "both" */
  sign?: SignaturePolicy;
  /** Which of the initiator's signatures must verify. @default "ed25519" */
  requireInitiator?: SignaturePolicy;
  /** Admission before anything is known of the initiator (caps); throws SfsError BUSY. */
  admit?: () => void | Promise<void>;
  /** Called with the initiator's identity once its signatures verified; throws to refuse. */
  acceptInitiator?: (initiator: PublicIdentity) => void | Promise<void>;
  /** Message types the initiator may send as its early request. @default none */
  earlyTypes?: ReadonlySet<number>;
  /**
   * Called once flight 2 is written: from then on the responder waits on the initiator, which
   * may be asking its user whether to trust this side's key (§6.6).
   */
  onFlightTwo?: () => void;
}

/** The sources with their defaults filled in. */
export function sourcesOf(options: HandshakeSources): Required<HandshakeSources> {
  return {
    random: options.random ?? ((n) => crypto.getRandomValues(new Uint8Array(n))),
    ephemeral: options.ephemeral ?? generateEphemeral,
  };
}

/** What the peer is called in the errors it reports (see remoteError() in channel.ts). */
export function peerNameOf(options: ChannelOptions): string {
  return options.peerName ?? "other side";
}

/** Reads one plain frame (HELLO, HELLO_REPLY or ABORT) and decodes it, version first. */
export async function readPlain(reader: FrameReader): Promise<ReadRecord> {
  const frame = await reader.read(MAX_HANDSHAKE_FRAME);
  if (frame === null) {
    throw new SfsError("CONNECTION_CLOSED", "Connection closed during the handshake");
  }
  if (frame.kind !== FrameKind.PLAIN || frame.body.length < 1) {
    throw new SfsError("UNEXPECTED_MESSAGE", "Expected a plaintext handshake frame");
  }
  const type = frame.body[0];
  if (!PLAIN_TYPES.has(type)) {
    throw new SfsError("UNEXPECTED_MESSAGE", `Message ${type} must be sealed`);
  }
  return { message: decodeMessage(type, frame.body.subarray(1)), content: frame.body };
}

/** What the handshake agreed, ready for the application keys (§6.5). */
export interface Agreed {
  peer: PublicIdentity;
  dh: Bytes;
  secret: Bytes;
  authHash: Bytes;
  finalHash: Bytes;
  early?: Message;
}

/**
 * Derives the application keys from `dh ‖ secret` and `H_F`, wipes the secrets they came from,
 * and opens the channel with this side's direction keys.
 */
export async function establish(
  role: "initiator" | "responder",
  io: HandshakeIo,
  agreed: Agreed,
): Promise<Channel> {
  const keys = await deriveSessionKeys(agreed.dh, agreed.secret, agreed.finalHash);
  agreed.secret.fill(0);
  agreed.dh.fill(0);
  const [send, receive] = role === "initiator"
    ? [keys.initiator, keys.responder]
    : [keys.responder, keys.initiator];
  const backend = { backend: io.options.aeadBackend };
  const records = { ...backend, hint: io.options.recordHint };
  try {
    return new Channel({
      reader: io.reader,
      writer: io.writer,
      transport: io.transport,
      peer: agreed.peer,
      transcriptHash: agreed.finalHash,
      authHash: agreed.authHash,
      early: agreed.early,
      sendKey: await AeadKey.import(send, records),
      receiveKey: await AeadKey.import(receive, records),
      payloadKey: AeadKey.deferred(keys.payload, backend),
      payloadKdf: await payloadKdfKey(keys.payload),
      maxRecordBytes: io.options.maxRecordBytes ?? DEFAULT_MAX_RECORD,
      peerName: peerNameOf(io.options),
    });
  } finally {
    // Imported or copied (or failed): the raw keys are needed nowhere else.
    for (const raw of [keys.responder, keys.initiator, keys.payload]) raw.fill(0);
  }
}

/** The frames of one handshake, and what establish() needs besides. */
export interface HandshakeIo {
  readonly reader: FrameReader;
  readonly writer: FrameWriter;
  readonly transport: Transport;
  readonly options: ChannelOptions;
}

/** Frames `transport` for a handshake under `options`' frame limits and deadlines. */
export function handshakeIo(transport: Transport, options: ChannelOptions): HandshakeIo {
  return {
    reader: new FrameReader(transport, options),
    writer: new FrameWriter(transport, options),
    transport,
    options,
  };
}

/** A fresh HELLO or HELLO_REPLY (§6.2) as record content, with its ephemeral key pair. */
export async function helloContent(
  type: typeof MessageType.HELLO | typeof MessageType.HELLO_REPLY,
  options: HandshakeSources,
): Promise<{ ephemeral: Ephemeral; content: Bytes }> {
  const sources = sourcesOf(options);
  const ephemeral = await sources.ephemeral();
  const hello: Hello | HelloReply = {
    type,
    version: PROTOCOL_VERSION,
    options: new Uint8Array(),
    ephemeral: ephemeral.publicKey,
    nonce: sources.random(NONCE_BYTES),
  };
  return { ephemeral, content: contentOf(hello) };
}

/** A message as handshake record content: its type byte, then its body. */
export function contentOf(message: Message): Bytes {
  return withType(message.type, encodeMessage(message));
}

/**
 * The handshake keys (§6.3) from the X25519 secret and the transcript so far, imported as
 * AES-GCM keys; the raw key bytes are wiped.
 */
export async function handshakeKeys(
  dh: Bytes,
  transcript: Transcript,
): Promise<{ initiator: CryptoKey; responder: CryptoKey }> {
  const raw = await deriveHandshakeKeys(dh, await transcript.hash());
  try {
    return { initiator: await aesKey(raw.initiator), responder: await aesKey(raw.responder) };
  } finally {
    raw.initiator.fill(0);
    raw.responder.fill(0);
  }
}
