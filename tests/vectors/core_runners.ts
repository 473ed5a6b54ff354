/**
 * Runners of the crypto and wire kinds of testdata/vectors/: key schedule, X25519,
 * fingerprint, public identity, chunk, stream, message and frame.
 */
import assert from "node:assert/strict";
import { type Bytes, concat, fromHex } from "../../src/crypto/bytes.ts";
import { deriveSessionKeys, x25519 } from "../../src/crypto/exchange.ts";
import {
  decodePublicIdentity,
  encodePublicKeys,
  formatFingerprint,
  parseFingerprint,
} from "../../src/crypto/identity.ts";
import { AeadKey } from "../../src/crypto/aead.ts";
import { WEBCRYPTO_AEAD } from "../../src/crypto/aead_webcrypto.ts";
import { chunkNonce, openChunk, sealChunk, StreamOpener } from "../../src/crypto/stream.ts";
import { type FrameKind, FrameReader, FrameWriter } from "../../src/wire/frame.ts";
import { decodeMessage, encodeMessage } from "../../src/wire/messages.ts";
import { deriveHandshakeKeys } from "../../src/wire/handshake_transcript.ts";
import { assertHex, BytesTransport, type Runner } from "./vector.ts";

const X25519_PKCS8_PREFIX = "302e020100300506032b656e04220420";

export function importX25519(seed: Bytes): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "pkcs8",
    concat(fromHex(X25519_PKCS8_PREFIX)!, seed),
    "X25519",
    false,
    ["deriveBits"],
  );
}

/** X25519 with the base point u = 9 gives a private key's public key. */
export function publicOf(privateKey: CryptoKey): Promise<Bytes> {
  const base = new Uint8Array(32);
  base[0] = 9;
  return x25519(privateKey, base);
}

/** Runner per kind. */
export const CORE_RUNNERS: Record<string, Runner> = {
  "key-schedule": async (v) => {
    const initiator = await importX25519(v.hex("initiator_x25519_seed"));
    const responder = await importX25519(v.hex("responder_x25519_seed"));
    const initiatorPublic = v.hex("initiator_x25519_public");
    const responderPublic = v.hex("responder_x25519_public");
    assertHex(await publicOf(initiator), initiatorPublic, "initiator public key");
    assertHex(await publicOf(responder), responderPublic, "responder public key");
    const shared = await x25519(initiator, responderPublic);
    assertHex(shared, v.hex("shared"), "initiator's shared secret");
    assertHex(await x25519(responder, initiatorPublic), shared, "responder's shared secret");
    const handshake = await deriveHandshakeKeys(shared, v.hex("h_1"));
    assertHex(handshake.initiator, v.hex("handshake_initiator_key"), "initiator handshake key");
    assertHex(handshake.responder, v.hex("handshake_responder_key"), "responder handshake key");
    const keys = await deriveSessionKeys(shared, v.hex("secret"), v.hex("transcript_hash"));
    assertHex(keys.responder, v.hex("responder_key"), "responder key");
    assertHex(keys.initiator, v.hex("initiator_key"), "initiator key");
    assertHex(keys.payload, v.hex("payload_key"), "payload key");
  },

  x25519: async (v) => {
    const shared = await x25519(await importX25519(v.hex("private_seed")), v.hex("peer_public"));
    assertHex(shared, v.hex("shared"), "shared secret");
  },

  fingerprint: async (v) => {
    const encoded = v.hex("public_identity");
    const identity = await decodePublicIdentity(encoded);
    const fingerprint = v.hex("fingerprint");
    assertHex(identity.fingerprint, fingerprint, "fingerprint");
    assert.equal(formatFingerprint(identity.fingerprint), v.text("formatted"));
    assertHex(parseFingerprint(v.text("formatted")), fingerprint, "parsed fingerprint");
    const spki = async (key: CryptoKey) =>
      new Uint8Array(await crypto.subtle.exportKey("spki", key));
    const again = encodePublicKeys(
      await spki(identity.oaep),
      await spki(identity.pss),
      new Uint8Array(await crypto.subtle.exportKey("raw", identity.ed25519)),
    );
    assertHex(again, encoded, "re-encoded public identity");
  },

  "public-identity": async (v) => {
    const encoded = v.hex("public_identity");
    assertHex((await decodePublicIdentity(encoded)).encoded, encoded, "public identity");
  },

  chunk: async (v) => {
    using key = await AeadKey.import(v.hex("key"), { backend: WEBCRYPTO_AEAD });
    const index = v.int("index");
    const last = v.bool("last");
    const ciphertext = v.hex("ciphertext");
    if (v.has("nonce")) assertHex(chunkNonce(index, last), v.hex("nonce"), "nonce");
    const opened = await openChunk(key, index, last, ciphertext);
    const plaintext = v.hex("plaintext");
    assertHex(opened, plaintext, "opened chunk");
    assertHex(await sealChunk(key, index, last, plaintext), ciphertext, "re-sealed chunk");
  },

  stream: async (v) => {
    using key = await AeadKey.import(v.hex("key"), { backend: WEBCRYPTO_AEAD });
    const size = v.int("size");
    const chunkSize = v.int("chunk_size");
    const chunks = v.hexAll("chunk");
    const opener = new StreamOpener(key, { size, chunkSize });
    const parts: Bytes[] = [];
    for (const chunk of chunks) parts.push(await opener.open(chunk));
    opener.finish();
    const content = v.hex("content");
    assertHex(concat(...parts), content, "content");
    for (const [index, chunk] of chunks.entries()) {
      const plaintext = content.subarray(index * chunkSize, (index + 1) * chunkSize);
      const resealed = await sealChunk(key, index, index === chunks.length - 1, plaintext);
      assertHex(resealed, chunk, `re-sealed chunk ${index}`);
    }
  },

  message: (v) => {
    const body = v.hex("body");
    const decoded = decodeMessage(v.int("type"), body);
    const canonical = v.has("canonical") ? v.hex("canonical") : body;
    assertHex(encodeMessage(decoded), canonical, "re-encoded message");
    return Promise.resolve();
  },

  frame: async (v) => {
    const bytes = v.hex("bytes");
    const reader = new FrameReader(new BytesTransport(bytes));
    const frame = await reader.read(v.int("max_body"));
    assert.ok(frame, "a frame");
    assert.equal(frame.kind, v.int("frame_kind"));
    assertHex(frame.body, v.hex("body"), "frame body");
    assert.equal(await reader.read(v.int("max_body")), null, "nothing after the frame");
    const out = new BytesTransport(new Uint8Array());
    await new FrameWriter(out).write(frame.kind as FrameKind, frame.body);
    assertHex(concat(...out.written), bytes, "re-encoded frame");
  },
};
