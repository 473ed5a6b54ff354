import assert from "node:assert/strict";
import { type ErrorCode, isSfsError } from "../errors.ts";
import { testIdentity } from "../../tests/identities.ts";
import { tcpPair } from "../../tests/transport.ts";
import { type Bytes, concat, fromHex } from "../crypto/bytes.ts";
import { ByteWriter } from "../crypto/encoding.ts";
import { type Ephemeral, generateEphemeral, x25519 } from "../crypto/exchange.ts";
import type { Identity } from "../crypto/identity.ts";
import { aesKey } from "../crypto/kdf.ts";
import { LABEL } from "../crypto/labels.ts";
import { sign } from "../crypto/sign.ts";
import { recordNonce, withType } from "./channel.ts";
import { FrameKind, FrameReader, FrameWriter, type Transport } from "./frame.ts";
import { initiate, respond } from "./handshake.ts";
import {
  HANDSHAKE_RECORD_PLAINTEXT,
  openHandshakeRecord,
  sealHandshakeRecord,
} from "./handshake_record.ts";
import { deriveHandshakeKeys, initiatorSigned, Transcript } from "./handshake_transcript.ts";
import { decodeMessage, encodeMessage, type Message, MessageType } from "./messages.ts";

const IDLE_MS = 5000;
const EARLY_GET: ReadonlySet<number> = new Set([MessageType.GET]);
const GET: Message = { type: MessageType.GET, fileId: new Uint8Array(16).fill(7), offset: 0 };

function isCode(code: ErrorCode): (err: unknown) => boolean {
  return (err) => isSfsError(err, code);
}

/** A hand-driven initiator that has run flights 1 and 2 against a real responder. */
interface AfterFlightTwo {
  transcript: Transcript;
  hsI: CryptoKey;
  hsR: CryptoKey;
  reader: FrameReader;
  writer: FrameWriter;
}

async function flightTwo(client: Transport): Promise<AfterFlightTwo> {
  const reader = new FrameReader(client, { idleTimeoutMs: IDLE_MS });
  const writer = new FrameWriter(client);
  const ephemeral = await generateEphemeral();
  const hello = withType(
    MessageType.HELLO,
    encodeMessage({
      type: MessageType.HELLO,
      version: 2,
      options: new Uint8Array(),
      ephemeral: ephemeral.publicKey,
      nonce: new Uint8Array(32),
    }),
  );
  await writer.write(FrameKind.PLAIN, hello);
  const reply = await reader.read(8192);
  assert.ok(reply && reply.kind === FrameKind.PLAIN);
  const message = decodeMessage(reply.body[0], reply.body.subarray(1));
  assert.ok(message.type === MessageType.HELLO_REPLY);
  const transcript = new Transcript().append(hello).append(reply.body);
  const dh = await x25519(ephemeral.privateKey, message.ephemeral);
  const raw = await deriveHandshakeKeys(dh, await transcript.hash());
  const [hsI, hsR] = [await aesKey(raw.initiator), await aesKey(raw.responder)];
  const auth = await reader.read(8192);
  assert.ok(auth);
  transcript.append(await openHandshakeRecord(hsR, 0, auth.body));
  return { transcript, hsI, hsR, reader, writer };
}

/** A correctly signed INITIATOR_AUTH content for `identity`. */
async function initiatorAuth(identity: Identity, t: Transcript, early: boolean): Promise<Bytes> {
  const encoded = identity.public.encoded;
  const signed = await t.hash(initiatorSigned(encoded, early));
  const signatures = await sign(identity, LABEL.HANDSHAKE_SIGNATURE_INITIATOR, signed, "ed25519");
  return withType(
    MessageType.INITIATOR_AUTH,
    encodeMessage({ type: MessageType.INITIATOR_AUTH, identity: encoded, early, signatures }),
  );
}

/** Seals a hand-made plaintext (any length, any padding) as a record body. */
async function sealRaw(key: CryptoKey, seq: number, plaintext: Bytes): Promise<Bytes> {
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: recordNonce(seq) },
    key,
    plaintext,
  );
  return new Uint8Array(sealed);
}

function padded(n: number, content: Uint8Array, lastByte = 0): Bytes {
  const plaintext = new Uint8Array(HANDSHAKE_RECORD_PLAINTEXT);
  new DataView(plaintext.buffer).setUint16(0, n);
  plaintext.set(content, 2);
  plaintext[plaintext.length - 1] = lastByte;
  return plaintext;
}

Deno.test("respond() refuses a malformed flight 3 record with the code of §6.3 and says nothing", async (t) => {
  const [alice, bob] = await Promise.all([testIdentity("alice"), testIdentity("bob")]);
  type Make = (s: AfterFlightTwo, content: Bytes) => Promise<[FrameKind, Bytes]>;
  const cases: [string, Make, ErrorCode][] = [
    ["non-zero padding", async (s, c) => [
      FrameKind.SEALED,
      await sealRaw(s.hsI, 0, padded(c.length, c, 1)),
    ], "BAD_MESSAGE"],
    [
      "length 0",
      async (s, c) => [FrameKind.SEALED, await sealRaw(s.hsI, 0, padded(0, c))],
      "BAD_MESSAGE",
    ],
    ["length 3071", async (s, c) => [
      FrameKind.SEALED,
      await sealRaw(s.hsI, 0, padded(3071, c)),
    ], "BAD_MESSAGE"],
    ["a body of 3087 bytes", async (s, c) => [
      FrameKind.SEALED,
      (await sealHandshakeRecord(s.hsI, 0, c)).slice(0, -1),
    ], "BAD_MESSAGE"],
    ["a body of 3089 bytes", async (s, c) => [
      FrameKind.SEALED,
      concat(await sealHandshakeRecord(s.hsI, 0, c), Uint8Array.of(0)),
    ], "BAD_MESSAGE"],
    ["sequence 1 in place of 0", async (s, c) => [
      FrameKind.SEALED,
      await sealHandshakeRecord(s.hsI, 1, c),
    ], "DECRYPT_FAILED"],
    ["sealed under the responder's key", async (s, c) => [
      FrameKind.SEALED,
      await sealHandshakeRecord(s.hsR, 0, c),
    ], "DECRYPT_FAILED"],
    ["a KEY_TRANSPORT in its place", async (s) => [
      FrameKind.SEALED,
      await sealHandshakeRecord(s.hsI, 0, Uint8Array.of(MessageType.KEY_TRANSPORT, 0, 0)),
    ], "UNEXPECTED_MESSAGE"],
    [
      "INITIATOR_AUTH in a plain frame",
      (_s, c) => Promise.resolve([FrameKind.PLAIN, c]),
      "BAD_MESSAGE",
    ],
  ];
  for (const [name, make, code] of cases) {
    await t.step(name, async () => {
      await using pair = await tcpPair();
      const responding = respond(pair.server, bob, { idleTimeoutMs: IDLE_MS });
      responding.catch(() => {});
      const s = await flightTwo(pair.client);
      const [kind, body] = await make(s, await initiatorAuth(alice, s.transcript, false));
      await s.writer.write(kind, body);
      await assert.rejects(responding, isCode(code));
      // A record that does not open is from nobody in this handshake: no answer at all (the
      // caller closes the connection, as serveTransfer() does).
      pair.server.close();
      assert.equal(await s.reader.read(8192), null);
    });
  }
});

Deno.test("respond() answers an early request of a type it does not take with a sealed ERROR", async () => {
  const [alice, bob] = await Promise.all([testIdentity("alice"), testIdentity("bob")]);
  await using pair = await tcpPair();
  const responding = respond(pair.server, bob, { idleTimeoutMs: IDLE_MS, earlyTypes: EARLY_GET });
  responding.catch(() => {});
  const s = await flightTwo(pair.client);
  await s.writer.write(
    FrameKind.SEALED,
    await sealHandshakeRecord(s.hsI, 0, await initiatorAuth(alice, s.transcript, true)),
  );
  const receipt = withType(MessageType.RECEIPT, new Uint8Array(32));
  await s.writer.write(FrameKind.SEALED, await sealHandshakeRecord(s.hsI, 1, receipt));
  await assert.rejects(responding, isCode("UNEXPECTED_MESSAGE"));
  const answer = await s.reader.read(8192);
  assert.ok(answer && answer.kind === FrameKind.SEALED);
  const content = await openHandshakeRecord(s.hsR, 1, answer.body);
  const error = decodeMessage(content[0], content.subarray(1));
  assert.ok(error.type === MessageType.ERROR);
  assert.equal(error.code, "UNEXPECTED_MESSAGE");
});

Deno.test("initiate() sends its early GET in flight 3 and respond() delivers it first", async () => {
  const [alice, bob] = await Promise.all([testIdentity("alice"), testIdentity("bob")]);
  await using pair = await tcpPair();
  const [initiator, responder] = await Promise.all([
    initiate(pair.client, alice, { idleTimeoutMs: IDLE_MS, verifyResponder: () => {}, early: GET }),
    respond(pair.server, bob, { idleTimeoutMs: IDLE_MS, earlyTypes: EARLY_GET }),
  ]);
  assert.deepEqual(await responder.expect(MessageType.GET), GET);
  // The GET is in both transcripts; the authentication hash is not the final one.
  assert.deepEqual(initiator.transcriptHash, responder.transcriptHash);
  assert.deepEqual(initiator.authHash, responder.authHash);
  assert.notDeepEqual(initiator.authHash, initiator.transcriptHash);
  await responder.send({ type: MessageType.HEARTBEAT });
  assert.equal((await initiator.receive()).type, MessageType.HEARTBEAT);
  initiator.close();
  responder.close();
});

Deno.test("initiate() and respond() take their randomness and ephemeral keys from options", async () => {
  const [alice, bob] = await Promise.all([testIdentity("alice"), testIdentity("bob")]);
  const fixedEphemeral = async (seedHex: string): Promise<Ephemeral> => {
    const pkcs8 = concat(fromHex("302e020100300506032b656e04220420")!, fromHex(seedHex)!);
    const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, "X25519", false, [
      "deriveBits",
    ]);
    const base = new Uint8Array(32);
    base[0] = 9;
    return { privateKey, publicKey: await x25519(privateKey, base) };
  };
  const run = async () => {
    await using pair = await tcpPair();
    const written: Uint8Array[] = [];
    const client: Transport = {
      read: (b) => pair.client.read(b),
      write: (d) => {
        written.push(d.slice());
        return pair.client.write(d);
      },
      close: () => pair.client.close(),
    };
    const counter = (fill: number) => (n: number) => new Uint8Array(n).fill(fill);
    const [initiator, responder] = await Promise.all([
      initiate(client, alice, {
        idleTimeoutMs: IDLE_MS,
        verifyResponder: () => {},
        require: "ed25519",
        early: GET,
        random: counter(1),
        ephemeral: () => fixedEphemeral("11".repeat(32)),
      }),
      respond(pair.server, bob, {
        idleTimeoutMs: IDLE_MS,
        earlyTypes: EARLY_GET,
        sign: "ed25519",
        random: counter(2),
        ephemeral: () => fixedEphemeral("22".repeat(32)),
      }),
    ]);
    initiator.close();
    responder.close();
    return { written: concat(...written), authHash: initiator.authHash };
  };
  const [first, second] = [await run(), await run()];
  // With Ed25519 only and the sources fixed, flights 1 and 3 and H_A repeat byte for byte.
  assert.deepEqual(first.written, second.written);
  assert.deepEqual(first.authHash, second.authHash);
  const nonce = first.written.subarray(5 + 1 + 2 + 2 + 32, 5 + 1 + 2 + 2 + 64);
  assert.deepEqual(nonce, new Uint8Array(32).fill(1));
});

Deno.test("initiate() names both versions when a version 1 responder refuses its HELLO", async () => {
  const alice = await testIdentity("alice");
  await using pair = await tcpPair();
  const initiating = initiate(pair.client, alice, {
    idleTimeoutMs: IDLE_MS,
    verifyResponder: () => {},
  });
  initiating.catch(() => {});
  // What version 1 does with a version 2 HELLO: its identity field is the (empty) options.
  const reader = new FrameReader(pair.server, { idleTimeoutMs: IDLE_MS });
  const hello = await reader.read(8192);
  assert.ok(hello);
  const asV1 = new DataView(hello.body.buffer, hello.body.byteOffset);
  assert.equal(asV1.getUint16(1), 2);
  assert.equal(asV1.getUint16(3), 0, "an empty identity field for version 1");
  assert.equal(hello.body.length, 1 + 2 + 2 + 64, "then exactly 64 bytes, as version 1 reads");
  const abort = new ByteWriter().text("VERSION_MISMATCH")
    .text("Protocol 2 is not supported; this sfs speaks 1").finish();
  await new FrameWriter(pair.server).write(FrameKind.PLAIN, withType(MessageType.ABORT, abort));
  await assert.rejects(initiating, isCode("VERSION_MISMATCH"));
});
