/**
 * The handshake as the initiator (docs/PROTOCOL.md §6.6): a receiver or an index client. It
 * reveals nothing about itself until the responder has proven the key this side expected, and
 * on any failure before that it closes without sending another byte.
 */
import { SfsError } from "../errors.ts";
import type { Bytes } from "../crypto/bytes.ts";
import { unwrapSecret, x25519 } from "../crypto/exchange.ts";
import { decodePublicIdentity, type Identity, type PublicIdentity } from "../crypto/identity.ts";
import { LABEL } from "../crypto/labels.ts";
import { sign, verify } from "../crypto/sign.ts";
import { FrameKind, FrameReader, FrameWriter, type Transport } from "./frame.ts";
import {
  encodeMessage,
  type InitiatorAuth,
  type KeyTransport,
  type Message,
  MessageType,
  PROTOCOL_VERSION,
  type ResponderAuth,
} from "./messages.ts";
import { type Channel, remoteError } from "./channel.ts";
import {
  MAX_HANDSHAKE_CONTENT,
  readHandshakeRecord,
  writeHandshakeRecord,
} from "./handshake_record.ts";
import { initiatorSigned, responderSigned, Transcript } from "./handshake_transcript.ts";
import {
  contentOf,
  establish,
  handshakeIo,
  handshakeKeys,
  helloContent,
  type InitiateOptions,
  peerNameOf,
  readPlain,
} from "./handshake_shared.ts";

const RESPONDER_AUTH_ONLY = new Set([MessageType.RESPONDER_AUTH]);
const KEY_TRANSPORT_OR_ERROR = new Set([MessageType.KEY_TRANSPORT, MessageType.ERROR]);

/** Runs the handshake as the initiator and returns the established channel. */
export async function initiate(
  transport: Transport,
  identity: Identity,
  options: InitiateOptions,
): Promise<Channel> {
  const io = handshakeIo(transport, options);
  const transcript = new Transcript();
  const { dh, keys } = await exchangeHellos(io, transcript, options);
  // establish() wipes the secrets it uses; this covers every way out before it.
  let secret: Bytes | undefined;
  try {
    const responder = await checkResponder(io.reader, keys.responder, transcript, options);
    options.onResponderProven?.();
    // Only now, with the responder proven, does anything about this side go out.
    const early = options.early && fitsEarly(options.early) ? options.early : undefined;
    const authHash = await sendInitiatorAuth(io.writer, keys.initiator, transcript, {
      identity,
      options,
      early,
    });
    // Flight 4: KEY_TRANSPORT, or the responder's sealed refusal (thrown with its code).
    const flightFour = await readHandshakeRecord(io.reader, keys.responder, 1, {
      types: KEY_TRANSPORT_OR_ERROR,
      peerName: peerNameOf(options),
    });
    transcript.append(flightFour.content);
    const wrapped = (flightFour.message as KeyTransport).wrappedSecret;
    secret = await unwrapSecret(identity.oaepPrivate, wrapped);
    const channel = await establish("initiator", io, {
      peer: responder,
      dh,
      secret,
      authHash,
      finalHash: await transcript.hash(),
    });
    if (options.early && !early) await channel.send(options.early);
    return channel;
  } finally {
    dh.fill(0);
    secret?.fill(0);
  }
}

/** Flight 1 and the plain half of flight 2: HELLO out, HELLO_REPLY (or ABORT) in; the keys. */
async function exchangeHellos(
  io: { reader: FrameReader; writer: FrameWriter },
  transcript: Transcript,
  options: InitiateOptions,
): Promise<{ dh: Bytes; keys: { initiator: CryptoKey; responder: CryptoKey } }> {
  const hello = await helloContent(MessageType.HELLO, options);
  transcript.append(hello.content);
  await io.writer.write(FrameKind.PLAIN, hello.content);

  const reply = await readPlain(io.reader).catch((err) => {
    throw isVersionMismatch(err)
      ? new SfsError("VERSION_MISMATCH", `The other side's reply: ${err.message}`)
      : err;
  });
  if (reply.message.type === MessageType.ABORT) throw abortError(reply.message, options);
  if (reply.message.type !== MessageType.HELLO_REPLY) {
    throw new SfsError("UNEXPECTED_MESSAGE", `Expected a hello reply, got ${reply.message.type}`);
  }
  transcript.append(reply.content);
  const dh = await x25519(hello.ephemeral.privateKey, reply.message.ephemeral);
  const keys = await handshakeKeys(dh, transcript);
  return { dh, keys };
}

/**
 * The sealed half of flight 2: the responder's identity is checked against the expectation
 * first (KEY_MISMATCH), its signatures over H_R only then (BAD_SIGNATURE).
 */
async function checkResponder(
  reader: FrameReader,
  key: CryptoKey,
  transcript: Transcript,
  options: InitiateOptions,
): Promise<PublicIdentity> {
  const read = await readHandshakeRecord(reader, key, 0, {
    types: RESPONDER_AUTH_ONLY,
    peerName: peerNameOf(options),
  });
  const auth = read.message as ResponderAuth;
  const responder = await decodePublicIdentity(auth.identity);
  await options.verifyResponder(responder);
  const signedHash = await transcript.hash(responderSigned(auth.identity));
  await verify(
    responder,
    LABEL.HANDSHAKE_SIGNATURE_RESPONDER,
    signedHash,
    auth.signatures,
    options.require ?? "both",
  );
  transcript.append(read.content);
  return responder;
}

/** Flight 3: INITIATOR_AUTH and the early request under `hs_I`; returns `H_A`. */
async function sendInitiatorAuth(
  writer: FrameWriter,
  key: CryptoKey,
  transcript: Transcript,
  own: { identity: Identity; options: InitiateOptions; early?: Message },
): Promise<Bytes> {
  const encoded = own.identity.public.encoded;
  const early = own.early !== undefined;
  const signedHash = await transcript.hash(initiatorSigned(encoded, early));
  const signatures = await sign(
    own.identity,
    LABEL.HANDSHAKE_SIGNATURE_INITIATOR,
    signedHash,
    own.options.sign ?? "ed25519",
  );
  const auth: InitiatorAuth = {
    type: MessageType.INITIATOR_AUTH,
    identity: encoded,
    early,
    signatures,
  };
  const authContent = contentOf(auth);
  transcript.append(authContent);
  const authHash = await transcript.hash();
  await writeHandshakeRecord(writer, key, 0, authContent);
  if (own.early) {
    const earlyContent = contentOf(own.early);
    transcript.append(earlyContent);
    await writeHandshakeRecord(writer, key, 1, earlyContent);
  }
  return authHash;
}

/** True when `message` fits one handshake record; a larger one waits for the application keys. */
function fitsEarly(message: Message): boolean {
  return 1 + encodeMessage(message).length <= MAX_HANDSHAKE_CONTENT;
}

function isVersionMismatch(err: unknown): err is SfsError {
  return err instanceof SfsError && err.code === "VERSION_MISMATCH";
}

/**
 * The responder's plain refusal, in our words (remoteError()). A version refusal names both
 * versions (§6.8): ours, and the one the peer says it speaks — only its digits are taken from
 * the peer's text, never its words.
 */
function abortError(abort: Extract<Message, { type: 3 }>, options: InitiateOptions): SfsError {
  const peerName = peerNameOf(options);
  if (abort.code !== "VERSION_MISMATCH") return remoteError(abort.code, peerName);
  const theirs = /speaks (\d{1,5})\b/.exec(abort.message)?.[1];
  const spoken = theirs === undefined ? "" : ` (it speaks protocol ${Number(theirs)})`;
  return new SfsError(
    "VERSION_MISMATCH",
    `The ${peerName} does not speak protocol ${PROTOCOL_VERSION}${spoken}`,
    { hint: `Update the older sfs: protocol ${PROTOCOL_VERSION} cannot talk to older versions` },
  );
}
