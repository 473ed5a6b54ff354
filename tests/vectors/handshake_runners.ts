/**
 * Runners of the handshake kinds of testdata/vectors/ (docs/PROTOCOL.md §6): one whole
 * handshake, flight by flight, and the padded handshake record. The deterministic parts are
 * recomputed with the real code and compared byte for byte; the randomised ones (RSA-PSS, the
 * OAEP-wrapped secret) are verified or taken as given.
 */
import assert from "node:assert/strict";
import { concat } from "../../src/crypto/bytes.ts";
import { deriveSessionKeys, x25519 } from "../../src/crypto/exchange.ts";
import { decodePublicIdentity } from "../../src/crypto/identity.ts";
import { aesKey } from "../../src/crypto/kdf.ts";
import { LABEL } from "../../src/crypto/labels.ts";
import { verify } from "../../src/crypto/sign.ts";
import { type Frame, FrameKind, FrameReader } from "../../src/wire/frame.ts";
import { openHandshakeRecord, sealHandshakeRecord } from "../../src/wire/handshake_record.ts";
import {
  deriveHandshakeKeys,
  initiatorSigned,
  responderSigned,
  Transcript,
} from "../../src/wire/handshake_transcript.ts";
import {
  decodeMessage,
  encodeMessage,
  type Message,
  MessageType,
} from "../../src/wire/messages.ts";
import { importX25519, publicOf } from "./core_runners.ts";
import { assertHex, BytesTransport, type Runner, type Vector } from "./vector.ts";

/** Reads the one frame `bytes` holds. */
async function frameOf(bytes: Uint8Array): Promise<Frame> {
  const frame = await new FrameReader(new BytesTransport(bytes)).read(8192);
  assert.ok(frame, "a frame");
  return frame;
}

/** A plain flight: decoded, re-encoded to the same bytes; returns its content. */
async function plainFlight(v: Vector, field: string, type: number): Promise<Message> {
  const frame = await frameOf(v.hex(field));
  assert.equal(frame.kind, FrameKind.PLAIN);
  assert.equal(frame.body[0], type);
  const message = decodeMessage(type, frame.body.subarray(1));
  assertHex(concat(Uint8Array.of(type), encodeMessage(message)), frame.body, field);
  return message;
}

/** A sealed flight: opens under `key` as `seq` to the listed content and re-seals the same. */
async function sealedFlight(
  v: Vector,
  field: string,
  key: CryptoKey,
  seq: number,
  content: string,
) {
  const frame = await frameOf(v.hex(field));
  assert.equal(frame.kind, FrameKind.SEALED);
  const opened = await openHandshakeRecord(key, seq, frame.body);
  assertHex(opened, v.hex(content), `${field} content`);
  assertHex(await sealHandshakeRecord(key, seq, opened), frame.body, `${field} re-sealed`);
  return decodeMessage(opened[0], opened.subarray(1));
}

/** Runner per kind. */
export const HANDSHAKE_RUNNERS: Record<string, Runner> = {
  handshake: async (v) => {
    const initiator = await importX25519(v.hex("initiator_x25519_seed"));
    const responder = await importX25519(v.hex("responder_x25519_seed"));
    const hello = await plainFlight(v, "flight_1_hello", MessageType.HELLO);
    const reply = await plainFlight(v, "flight_2_hello_reply", MessageType.HELLO_REPLY);
    assert.ok(hello.type === MessageType.HELLO && reply.type === MessageType.HELLO_REPLY);
    assertHex(hello.ephemeral, await publicOf(initiator), "initiator ephemeral");
    assertHex(reply.ephemeral, await publicOf(responder), "responder ephemeral");
    assertHex(hello.nonce, v.hex("initiator_nonce"), "initiator nonce");
    assertHex(reply.nonce, v.hex("responder_nonce"), "responder nonce");
    const dh = await x25519(initiator, reply.ephemeral);
    assertHex(await x25519(responder, hello.ephemeral), dh, "both sides' X25519 secret");

    const t = new Transcript().append(concat(Uint8Array.of(1), encodeMessage(hello)))
      .append(concat(Uint8Array.of(2), encodeMessage(reply)));
    const h1 = await t.hash();
    assertHex(h1, v.hex("h_1"), "H_1");
    const raw = await deriveHandshakeKeys(dh, h1);
    assertHex(raw.initiator, v.hex("handshake_initiator_key"), "hs_I");
    assertHex(raw.responder, v.hex("handshake_responder_key"), "hs_R");
    const hsI = await aesKey(raw.initiator);
    const hsR = await aesKey(raw.responder);

    const rAuth = await sealedFlight(v, "flight_2_responder_auth", hsR, 0, "responder_auth");
    assert.ok(rAuth.type === MessageType.RESPONDER_AUTH);
    const identity = await decodePublicIdentity(rAuth.identity);
    const hR = await t.hash(responderSigned(rAuth.identity));
    assertHex(hR, v.hex("h_r"), "H_R");
    // RSA-PSS is randomised: verified, not recomputed. Ed25519 is deterministic, and the bytes
    // compared above are the generator's own signature.
    await verify(identity, LABEL.HANDSHAKE_SIGNATURE_RESPONDER, hR, rAuth.signatures, "both");
    t.append(v.hex("responder_auth"));

    const iAuth = await sealedFlight(v, "flight_3_initiator_auth", hsI, 0, "initiator_auth");
    assert.ok(iAuth.type === MessageType.INITIATOR_AUTH && iAuth.early);
    const hI = await t.hash(initiatorSigned(iAuth.identity, iAuth.early));
    assertHex(hI, v.hex("h_i"), "H_I");
    const initiatorIdentity = await decodePublicIdentity(iAuth.identity);
    await verify(
      initiatorIdentity,
      LABEL.HANDSHAKE_SIGNATURE_INITIATOR,
      hI,
      iAuth.signatures,
      "ed25519",
    );
    t.append(v.hex("initiator_auth"));
    assertHex(await t.hash(), v.hex("h_a"), "H_A");

    const early = await sealedFlight(v, "flight_3_early_request", hsI, 1, "early_request");
    assert.equal(early.type, MessageType.GET);
    t.append(v.hex("early_request"));
    const transport = await sealedFlight(v, "flight_4_key_transport", hsR, 1, "key_transport");
    assert.equal(transport.type, MessageType.KEY_TRANSPORT);
    t.append(v.hex("key_transport"));
    const hF = await t.hash();
    assertHex(hF, v.hex("h_f"), "H_F");
    const keys = await deriveSessionKeys(dh, v.hex("secret"), hF);
    assertHex(keys.responder, v.hex("responder_key"), "responder key");
    assertHex(keys.initiator, v.hex("initiator_key"), "initiator key");
    assertHex(keys.payload, v.hex("payload_key"), "payload key");
    assertHex(identity.encoded, v.hex("identity"), "identity");
  },

  "handshake-record": async (v) => {
    const key = await aesKey(v.hex("key"));
    const content = await openHandshakeRecord(key, v.int("sequence"), v.hex("body"));
    assertHex(content, v.hex("content"), "content");
    assertHex(
      await sealHandshakeRecord(key, v.int("sequence"), content),
      v.hex("body"),
      "re-sealed",
    );
  },
};
