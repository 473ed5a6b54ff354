/**
 * The handshake in both roles (docs/PROTOCOL.md §6). The initiator is the peer that connects (a
 * receiver, or an index client); the responder is the one that listens (a sender, or the index
 * server) and proves who it is by signing the transcript. Both end with an established Channel.
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
import { Channel, DEFAULT_MAX_RECORD, remoteError, withType } from "./channel.ts";

/** Largest plaintext handshake frame (two 4096-bit keys and signatures fit in under 3 KiB). */
export const MAX_HANDSHAKE_FRAME = 8 * 1024;

/** Options both roles share. */
export interface ChannelOptions {
  /** Bound on any single wait for the peer. @default 30000 */
  idleTimeoutMs?: number;
  /** Largest sealed record accepted from the peer. @default 1 MiB */
  maxRecordBytes?: number;
  /** What the peer is called in the errors it reports: "sender", "index server". @default "other side" */
  peerName?: string;
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
    throw remoteError(reply.code, options.peerName ?? "other side");
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
      peerName: io.options.peerName ?? "other side",
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
