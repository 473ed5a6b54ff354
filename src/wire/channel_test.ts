import assert from "node:assert/strict";
import { type ErrorCode, isSfsError, SfsError } from "../errors.ts";
import { testIdentity } from "../../tests/identities.ts";
import { tcpPair } from "../../tests/transport.ts";
import { closeQuietly } from "../closable.ts";
import { type Bytes, concat } from "../crypto/bytes.ts";
import { ByteWriter } from "../crypto/encoding.ts";
import { generateEphemeral } from "../crypto/exchange.ts";
import type { Identity, PublicIdentity } from "../crypto/identity.ts";
import { sealChunk, StreamOpener, TAG_BYTES } from "../crypto/stream.ts";
import { type Channel } from "./channel.ts";
import {
  initiate,
  type InitiateOptions,
  MAX_HANDSHAKE_FRAME,
  respond,
  type RespondOptions,
} from "./handshake.ts";
import { FrameKind, FrameReader, FrameWriter, type Transport } from "./frame.ts";
import { decodeMessage, encodeMessage, type Message, MessageType } from "./messages.ts";

/** Any sealed message will do where a test only needs one on the wire. */
const RECEIPT_SAMPLE: Message = {
  type: MessageType.RECEIPT,
  shareId: new Uint8Array(16),
  manifestHash: new Uint8Array(32),
  senderFingerprint: new Uint8Array(32),
  receiverFingerprint: new Uint8Array(32),
  receivedAt: 0,
  transcriptHash: new Uint8Array(32),
  signatures: {},
};

/** Short enough that a hung handshake fails the test quickly, long enough for RSA work. */
const IDLE_MS = 5000;

/** A transport wrapper that records what passes and can flip the last byte of the next write. */
class Tap implements Transport {
  readonly reads: Uint8Array[] = [];
  readonly writes: Uint8Array[] = [];
  tamperNextWrite = false;
  constructor(readonly inner: Transport) {}

  async read(buffer: Uint8Array): Promise<number | null> {
    const n = await this.inner.read(buffer);
    if (n !== null) this.reads.push(buffer.slice(0, n));
    return n;
  }

  async write(data: Uint8Array): Promise<number> {
    let out = data;
    if (this.tamperNextWrite) {
      this.tamperNextWrite = false;
      out = new Uint8Array(data);
      out[out.length - 1] ^= 0x01;
    }
    const n = await this.inner.write(out);
    this.writes.push(out.slice(0, n));
    return n;
  }

  close(): void {
    this.inner.close();
  }
}

function isCode(code: ErrorCode): (err: unknown) => boolean {
  return (err) => isSfsError(err, code);
}

function expectPeer(expected: PublicIdentity): (peer: PublicIdentity) => void {
  return (peer) => {
    if (peer.fingerprint.some((byte, i) => byte !== expected.fingerprint[i])) {
      throw new SfsError("KEY_MISMATCH", "Not the expected responder");
    }
  };
}

interface Sides {
  alice: Identity;
  bob: Identity;
}

async function identities(): Promise<Sides> {
  return { alice: await testIdentity("alice"), bob: await testIdentity("bob") };
}

/** Runs both roles at once: alice initiates on `client`, bob responds on `server`. */
async function handshake(
  client: Transport,
  server: Transport,
  { alice, bob }: Sides,
  initiatorOptions: Partial<InitiateOptions> = {},
  responderOptions: RespondOptions = {},
): Promise<[PromiseSettledResult<Channel>, PromiseSettledResult<Channel>]> {
  const initiating = initiate(client, alice, {
    idleTimeoutMs: IDLE_MS,
    verifyResponder: expectPeer(bob.public),
    ...initiatorOptions,
  });
  const responding = respond(server, bob, { idleTimeoutMs: IDLE_MS, ...responderOptions });
  // Whichever side fails first leaves the other waiting on the socket: closing both ends it.
  initiating.catch(() => {
    closeQuietly(client);
  });
  responding.catch(() => {
    closeQuietly(server);
  });
  return await Promise.allSettled([initiating, responding]);
}

/** Both channels of a successful handshake. */
async function established(
  client: Transport,
  server: Transport,
  sides: Sides,
  initiatorOptions: Partial<InitiateOptions> = {},
  responderOptions: RespondOptions = {},
): Promise<{ initiator: Channel; responder: Channel }> {
  const [a, b] = await handshake(client, server, sides, initiatorOptions, responderOptions);
  if (a.status === "rejected") throw a.reason;
  if (b.status === "rejected") throw b.reason;
  return { initiator: a.value, responder: b.value };
}

function assertRejected(result: PromiseSettledResult<unknown>, code: ErrorCode): void {
  assert.equal(result.status, "rejected", `expected ${code}`);
  assert.ok(
    isSfsError((result as PromiseRejectedResult).reason, code),
    `expected ${code}, got ${(result as PromiseRejectedResult).reason}`,
  );
}

function withType(type: number, body: Uint8Array): Bytes {
  return concat(Uint8Array.of(type), body);
}

/** Reads one plaintext handshake message, as a hand-written peer does. */
async function readPlainMessage(reader: FrameReader): Promise<Message> {
  const frame = await reader.read(MAX_HANDSHAKE_FRAME);
  assert.ok(frame);
  assert.equal(frame.kind, FrameKind.PLAIN);
  return decodeMessage(frame.body[0], frame.body.subarray(1));
}

/**
 * A HELLO in the layout both versions share (§6.2): `u16 version ‖ bytes16 slot ‖ e ‖ n`, where
 * version 1 put its identity in the slot and version 2 its (empty) options.
 */
async function helloBody(version: number, slot: Uint8Array = new Uint8Array()): Promise<Bytes> {
  const ephemeral = (await generateEphemeral()).publicKey;
  const body = new ByteWriter().u16(version).bytes16(slot).raw(ephemeral).raw(new Uint8Array(32));
  return withType(MessageType.HELLO, body.finish());
}

const FILE_ID = Uint8Array.from({ length: 16 }, (_, i) => i);

/** A HELLO whose ephemeral key is the all-zero point: the X25519 result would be all zero. */
function lowOrderHello(): Message {
  return {
    type: MessageType.HELLO,
    version: 2,
    options: new Uint8Array(),
    ephemeral: new Uint8Array(32),
    nonce: new Uint8Array(32),
  };
}

Deno.test("initiate() and respond() set up a channel both ways over TCP", async () => {
  const sides = await identities();
  await using pair = await tcpPair();
  const { initiator, responder } = await established(pair.client, pair.server, sides);

  assert.deepEqual(initiator.peer.fingerprint, sides.bob.public.fingerprint);
  assert.deepEqual(responder.peer.fingerprint, sides.alice.public.fingerprint);
  assert.deepEqual(initiator.transcriptHash, responder.transcriptHash);

  // Initiator to responder, several records so sequence numbers advance.
  for (let offset = 0; offset < 3; offset++) {
    await initiator.send({ type: MessageType.GET, fileId: FILE_ID, offset });
    assert.deepEqual(await responder.expect(MessageType.GET), {
      type: MessageType.GET,
      fileId: FILE_ID,
      offset,
    });
  }

  // Responder to initiator: a manifest, then payload chunks under the shared payload key.
  const chunkSize = 16 * 1024;
  const content = Uint8Array.from({ length: 2 * chunkSize + 100 }, (_, i) => i & 0xff);
  const manifest: Message = {
    type: MessageType.MANIFEST,
    fileId: FILE_ID,
    name: "notes.txt",
    size: content.length,
    sha256: new Uint8Array(32),
    chunkSize,
    offset: 0,
    executable: false,
    mtime: 0,
    createdAt: 0,
    manifestSignatures: { rsa: undefined, ed25519: undefined },
  };
  await responder.send(manifest);
  assert.deepEqual(await initiator.receive(), manifest);
  const opener = new StreamOpener(initiator.payloadKey, { size: content.length, chunkSize });
  const sending = (async () => {
    for (let index = 0; index < 3; index++) {
      const plaintext = content.subarray(index * chunkSize, (index + 1) * chunkSize);
      await responder.sendChunk(
        await sealChunk(responder.payloadKey, index, index === 2, plaintext),
      );
    }
    await responder.send({ type: MessageType.FINAL, signatures: { ed25519: new Uint8Array(64) } });
  })();
  const received: Bytes[] = [];
  for (let index = 0; index < 3; index++) {
    const frame = await initiator.receiveChunkOrMessage(chunkSize + TAG_BYTES);
    assert.equal(frame.type, "chunk");
    received.push(await opener.open((frame as { data: Bytes }).data));
  }
  opener.finish();
  assert.deepEqual(concat(...received), content);
  assert.equal((await initiator.expect(MessageType.FINAL)).type, MessageType.FINAL);
  await sending;

  // An ERROR from the peer surfaces as its code.
  await initiator.send({ type: MessageType.ERROR, code: "HASH_MISMATCH", message: "Bad hash" });
  await assert.rejects(responder.receive(), isCode("HASH_MISMATCH"));

  // Closing one side ends the other's reads.
  responder.close();
  await assert.rejects(initiator.receive(), isCode("CONNECTION_CLOSED"));
  initiator.close();
});

Deno.test("initiate() accepts the signature policies the responder meets", async (t) => {
  const sides = await identities();
  const cases: [RespondOptions["sign"], InitiateOptions["require"]][] = [
    ["ed25519", "ed25519"],
    ["rsa", "rsa"],
    ["both", "rsa"],
    ["both", "ed25519"],
    [undefined, undefined],
  ];
  for (const [sign, require] of cases) {
    await t.step(`sign ${sign ?? "default"}, require ${require ?? "default"}`, async () => {
      await using pair = await tcpPair();
      const { initiator, responder } = await established(
        pair.client,
        pair.server,
        sides,
        { require },
        { sign },
      );
      // Accepted means established: bob's keys, one transcript, and records that open.
      assert.deepEqual(initiator.peer.fingerprint, sides.bob.public.fingerprint);
      assert.deepEqual(initiator.transcriptHash, responder.transcriptHash);
      await responder.send({ type: MessageType.HEARTBEAT });
      assert.equal((await initiator.receive()).type, MessageType.HEARTBEAT);
      initiator.close();
      responder.close();
    });
  }
});

Deno.test("initiate() rejects a responder that signs less than required with BAD_SIGNATURE", async (t) => {
  const sides = await identities();
  const cases: [RespondOptions["sign"], InitiateOptions["require"]][] = [
    ["ed25519", "both"],
    ["ed25519", undefined],
    ["rsa", "both"],
    ["rsa", "ed25519"],
  ];
  for (const [sign, require] of cases) {
    await t.step(`sign ${sign}, require ${require ?? "default"}`, async () => {
      await using pair = await tcpPair();
      const [initiated, responded] = await handshake(
        pair.client,
        pair.server,
        sides,
        { require },
        { sign },
      );
      assertRejected(initiated, "BAD_SIGNATURE");
      if (responded.status === "fulfilled") responded.value.close();
    });
  }
});

Deno.test("initiate() stops at KEY_MISMATCH before looking at signatures", async () => {
  const sides = await identities();
  await using pair = await tcpPair();
  let seen: PublicIdentity | undefined;
  const [initiated, responded] = await handshake(pair.client, pair.server, sides, {
    verifyResponder: (peer) => {
      seen = peer;
      throw new SfsError("KEY_MISMATCH", "Pinned key differs");
    },
    // A responder that signs too little would be BAD_SIGNATURE; the key check comes first.
    require: "both",
  }, { sign: "ed25519" });
  assertRejected(initiated, "KEY_MISMATCH");
  assert.deepEqual(seen?.fingerprint, sides.bob.public.fingerprint);
  // The responder waits for INITIATOR_AUTH and finds the initiator gone, having sent nothing.
  assertRejected(responded, "CONNECTION_CLOSED");
});

Deno.test("respond() turns a signed initiator away with a sealed ERROR, and the initiator gets the code", async (t) => {
  const sides = await identities();
  const refusals: [string, () => never, ErrorCode][] = [
    ["REFUSED", () => {
      throw new SfsError("REFUSED", "Not on the allow list");
    }, "REFUSED"],
    ["BUSY", () => {
      throw new SfsError("BUSY", "Too many transfers");
    }, "BUSY"],
    ["a plain Error", () => {
      throw new Error("boom");
    }, "REFUSED"],
  ];
  for (const [name, acceptInitiator, code] of refusals) {
    await t.step(name, async () => {
      await using pair = await tcpPair();
      let seen: PublicIdentity | undefined;
      const [initiated, responded] = await handshake(pair.client, pair.server, sides, {}, {
        acceptInitiator: (peer) => {
          seen = peer;
          acceptInitiator();
        },
      });
      assert.deepEqual(seen?.fingerprint, sides.alice.public.fingerprint);
      assertRejected(responded, code);
      assertRejected(initiated, code);
    });
  }
});

Deno.test("respond() admits before anything is known of the initiator, refusing with ABORT", async () => {
  const sides = await identities();
  await using pair = await tcpPair();
  const tap = new Tap(pair.client);
  const [initiated, responded] = await handshake(tap, pair.server, sides, {}, {
    admit: () => {
      throw new SfsError("BUSY", "Every slot is taken");
    },
  });
  assertRejected(responded, "BUSY");
  assertRejected(initiated, "BUSY");
  // Only the HELLO went out: one plain frame, no identity.
  assert.equal(concat(...tap.writes)[4], FrameKind.PLAIN);
  assert.equal(concat(...tap.writes).length, 5 + 1 + 2 + 2 + 64);
});

Deno.test("respond() refuses a HELLO of another version with VERSION_MISMATCH naming both", async (t) => {
  const { alice, bob } = await identities();
  const cases: [string, Bytes][] = [
    ["version 1 with its identity", await helloBody(1, alice.public.encoded)],
    ["version 3", await helloBody(3)],
    ["version 1 followed by garbage", concat((await helloBody(1)).slice(0, 3), Uint8Array.of(9))],
  ];
  for (const [name, hello] of cases) {
    await t.step(name, async () => {
      await using pair = await tcpPair();
      const responding = respond(pair.server, bob, { idleTimeoutMs: IDLE_MS });
      responding.catch(() => {});
      await new FrameWriter(pair.client).write(FrameKind.PLAIN, hello);
      const answer = await readPlainMessage(
        new FrameReader(pair.client, { idleTimeoutMs: IDLE_MS }),
      );
      assert.equal(answer.type, MessageType.ABORT);
      assert.equal((answer as { code: string }).code, "VERSION_MISMATCH");
      // The text a version 1 peer shows names both versions.
      assert.match((answer as { message: string }).message, /Protocol [13] .* speaks 2/);
      await assert.rejects(responding, isCode("VERSION_MISMATCH"));
    });
  }
});

Deno.test("initiate() refuses a version 1 HELLO_REPLY with VERSION_MISMATCH", async () => {
  const { alice, bob } = await identities();
  await using pair = await tcpPair();
  const initiating = initiate(pair.client, alice, {
    idleTimeoutMs: IDLE_MS,
    verifyResponder: () => {},
  });
  initiating.catch(() => {});
  await readPlainMessage(new FrameReader(pair.server, { idleTimeoutMs: IDLE_MS }));
  // Version 1's layout: version, identity, ephemeral, nonce, wrapped secret, signatures.
  const reply = new ByteWriter().u16(1).bytes16(bob.public.encoded).raw(new Uint8Array(64))
    .bytes16(new Uint8Array(384)).bytes16(new Uint8Array()).bytes16(new Uint8Array(64)).finish();
  await new FrameWriter(pair.server).write(
    FrameKind.PLAIN,
    withType(MessageType.HELLO_REPLY, reply),
  );
  await assert.rejects(initiating, isCode("VERSION_MISMATCH"));
});

Deno.test("respond() aborts a first frame that is not a plaintext HELLO", async (t) => {
  const { alice, bob } = await identities();
  const plain = (message: Message) => withType(message.type, encodeMessage(message));
  const cases: [string, FrameKind, Bytes, ErrorCode][] = [
    ["a sealed frame", FrameKind.SEALED, new Uint8Array(40), "UNEXPECTED_MESSAGE"],
    [
      "an ABORT",
      FrameKind.PLAIN,
      plain({ type: MessageType.ABORT, code: "INTERNAL", message: "" }),
      "UNEXPECTED_MESSAGE",
    ],
    [
      "a GET in plaintext",
      FrameKind.PLAIN,
      plain({ type: MessageType.GET, fileId: FILE_ID, offset: 0 }),
      "UNEXPECTED_MESSAGE",
    ],
    ["a truncated HELLO", FrameKind.PLAIN, (await helloBody(2)).slice(0, -1), "BAD_MESSAGE"],
    [
      "a version 2 HELLO with options (or an identity where v1 had it)",
      FrameKind.PLAIN,
      await helloBody(2, alice.public.encoded),
      "BAD_MESSAGE",
    ],
    ["a low-order ephemeral key", FrameKind.PLAIN, plain(lowOrderHello()), "BAD_KEY"],
  ];
  for (const [name, kind, body, code] of cases) {
    await t.step(name, async () => {
      await using pair = await tcpPair();
      const responding = respond(pair.server, bob, { idleTimeoutMs: IDLE_MS });
      responding.catch(() => {});
      await new FrameWriter(pair.client).write(kind, body);
      const answer = await readPlainMessage(
        new FrameReader(pair.client, { idleTimeoutMs: IDLE_MS }),
      );
      assert.equal(answer.type, MessageType.ABORT);
      assert.equal((answer as { code: string }).code, code);
      await assert.rejects(responding, isCode(code));
    });
  }
});

Deno.test("initiate() rejects flight 2 replayed from another session and sends nothing more", async () => {
  const sides = await identities();
  // Session 1: record the bytes bob sends alice during a genuine handshake.
  let recorded: Bytes;
  {
    await using pair = await tcpPair();
    const tap = new Tap(pair.client);
    const { initiator, responder } = await established(tap, pair.server, sides);
    recorded = concat(...tap.reads);
    initiator.close();
    responder.close();
  }
  // Session 2: a fake bob answers alice's fresh HELLO with the recorded flight. Its handshake
  // keys came from the old ephemeral secret, so RESPONDER_AUTH does not even open.
  await using pair = await tcpPair();
  const aliceTap = new Tap(pair.client);
  const initiating = initiate(aliceTap, sides.alice, {
    idleTimeoutMs: IDLE_MS,
    verifyResponder: expectPeer(sides.bob.public),
  });
  initiating.catch(() => {});
  const hello = await readPlainMessage(new FrameReader(pair.server, { idleTimeoutMs: IDLE_MS }));
  assert.equal(hello.type, MessageType.HELLO);
  await pair.server.write(recorded);
  await assert.rejects(initiating, isCode("DECRYPT_FAILED"));
  assert.equal(aliceTap.writes.length, 1, "alice wrote her HELLO and nothing else");
});

Deno.test("Channel.receive() rejects a tampered sealed record with DECRYPT_FAILED", async () => {
  const sides = await identities();
  await using pair = await tcpPair();
  const tap = new Tap(pair.server);
  const { initiator, responder } = await established(pair.client, tap, sides);
  tap.tamperNextWrite = true;
  await responder.send(RECEIPT_SAMPLE);
  await assert.rejects(initiator.receive(), isCode("DECRYPT_FAILED"));
  initiator.close();
  responder.close();
});

Deno.test("Channel.receive() rejects a replayed or reflected sealed record with DECRYPT_FAILED", async (t) => {
  const sides = await identities();
  await t.step("the same record twice", async () => {
    await using pair = await tcpPair();
    const tap = new Tap(pair.server);
    const { initiator, responder } = await established(pair.client, tap, sides);
    const before = tap.writes.length;
    await responder.send(RECEIPT_SAMPLE);
    const record = concat(...tap.writes.slice(before));
    assert.equal((await initiator.receive()).type, MessageType.RECEIPT);
    await pair.server.write(record);
    await assert.rejects(initiator.receive(), isCode("DECRYPT_FAILED"));
    initiator.close();
    responder.close();
  });
  await t.step("the initiator's own record sent back to it", async () => {
    await using pair = await tcpPair();
    const tap = new Tap(pair.client);
    const { initiator, responder } = await established(tap, pair.server, sides);
    const before = tap.writes.length;
    await initiator.send(RECEIPT_SAMPLE);
    const record = concat(...tap.writes.slice(before));
    // Same sequence number (0) as the responder's first record, but the other direction's key.
    await pair.server.write(record);
    await assert.rejects(initiator.receive(), isCode("DECRYPT_FAILED"));
    initiator.close();
    responder.close();
  });
});

Deno.test("Channel.receive() rejects a plaintext frame after the handshake with UNEXPECTED_MESSAGE", async () => {
  const sides = await identities();
  await using pair = await tcpPair();
  const { initiator, responder } = await established(pair.client, pair.server, sides);
  const abort = encodeMessage({ type: MessageType.ABORT, code: "INTERNAL", message: "late" });
  await new FrameWriter(pair.server).write(FrameKind.PLAIN, withType(MessageType.ABORT, abort));
  await assert.rejects(initiator.receive(), isCode("UNEXPECTED_MESSAGE"));
  initiator.close();
  responder.close();
});

Deno.test("Channel.receive() refuses a payload chunk when none is expected", async () => {
  const sides = await identities();
  await using pair = await tcpPair();
  const { initiator, responder } = await established(pair.client, pair.server, sides);
  await responder.sendChunk(new Uint8Array(100));
  await assert.rejects(initiator.receive(), isCode("UNEXPECTED_MESSAGE"));
  initiator.close();
  responder.close();
});

Deno.test("Channel.receiveChunkOrMessage() refuses a chunk limit that is not positive", async () => {
  const sides = await identities();
  await using pair = await tcpPair();
  const { initiator, responder } = await established(pair.client, pair.server, sides);
  await assert.rejects(initiator.receiveChunkOrMessage(0), isCode("INTERNAL"));
  initiator.close();
  responder.close();
});

Deno.test("Channel.receive() rejects frames over their limit with FRAME_TOO_LARGE", async (t) => {
  const sides = await identities();
  const maxRecordBytes = 1024;
  const cases: [string, FrameKind, number, number][] = [
    ["a sealed record, no stream open", FrameKind.SEALED, maxRecordBytes + TAG_BYTES + 1, 0],
    // Chunks may be larger than records; a sealed record still may not.
    ["a sealed record while a stream is open", FrameKind.SEALED, 2000, 64 * 1024],
    ["a chunk over the chunk limit", FrameKind.CHUNK, 301, 300],
    ["a chunk over both limits", FrameKind.CHUNK, 70 * 1024, 64 * 1024],
  ];
  for (const [name, kind, length, maxChunkBytes] of cases) {
    await t.step(name, async () => {
      await using pair = await tcpPair();
      const { initiator, responder } = await established(pair.client, pair.server, sides, {
        maxRecordBytes,
      });
      await new FrameWriter(pair.server).write(kind, new Uint8Array(length));
      const received = maxChunkBytes === 0
        ? initiator.receive()
        : initiator.receiveChunkOrMessage(maxChunkBytes);
      await assert.rejects(received, isCode("FRAME_TOO_LARGE"));
      initiator.close();
      responder.close();
    });
  }
  await t.step("records and chunks exactly at their limits are let through", async () => {
    await using pair = await tcpPair();
    const { initiator, responder } = await established(pair.client, pair.server, sides, {
      maxRecordBytes,
    });
    await responder.sendChunk(new Uint8Array(300));
    assert.equal((await initiator.receiveChunkOrMessage(300)).type, "chunk");
    // A full-size record of garbage passes the size check and then fails authentication.
    await new FrameWriter(pair.server).write(FrameKind.SEALED, new Uint8Array(1024 + TAG_BYTES));
    await assert.rejects(initiator.receiveChunkOrMessage(300), isCode("DECRYPT_FAILED"));
    initiator.close();
    responder.close();
  });
});

Deno.test("Channel.send() refuses handshake message types", async () => {
  const sides = await identities();
  await using pair = await tcpPair();
  const { initiator, responder } = await established(pair.client, pair.server, sides);
  assert.throws(
    () => initiator.send({ type: MessageType.ABORT, code: "INTERNAL", message: "" }),
    isCode("INTERNAL"),
  );
  assert.throws(
    () => initiator.send({ type: MessageType.KEY_TRANSPORT, wrappedSecret: new Uint8Array(384) }),
    isCode("INTERNAL"),
  );
  initiator.close();
  responder.close();
});

Deno.test("initiate() times out a silent responder with TIMEOUT", async () => {
  const { alice } = await identities();
  await using pair = await tcpPair();
  const initiating = initiate(pair.client, alice, {
    idleTimeoutMs: 200,
    verifyResponder: () => {},
  });
  await assert.rejects(initiating, isCode("TIMEOUT"));
});
