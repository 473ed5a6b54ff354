/**
 * The secure channel's records (docs/PROTOCOL.md §9): sealed records in both directions and
 * payload chunks from the responder, once the handshake (handshake.ts, §6) has agreed the keys.
 */
import { clearTimer, setTimer, type Timer } from "../timer.ts";
import { type ErrorCode, SfsError, wireText } from "../errors.ts";
import type { Bytes } from "../crypto/bytes.ts";
import type { PublicIdentity } from "../crypto/identity.ts";
import { type AeadBackend, AeadKey, TAG_BYTES } from "../crypto/aead.ts";
import { closeQuietly } from "../closable.ts";
import { FrameKind, type FrameReader, type FrameWriter, type Transport } from "./frame.ts";
import {
  decodeMessage,
  encodeMessage,
  HANDSHAKE_TYPES,
  type Message,
  MessageType,
  PLAIN_TYPES,
} from "./messages.ts";

/** Default largest sealed record plaintext. */
export const DEFAULT_MAX_RECORD = 1024 * 1024;

/** A payload chunk as received. */
export interface ChunkFrame {
  readonly type: "chunk";
  readonly data: Bytes;
}

/** What an established channel is made of (handshake.ts builds it). */
export interface ChannelParts {
  reader: FrameReader;
  writer: FrameWriter;
  transport: Transport;
  peer: PublicIdentity;
  transcriptHash: Bytes;
  authHash: Bytes;
  /** The initiator's early request, delivered by the responder's first receive(). */
  early?: Message;
  /** Record keys (§9.2) on the process's AEAD backend: OpenSSL when it loaded (see {@link sealRecord}). */
  sendKey: AeadKey;
  receiveKey: AeadKey;
  payloadKey: AeadKey;
  /**
   * The payload key as HKDF key material, for per-file keys (§7.8); absent on channels that
   * never carry a tree (then deriving one is INTERNAL).
   */
  payloadKdf?: CryptoKey;
  maxRecordBytes: number;
  /** What the peer is called in the errors it reports (see {@link remoteError}). */
  peerName: string;
}

/**
 * The error for a failure the peer reported with `code`: named after who refused (`The sender
 * refused: not found`) and worded with our own fixed text for the code, never the peer's words,
 * so a hostile peer cannot put text (advice to run something, say) in front of the user.
 */
export function remoteError(code: ErrorCode, peerName: string): SfsError {
  const text = wireText(code);
  return new SfsError(code, `The ${peerName} refused: ${text[0].toLowerCase()}${text.slice(1)}`);
}

/** An established channel: sealed records both ways, payload chunks from the responder. */
export class Channel {
  /** The other side's identity, authenticated by its handshake signatures (§6.4). */
  readonly peer: PublicIdentity;
  /** `H_F`, the hash of the whole handshake (§6.5); final signatures bind to it (§7.3). */
  readonly transcriptHash: Bytes;
  /** `H_A`, the transcript through INITIATOR_AUTH (§6.5); index proofs bind to it (§12.2). */
  readonly authHash: Bytes;
  /** Key of the payload stream (§7), on the process's AEAD backend; disposed by close(). */
  readonly payloadKey: AeadKey;
  readonly #payloadKdf: CryptoKey | undefined;
  readonly #reader: FrameReader;
  readonly #writer: FrameWriter;
  readonly #transport: Transport;
  readonly #sendKey: AeadKey;
  readonly #receiveKey: AeadKey;
  readonly #maxRecordBytes: number;
  readonly #peerName: string;
  #sendSequence = 0;
  #receiveSequence = 0;
  #sendQueue: Promise<void> = Promise.resolve();
  #closed = false;
  #early: Message | undefined;

  constructor(parts: ChannelParts) {
    this.peer = parts.peer;
    this.transcriptHash = parts.transcriptHash;
    this.authHash = parts.authHash;
    this.#early = parts.early;
    this.payloadKey = parts.payloadKey;
    this.#payloadKdf = parts.payloadKdf;
    this.#reader = parts.reader;
    this.#writer = parts.writer;
    this.#transport = parts.transport;
    this.#sendKey = parts.sendKey;
    this.#receiveKey = parts.receiveKey;
    this.#maxRecordBytes = parts.maxRecordBytes;
    this.#peerName = parts.peerName;
  }

  /** Which AES-GCM implementation seals and opens this channel's records. */
  get recordBackend(): AeadBackend["name"] | undefined {
    return this.#sendKey.backend;
  }

  /** The payload key as HKDF key material (§7.8): what per-file keys are derived from. */
  get payloadKdf(): CryptoKey {
    if (this.#payloadKdf === undefined) {
      throw new SfsError("INTERNAL", "This channel has no payload key to derive from");
    }
    return this.#payloadKdf;
  }

  /** Seals and sends one message; messages go out in call order. */
  send(message: Message): Promise<void> {
    if (PLAIN_TYPES.has(message.type) || HANDSHAKE_TYPES.has(message.type)) {
      throw new SfsError("INTERNAL", `Message ${message.type} cannot be sealed`);
    }
    // One buffer per record: the type byte, the body, and room for the tag, so an OpenSSL key
    // seals it in place and nothing more is allocated or copied before the frame goes out.
    const record = withType(message.type, encodeMessage(message), TAG_BYTES);
    const plaintext = record.subarray(0, record.length - TAG_BYTES);
    if (plaintext.length > this.#maxRecordBytes) {
      throw new SfsError("INTERNAL", `Record of ${plaintext.length} bytes is too large`);
    }
    const sequence = this.#sendSequence++;
    const next = this.#sendQueue.then(async () => {
      // close() disposed the keys: a record queued behind it fails as its write would have.
      if (this.#closed) throw connectionClosed();
      const sealed = await sealRecord(this.#sendKey, sequence, plaintext, { into: record });
      await this.#writer.write(FrameKind.SEALED, sealed);
    });
    this.#sendQueue = next;
    return next;
  }

  /** Sends one sealed payload chunk, after any message sent before it. */
  sendChunk(sealedChunk: Uint8Array): Promise<void> {
    const next = this.#sendQueue.then(() => this.#writer.write(FrameKind.CHUNK, sealedChunk));
    this.#sendQueue = next;
    return next;
  }

  /**
   * Receives the next message; a payload chunk is UNEXPECTED_MESSAGE. An ERROR from the peer is
   * thrown as an SfsError with the peer's code; the end of the stream is CONNECTION_CLOSED.
   */
  receive(): Promise<Message> {
    // Without a chunk limit every chunk is refused, so only a message comes back.
    return this.#receive(undefined) as Promise<Message>;
  }

  /**
   * Receives the next payload chunk (sealed, at most `maxChunkBytes` long) or message, as
   * {@link receive} does: used while a stream is open, where chunks end with a message.
   */
  async receiveChunkOrMessage(maxChunkBytes: number): Promise<Message | ChunkFrame> {
    if (!(maxChunkBytes > 0)) {
      throw new SfsError("INTERNAL", `Chunk limit ${maxChunkBytes} is not positive`);
    }
    return await this.#receive(maxChunkBytes);
  }

  /** Reads one frame: a chunk when `maxChunkBytes` allows one, else a sealed message. */
  async #receive(maxChunkBytes: number | undefined): Promise<Message | ChunkFrame> {
    if (this.#early) {
      // The request that rode in the handshake (§6.4) comes first, as if it had been sealed.
      const early = this.#early;
      this.#early = undefined;
      return early;
    }
    const maxBody = Math.max(this.#maxRecordBytes + TAG_BYTES, maxChunkBytes ?? 0);
    const frame = await this.#reader.read(maxBody);
    if (frame === null) {
      throw new SfsError("CONNECTION_CLOSED", "The other side closed the connection");
    }
    // The reader's bound is the larger of the two limits; each kind is held to its own (§8).
    if (frame.kind === FrameKind.CHUNK) {
      if (maxChunkBytes === undefined) {
        throw new SfsError("UNEXPECTED_MESSAGE", "Unexpected payload chunk");
      }
      if (frame.body.length > maxChunkBytes) {
        throw new SfsError(
          "FRAME_TOO_LARGE",
          `Chunk of ${frame.body.length} bytes exceeds ${maxChunkBytes}`,
        );
      }
      return { type: "chunk", data: frame.body };
    }
    if (frame.kind !== FrameKind.SEALED) {
      throw new SfsError("UNEXPECTED_MESSAGE", "Unexpected plaintext frame after the handshake");
    }
    if (frame.body.length > this.#maxRecordBytes + TAG_BYTES) {
      throw new SfsError(
        "FRAME_TOO_LARGE",
        `Record of ${frame.body.length} bytes exceeds ${this.#maxRecordBytes + TAG_BYTES}`,
      );
    }
    if (this.#closed) throw connectionClosed();
    // The frame body is ours alone (FrameReader allocates each one), so it is opened in place.
    const plaintext = await openRecord(this.#receiveKey, this.#receiveSequence++, frame.body, {
      into: frame.body,
    });
    if (plaintext.length < 1) throw new SfsError("BAD_MESSAGE", "Empty sealed record");
    const message = decodeMessage(plaintext[0], plaintext.subarray(1));
    if (PLAIN_TYPES.has(message.type) || HANDSHAKE_TYPES.has(message.type)) {
      throw new SfsError("UNEXPECTED_MESSAGE", `Message ${message.type} must not be sealed`);
    }
    if (message.type === MessageType.ERROR) {
      throw remoteError(message.code, this.#peerName);
    }
    return message;
  }

  /** Receives a message of one type; anything else is UNEXPECTED_MESSAGE. */
  async expect<T extends MessageType>(type: T): Promise<Extract<Message, { type: T }>> {
    const message = await this.receive();
    if (message.type !== type) {
      throw new SfsError("UNEXPECTED_MESSAGE", `Expected message ${type}, got ${message.type}`);
    }
    return message as Extract<Message, { type: T }>;
  }

  /**
   * Answers with an ERROR of `err`'s code and that code's fixed text (§9.3): the message, which
   * can hold local paths or database errors, stays here.
   */
  sendError(err: SfsError): Promise<void> {
    return this.send({ type: MessageType.ERROR, code: err.code, message: wireText(err.code) });
  }

  /** Tells the peer why we stop (best effort, as {@link sendError}) and closes. */
  async fail(err: SfsError): Promise<void> {
    let timer: Timer | undefined;
    await Promise.race([
      this.sendError(err).catch(() => {}),
      new Promise<void>((resolve) => timer = setTimer(resolve, 1000)),
    ]);
    clearTimer(timer);
    this.close();
  }

  /** Waits until everything queued has been written. */
  flush(): Promise<void> {
    return this.#sendQueue;
  }

  /** Closes the transport and frees the channel's keys; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeQuietly(this.#transport);
    this.payloadKey.dispose();
    this.#sendKey.dispose();
    this.#receiveKey.dispose();
  }
}

function connectionClosed(): SfsError {
  return new SfsError("CONNECTION_CLOSED", "The connection was closed");
}

/**
 * A message type byte followed by its body, as plaintext frames and sealed records carry it,
 * with `spare` zero bytes after it (room for a tag to seal into the same buffer).
 */
export function withType(type: number, body: Uint8Array, spare = 0): Bytes {
  const out = new Uint8Array(body.length + 1 + spare);
  out[0] = type;
  out.set(body, 1);
  return out;
}

/**
 * A record key: an {@link AeadKey} (the channel's application keys, on OpenSSL when the process
 * loaded it, else WebCrypto) or a WebCrypto `CryptoKey` (the handshake keys of §6.3, used for
 * two or three records per connection). Both seal the same bytes: AES-256-GCM, no associated
 * data, nonce from {@link recordNonce}.
 */
export type RecordKey = AeadKey | CryptoKey;

/** Options of {@link sealRecord} and {@link openRecord}. */
export interface RecordOptions {
  /**
   * Where an {@link AeadKey} writes its output (the input itself, to work in place); see
   * AeadOptions.into. A `CryptoKey` ignores it and allocates.
   * @default a new buffer
   */
  into?: Bytes;
}

/** Seals record `sequence` under `key` (§9.2; handshake records too, §6.3). */
export async function sealRecord(
  key: RecordKey,
  sequence: number,
  plaintext: Bytes,
  options: RecordOptions = {},
): Promise<Bytes> {
  const iv = recordNonce(sequence);
  if (key instanceof AeadKey) return await key.seal(iv, plaintext, { into: options.into });
  return new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, plaintext));
}

/**
 * Opens record `sequence` under `key`; any failure is DECRYPT_FAILED with no detail. When it
 * fails in place, no unauthenticated plaintext is left in `into` (AeadKey's contract).
 */
export async function openRecord(
  key: RecordKey,
  sequence: number,
  body: Bytes,
  options: RecordOptions = {},
): Promise<Bytes> {
  const iv = recordNonce(sequence);
  try {
    if (key instanceof AeadKey) return await key.open(iv, body, { into: options.into });
    return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv }, key, body));
  } catch {
    throw new SfsError("DECRYPT_FAILED", "A sealed record failed authentication");
  }
}

/**
 * Record nonce: 32 zero bits ‖ 64-bit sequence. Every key (handshake or application, per
 * direction) has its own sequence from 0 and no two keys are equal, so no pair repeats.
 */
export function recordNonce(sequence: number): Bytes {
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setBigUint64(4, BigInt(sequence));
  return nonce;
}
