/**
 * The secure channel (docs/PROTOCOL.md §6 and §9): the handshake in both roles, then sealed
 * records in both directions and payload chunks from the responder. The initiator is the peer
 * that connects (a receiver, or an index client); the responder is the one that listens (a
 * sender, or the index server) and proves who it is by signing the transcript.
 */
import { SfsError, wireText } from "../errors.ts";
import { type Bytes, sha256 } from "../crypto/bytes.ts";
import { ByteWriter } from "../crypto/encoding.ts";
import {
  deriveSessionKeys,
  generateEphemeral,
  NONCE_BYTES,
  SECRET_BYTES,
  unwrapSecret,
  wrapSecret,
  x25519,
} from "../crypto/exchange.ts";
import { decodePublicIdentity, type Identity, type PublicIdentity } from "../crypto/identity.ts";
import { AeadKey } from "../crypto/aead.ts";
import { aesKey } from "../crypto/kdf.ts";
import { LABEL, labelled } from "../crypto/labels.ts";
import { sign, type SignaturePolicy, verify } from "../crypto/sign.ts";
import { TAG_BYTES } from "../crypto/stream.ts";
import { closeQuietly } from "../closable.ts";
import { FrameKind, FrameReader, FrameWriter, type Transport } from "./frame.ts";
import {
  decodeMessage,
  encodeHelloReplyUnsigned,
  encodeMessage,
  type Hello,
  type HelloReply,
  type Message,
  MessageType,
  PLAIN_TYPES,
  PROTOCOL_VERSION,
} from "./messages.ts";

/** Largest plaintext handshake frame (two 4096-bit keys and signatures fit in under 3 KiB). */
export const MAX_HANDSHAKE_FRAME = 8 * 1024;
/** Default largest sealed record plaintext. */
export const DEFAULT_MAX_RECORD = 1024 * 1024;

/** Options both roles share. */
export interface ChannelOptions {
  /** Bound on any single wait for the peer. @default 30000 */
  idleTimeoutMs?: number;
  /** Largest sealed record accepted from the peer. @default 1 MiB */
  maxRecordBytes?: number;
}

/** Options of the initiator (receiver or index client). */
export interface InitiateOptions extends ChannelOptions {
  /** Called with the responder's identity before anything else is trusted; throws to refuse. */
  verifyResponder: (responder: PublicIdentity) => void | Promise<void>;
  /** Which handshake signatures must verify. @default "both" */
  require?: SignaturePolicy;
}

/** Options of the responder (sender or index server). */
export interface RespondOptions extends ChannelOptions {
  /** Which algorithms to sign with. @default "both" */
  sign?: SignaturePolicy;
  /** Called with the initiator's claimed identity; throws SfsError REFUSED to turn it away. */
  acceptInitiator?: (initiator: PublicIdentity) => void | Promise<void>;
}

/** A payload chunk as received. */
export interface ChunkFrame {
  readonly type: "chunk";
  readonly data: Bytes;
}

/** Runs the handshake as the initiator and returns the established channel. */
export async function initiate(
  transport: Transport,
  identity: Identity,
  options: InitiateOptions,
): Promise<Channel> {
  const reader = new FrameReader(transport, options);
  const writer = new FrameWriter(transport, options);
  const ephemeral = await generateEphemeral();
  const hello: Hello = {
    type: MessageType.HELLO,
    version: PROTOCOL_VERSION,
    identity: identity.public.encoded,
    ephemeral: ephemeral.publicKey,
    nonce: crypto.getRandomValues(new Uint8Array(NONCE_BYTES)),
  };
  const helloBody = encodeMessage(hello);
  await writer.write(FrameKind.PLAIN, withType(MessageType.HELLO, helloBody));

  const reply = await readPlain(reader);
  if (reply.type === MessageType.ABORT) {
    throw new SfsError(reply.code, `The other side refused: ${reply.message}`);
  }
  if (reply.type !== MessageType.HELLO_REPLY) {
    throw new SfsError("UNEXPECTED_MESSAGE", `Expected a hello reply, got message ${reply.type}`);
  }
  if (reply.version !== PROTOCOL_VERSION) {
    throw new SfsError(
      "VERSION_MISMATCH",
      `The other side speaks protocol ${reply.version}, this sfs speaks ${PROTOCOL_VERSION}`,
    );
  }
  const responder = await decodePublicIdentity(reply.identity);
  // Pinning comes first: a stranger's key is refused before its signatures are even looked at.
  await options.verifyResponder(responder);
  const transcriptHash = await transcriptOf(helloBody, reply);
  await verify(
    responder,
    LABEL.HANDSHAKE_SIGNATURE,
    transcriptHash,
    reply.signatures,
    options.require ?? "both",
  );
  const secret = await unwrapSecret(identity.oaepPrivate, reply.wrappedSecret);
  const shared = await x25519(ephemeral.privateKey, reply.ephemeral);
  return await establish("initiator", { reader, writer, transport, options }, {
    peer: responder,
    shared,
    secret,
    transcriptHash,
  });
}

/** Runs the handshake as the responder and returns the established channel. */
export async function respond(
  transport: Transport,
  identity: Identity,
  options: RespondOptions = {},
): Promise<Channel> {
  const reader = new FrameReader(transport, options);
  const writer = new FrameWriter(transport, options);
  const abort = async (err: SfsError): Promise<never> => {
    // Only the code and its fixed text cross the wire (§9.3); the detail stays in `err`.
    const body = encodeMessage({
      type: MessageType.ABORT,
      code: err.code,
      message: wireText(err.code),
    });
    await writer.write(FrameKind.PLAIN, withType(MessageType.ABORT, body)).catch(() => {});
    throw err;
  };

  const hello = await readPlain(reader).catch((err) =>
    abort(err instanceof SfsError ? err : new SfsError("BAD_MESSAGE", "Malformed hello"))
  );
  if (hello.type !== MessageType.HELLO) {
    return abort(new SfsError("UNEXPECTED_MESSAGE", `Expected a hello, got message ${hello.type}`));
  }
  if (hello.version !== PROTOCOL_VERSION) {
    return abort(
      new SfsError(
        "VERSION_MISMATCH",
        `Protocol ${hello.version} is not supported; this sfs speaks ${PROTOCOL_VERSION}`,
      ),
    );
  }
  let initiator: PublicIdentity;
  try {
    initiator = await decodePublicIdentity(hello.identity);
    await options.acceptInitiator?.(initiator);
  } catch (err) {
    return abort(err instanceof SfsError ? err : new SfsError("BAD_KEY", "Unusable identity"));
  }
  const ephemeral = await generateEphemeral();
  const secret = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
  const unsigned: Omit<HelloReply, "type" | "signatures"> = {
    version: PROTOCOL_VERSION,
    identity: identity.public.encoded,
    ephemeral: ephemeral.publicKey,
    nonce: crypto.getRandomValues(new Uint8Array(NONCE_BYTES)),
    wrappedSecret: await wrapSecret(initiator.oaep, secret),
  };
  const helloBody = encodeMessage(hello);
  const transcriptHash = await transcriptOf(helloBody, unsigned);
  const signatures = await sign(
    identity,
    LABEL.HANDSHAKE_SIGNATURE,
    transcriptHash,
    options.sign ?? "both",
  );
  const reply: HelloReply = { type: MessageType.HELLO_REPLY, ...unsigned, signatures };
  await writer.write(FrameKind.PLAIN, withType(MessageType.HELLO_REPLY, encodeMessage(reply)));
  const shared = await x25519(ephemeral.privateKey, hello.ephemeral);
  return await establish("responder", { reader, writer, transport, options }, {
    peer: initiator,
    shared,
    secret,
    transcriptHash,
  });
}

/**
 * Derives the session keys (§6.3), wipes the secrets they came from, and opens the channel with
 * this side's direction keys.
 */
async function establish(
  role: "initiator" | "responder",
  io: { reader: FrameReader; writer: FrameWriter; transport: Transport; options: ChannelOptions },
  agreed: { peer: PublicIdentity; shared: Bytes; secret: Bytes; transcriptHash: Bytes },
): Promise<Channel> {
  const keys = await deriveSessionKeys(agreed.shared, agreed.secret, agreed.transcriptHash);
  agreed.secret.fill(0);
  agreed.shared.fill(0);
  const [send, receive] = role === "initiator"
    ? [keys.initiator, keys.responder]
    : [keys.responder, keys.initiator];
  try {
    return new Channel({
      reader: io.reader,
      writer: io.writer,
      transport: io.transport,
      peer: agreed.peer,
      transcriptHash: agreed.transcriptHash,
      sendKey: await aesKey(send),
      receiveKey: await aesKey(receive),
      payloadKey: AeadKey.deferred(keys.payload),
      maxRecordBytes: io.options.maxRecordBytes ?? DEFAULT_MAX_RECORD,
    });
  } finally {
    // Imported or copied (or failed): the raw keys are needed nowhere else.
    for (const raw of [keys.responder, keys.initiator, keys.payload]) raw.fill(0);
  }
}

/**
 * The transcript hash (§6.3): SHA-256 over the label, the initiator's hello body and the
 * responder's reply without its signatures, each behind a 32-bit length.
 */
export async function transcriptOf(
  helloBody: Uint8Array,
  reply: Omit<HelloReply, "type" | "signatures">,
): Promise<Bytes> {
  const unsigned = encodeHelloReplyUnsigned(new ByteWriter(), reply).finish();
  const body = new ByteWriter().bytes32(helloBody).bytes32(unsigned).finish();
  return await sha256(labelled(LABEL.TRANSCRIPT, body));
}

interface ChannelParts {
  reader: FrameReader;
  writer: FrameWriter;
  transport: Transport;
  peer: PublicIdentity;
  transcriptHash: Bytes;
  sendKey: CryptoKey;
  receiveKey: CryptoKey;
  payloadKey: AeadKey;
  maxRecordBytes: number;
}

/** An established channel: sealed records both ways, payload chunks from the responder. */
export class Channel {
  /** The other side's identity, authenticated (responder) or claimed (initiator, see §6.4). */
  readonly peer: PublicIdentity;
  /** Hash of the handshake transcript; final signatures bind to it. */
  readonly transcriptHash: Bytes;
  /** Key of the payload stream (§7), on the process's AEAD backend; disposed by close(). */
  readonly payloadKey: AeadKey;
  readonly #reader: FrameReader;
  readonly #writer: FrameWriter;
  readonly #transport: Transport;
  readonly #sendKey: CryptoKey;
  readonly #receiveKey: CryptoKey;
  readonly #maxRecordBytes: number;
  #sendSequence = 0;
  #receiveSequence = 0;
  #sendQueue: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(parts: ChannelParts) {
    this.peer = parts.peer;
    this.transcriptHash = parts.transcriptHash;
    this.payloadKey = parts.payloadKey;
    this.#reader = parts.reader;
    this.#writer = parts.writer;
    this.#transport = parts.transport;
    this.#sendKey = parts.sendKey;
    this.#receiveKey = parts.receiveKey;
    this.#maxRecordBytes = parts.maxRecordBytes;
  }

  /** Seals and sends one message; messages go out in call order. */
  send(message: Message): Promise<void> {
    if (PLAIN_TYPES.has(message.type)) {
      throw new SfsError("INTERNAL", `Message ${message.type} cannot be sealed`);
    }
    const plaintext = withType(message.type, encodeMessage(message));
    if (plaintext.length > this.#maxRecordBytes) {
      throw new SfsError("INTERNAL", `Record of ${plaintext.length} bytes is too large`);
    }
    const sequence = this.#sendSequence++;
    const next = this.#sendQueue.then(async () => {
      const sealed = await crypto.subtle.encrypt(
        { name: "AES-GCM", iv: recordNonce(sequence) },
        this.#sendKey,
        plaintext,
      );
      await this.#writer.write(FrameKind.SEALED, new Uint8Array(sealed));
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
    let plaintext: Bytes;
    try {
      plaintext = new Uint8Array(
        await crypto.subtle.decrypt(
          { name: "AES-GCM", iv: recordNonce(this.#receiveSequence++) },
          this.#receiveKey,
          frame.body,
        ),
      );
    } catch {
      throw new SfsError("DECRYPT_FAILED", "A sealed record failed authentication");
    }
    if (plaintext.length < 1) throw new SfsError("BAD_MESSAGE", "Empty sealed record");
    const message = decodeMessage(plaintext[0], plaintext.subarray(1));
    if (PLAIN_TYPES.has(message.type)) {
      throw new SfsError("UNEXPECTED_MESSAGE", `Message ${message.type} must not be sealed`);
    }
    if (message.type === MessageType.ERROR) {
      // Our own text for the code: what the peer wrote is not shown, so a hostile peer cannot
      // put words (advice to run something, say) in front of the user.
      throw new SfsError(message.code, `The other side reports: ${wireText(message.code)}`);
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
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.sendError(err).catch(() => {}),
      new Promise((resolve) => timer = setTimeout(resolve, 1000)),
    ]);
    clearTimeout(timer);
    this.close();
  }

  /** Waits until everything queued has been written. */
  flush(): Promise<void> {
    return this.#sendQueue;
  }

  /** Closes the transport; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeQuietly(this.#transport);
    this.payloadKey.dispose();
  }
}

async function readPlain(reader: FrameReader): Promise<Message> {
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
  return decodeMessage(type, frame.body.subarray(1));
}

function withType(type: number, body: Uint8Array): Bytes {
  const out = new Uint8Array(body.length + 1);
  out[0] = type;
  out.set(body, 1);
  return out;
}

/** Record nonce: 32 zero bits ‖ 64-bit sequence; keys differ per direction, so none repeats. */
function recordNonce(sequence: number): Bytes {
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setBigUint64(4, BigInt(sequence));
  return nonce;
}
