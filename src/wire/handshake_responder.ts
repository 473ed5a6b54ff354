/**
 * The handshake as the responder (docs/PROTOCOL.md §6.6): a sender or the index server. It
 * proves itself first, and decides on the initiator only once the initiator's signatures over
 * the transcript verified, so a claimed key alone learns nothing (not even a refusal).
 */
import { SfsError, wireText } from "../errors.ts";
import type { Bytes } from "../crypto/bytes.ts";
import { SECRET_BYTES, wrapSecret, x25519 } from "../crypto/exchange.ts";
import { decodePublicIdentity, type Identity, type PublicIdentity } from "../crypto/identity.ts";
import { LABEL } from "../crypto/labels.ts";
import { sign, verify } from "../crypto/sign.ts";
import { FrameKind, FrameReader, FrameWriter, type Transport } from "./frame.ts";
import {
  encodeMessage,
  type Hello,
  type InitiatorAuth,
  type KeyTransport,
  type Message,
  MessageType,
  type ResponderAuth,
} from "./messages.ts";
import { type Channel, withType } from "./channel.ts";
import { readHandshakeRecord, writeHandshakeRecord } from "./handshake_record.ts";
import { initiatorSigned, responderSigned, Transcript } from "./handshake_transcript.ts";
import {
  contentOf,
  establish,
  handshakeIo,
  handshakeKeys,
  helloContent,
  peerNameOf,
  readPlain,
  type RespondOptions,
  sourcesOf,
} from "./handshake_shared.ts";

const INITIATOR_AUTH_ONLY = new Set([MessageType.INITIATOR_AUTH]);
const NO_EARLY_TYPES: ReadonlySet<number> = new Set();

/** The two handshake keys, imported. */
interface Keys {
  readonly initiator: CryptoKey;
  readonly responder: CryptoKey;
}

/** Runs the handshake as the responder and returns the established channel. */
export async function respond(
  transport: Transport,
  identity: Identity,
  options: RespondOptions = {},
): Promise<Channel> {
  const io = handshakeIo(transport, options);
  const transcript = new Transcript();
  const { dh, keys } = await answerHello(io, identity, transcript, options);
  // establish() wipes the secrets it uses; this covers every way out before it.
  let secret: Bytes | undefined;
  try {
    options.onFlightTwo?.();
    // A record that does not open under hs_I is from nobody in this handshake: just close.
    const auth = await readHandshakeRecord(io.reader, keys.initiator, 0, {
      types: INITIATOR_AUTH_ONLY,
      peerName: peerNameOf(options),
    });
    let initiator: PublicIdentity, early: Message | undefined, authHash: Bytes;
    try {
      initiator = await checkInitiator(auth.message as InitiatorAuth, transcript, options);
      transcript.append(auth.content);
      authHash = await transcript.hash();
      const request = await readEarly(
        io.reader,
        keys.initiator,
        auth.message as InitiatorAuth,
        options,
      );
      if (request) transcript.append(request.content);
      early = request?.message;
    } catch (err) {
      // A plain Error can only come from acceptInitiator: a refusal in the caller's words.
      const failure = err instanceof SfsError ? err : new SfsError("REFUSED", "Initiator refused");
      await refuse(io.writer, keys.responder, failure);
      throw failure;
    }
    secret = sourcesOf(options).random(SECRET_BYTES);
    const keyTransport: KeyTransport = {
      type: MessageType.KEY_TRANSPORT,
      wrappedSecret: await wrapSecret(initiator.oaep, secret),
    };
    const content = contentOf(keyTransport);
    transcript.append(content);
    await writeHandshakeRecord(io.writer, keys.responder, 1, content);
    return await establish("responder", io, {
      peer: initiator,
      dh,
      secret,
      authHash,
      finalHash: await transcript.hash(),
      early,
    });
  } finally {
    dh.fill(0);
    secret?.fill(0);
  }
}

/**
 * Flight 1 in, flight 2 out: HELLO (version first), admission, then HELLO_REPLY and
 * RESPONDER_AUTH. A failure here is the only one answered in the clear, with an ABORT.
 */
async function answerHello(
  io: { reader: FrameReader; writer: FrameWriter },
  identity: Identity,
  transcript: Transcript,
  options: RespondOptions,
): Promise<{ dh: Bytes; keys: Keys }> {
  const abort = (err: unknown): Promise<never> => sendAbort(io.writer, err);
  const hello = await readPlain(io.reader).catch(abort);
  if (hello.message.type !== MessageType.HELLO) {
    return abort(new SfsError("UNEXPECTED_MESSAGE", `Expected a hello, got ${hello.message.type}`));
  }
  transcript.append(hello.content);
  // Admission cannot depend on who the initiator is: nothing about it is known yet.
  await (async () => await options.admit?.())().catch(abort);
  const reply = await helloContent(MessageType.HELLO_REPLY, options);
  transcript.append(reply.content);
  const peerEphemeral = (hello.message as Hello).ephemeral;
  const dh = await x25519(reply.ephemeral.privateKey, peerEphemeral).catch(abort);
  const keys = await handshakeKeys(dh, transcript);
  const encoded = identity.public.encoded;
  const signatures = await sign(
    identity,
    LABEL.HANDSHAKE_SIGNATURE_RESPONDER,
    await transcript.hash(responderSigned(encoded)),
    options.sign ?? "both",
  );
  const auth: ResponderAuth = { type: MessageType.RESPONDER_AUTH, identity: encoded, signatures };
  const authContent = contentOf(auth);
  await io.writer.write(FrameKind.PLAIN, reply.content);
  await writeHandshakeRecord(io.writer, keys.responder, 0, authContent);
  transcript.append(authContent);
  return { dh, keys };
}

/** The initiator's identity (BAD_KEY), its signatures over H_I (BAD_SIGNATURE), then policy. */
async function checkInitiator(
  auth: InitiatorAuth,
  transcript: Transcript,
  options: RespondOptions,
): Promise<PublicIdentity> {
  const initiator = await decodePublicIdentity(auth.identity);
  await verify(
    initiator,
    LABEL.HANDSHAKE_SIGNATURE_INITIATOR,
    await transcript.hash(initiatorSigned(auth.identity, auth.early)),
    auth.signatures,
    options.requireInitiator ?? "ed25519",
  );
  // Only a proven key is judged: a prober holding someone's public identity gets
  // BAD_SIGNATURE above, never REFUSED (§6.6).
  await options.acceptInitiator?.(initiator);
  return initiator;
}

/** The early request (hs_I #1), when INITIATOR_AUTH announced one; its type must be allowed. */
async function readEarly(
  reader: FrameReader,
  key: CryptoKey,
  auth: InitiatorAuth,
  options: RespondOptions,
): Promise<{ message: Message; content: Bytes } | undefined> {
  if (!auth.early) return undefined;
  return await readHandshakeRecord(reader, key, 1, {
    types: options.earlyTypes ?? NO_EARLY_TYPES,
    peerName: peerNameOf(options),
  });
}

/** ABORT in the clear (§6.2): the code and its fixed text; a version refusal names both. */
async function sendAbort(writer: FrameWriter, err: unknown): Promise<never> {
  const failure = err instanceof SfsError ? err : new SfsError("BAD_MESSAGE", "Malformed hello");
  const text = failure.code === "VERSION_MISMATCH" ? failure.message : wireText(failure.code);
  const body = encodeMessage({ type: MessageType.ABORT, code: failure.code, message: text });
  await writer.write(FrameKind.PLAIN, withType(MessageType.ABORT, body)).catch(() => {});
  throw failure;
}

/** A sealed ERROR as handshake record hs_R #1 (§6.4): looks like KEY_TRANSPORT on the wire. */
async function refuse(writer: FrameWriter, key: CryptoKey, err: SfsError): Promise<void> {
  const error: Message = { type: MessageType.ERROR, code: err.code, message: wireText(err.code) };
  const content = contentOf(error);
  await writeHandshakeRecord(writer, key, 1, content).catch(() => {});
}
