import assert from "node:assert/strict";
import { type ErrorCode, isSfsError } from "../errors.ts";
import { type Bytes, concat } from "../crypto/bytes.ts";
import { MemoryTransport, tcpPair } from "../../tests/transport.ts";
import {
  FRAME_HEADER_BYTES,
  frameBody,
  FrameKind,
  FrameReader,
  FrameWriter,
  recycleChunkBody,
  releaseFrameBody,
} from "./frame.ts";

/**
 * An in-memory transport whose writes take at most 1000 bytes per call, like a busy socket, so
 * FrameWriter must loop; reads return at most `maxRead` bytes.
 */
function memory(maxRead?: number): MemoryTransport {
  return new MemoryTransport({ maxRead, maxWrite: 1000 });
}

function header(length: number, kind: number): Bytes {
  const out = new Uint8Array(FRAME_HEADER_BYTES);
  new DataView(out.buffer).setUint32(0, length);
  out[4] = kind;
  return out;
}

function body(length: number, seed = 0): Bytes {
  return Uint8Array.from({ length }, (_, i) => (i * 13 + seed) & 0xff);
}

function isCode(code: ErrorCode): (err: unknown) => boolean {
  return (err) => isSfsError(err, code);
}

/** Feeds `bytes` one at a time, `gapMs` apart; stops early if the transport is closed. */
async function trickle(
  transport: MemoryTransport,
  bytes: Uint8Array,
  gapMs: number,
): Promise<void> {
  for (const byte of bytes) {
    await new Promise((resolve) => setTimeout(resolve, gapMs));
    if (transport.closed) return;
    transport.feed(Uint8Array.of(byte));
  }
}

const SAMPLE_FRAMES: [FrameKind, Bytes][] = [
  [FrameKind.PLAIN, body(0)],
  [FrameKind.PLAIN, body(1)],
  [FrameKind.SEALED, body(4096)],
  [FrameKind.SEALED, body(4097, 1)],
  [FrameKind.CHUNK, body(200_000, 2)],
  [FrameKind.PLAIN, body(70_000, 3)],
  [FrameKind.CHUNK, body(17, 4)],
];

Deno.test("FrameReader reads what FrameWriter wrote over loopback TCP", async () => {
  await using pair = await tcpPair();
  const writer = new FrameWriter(pair.client);
  const reader = new FrameReader(pair.server, { idleTimeoutMs: 5000 });
  const writing = (async () => {
    for (const [kind, data] of SAMPLE_FRAMES) await writer.write(kind, data);
    pair.client.close();
  })();
  for (const [kind, data] of SAMPLE_FRAMES) {
    const frame = await reader.read(256 * 1024);
    assert.ok(frame);
    assert.equal(frame.kind, kind);
    assert.deepEqual(frame.body, data);
  }
  assert.equal(await reader.read(256 * 1024), null);
  await writing;
});

Deno.test("FrameReader reads what FrameWriter wrote over an in-memory transport", async (t) => {
  for (const maxRead of [1, 3, 4096, Number.POSITIVE_INFINITY]) {
    await t.step(`reads of at most ${maxRead} bytes`, async () => {
      const sending = memory();
      const receiving = memory(maxRead);
      sending.onWrite = (bytes) => receiving.feed(bytes);
      const writer = new FrameWriter(sending);
      // Concurrent writes: the queue must keep each frame whole and in call order.
      await Promise.all(SAMPLE_FRAMES.map(([kind, data]) => writer.write(kind, data)));
      receiving.end();
      const reader = new FrameReader(receiving);
      for (const [kind, data] of SAMPLE_FRAMES) {
        const frame = await reader.read(256 * 1024);
        assert.deepEqual(frame, { kind, body: data });
      }
      assert.equal(await reader.read(256 * 1024), null);
    });
  }
});

Deno.test("FrameWriter writes u32 length of kind and body, then kind, then body", async () => {
  const transport = memory();
  const writer = new FrameWriter(transport);
  await writer.write(FrameKind.SEALED, Uint8Array.of(0xaa, 0xbb));
  await writer.write(FrameKind.PLAIN, new Uint8Array());
  assert.deepEqual(
    concat(...transport.written),
    Uint8Array.of(0, 0, 0, 3, 2, 0xaa, 0xbb, 0, 0, 0, 1, 1),
  );
});

Deno.test("FrameWriter reports a failed write as CONNECTION_CLOSED and stops the queue", async () => {
  const transport = memory();
  const writer = new FrameWriter(transport);
  transport.failWrites = true;
  await assert.rejects(writer.write(FrameKind.PLAIN, body(10)), isCode("CONNECTION_CLOSED"));
  transport.failWrites = false;
  // A later frame must not go out after a gap in the stream.
  await assert.rejects(writer.write(FrameKind.PLAIN, body(10)), isCode("CONNECTION_CLOSED"));
  assert.equal(transport.written.length, 0);
});

Deno.test("FrameReader.read() returns null on a clean end of stream", async () => {
  const empty = memory();
  empty.end();
  assert.equal(await new FrameReader(empty).read(100), null);

  const oneFrame = memory();
  oneFrame.feed(concat(header(3, FrameKind.CHUNK), body(2)));
  oneFrame.end();
  const reader = new FrameReader(oneFrame);
  assert.deepEqual(await reader.read(100), { kind: FrameKind.CHUNK, body: body(2) });
  assert.equal(await reader.read(100), null);
});

Deno.test("FrameReader.read() rejects malformed headers", async (t) => {
  const cases: [string, Bytes, number, ErrorCode][] = [
    ["length 0", header(0, FrameKind.PLAIN), 100, "BAD_FRAME"],
    ["kind 0", header(5, 0), 100, "BAD_FRAME"],
    ["kind 4", header(5, 4), 100, "BAD_FRAME"],
    ["kind 255", header(5, 255), 100, "BAD_FRAME"],
    ["length 0xFFFFFFFF", header(0xffffffff, FrameKind.CHUNK), 8192, "FRAME_TOO_LARGE"],
    ["body one byte over the limit", header(102, FrameKind.SEALED), 100, "FRAME_TOO_LARGE"],
    ["any body when the limit is 0", header(2, FrameKind.SEALED), 0, "FRAME_TOO_LARGE"],
  ];
  for (const [name, bytes, maxBody, code] of cases) {
    await t.step(name, async () => {
      // No body follows and the stream never ends: the reader must decide from the header
      // alone, without waiting for (or allocating) the body it announces.
      const transport = memory();
      transport.feed(bytes);
      await assert.rejects(
        new FrameReader(transport, { idleTimeoutMs: 5000 }).read(maxBody),
        isCode(code),
      );
      transport.close();
    });
  }
  await t.step("a body exactly at the limit is accepted", async () => {
    const transport = memory();
    transport.feed(concat(header(101, FrameKind.SEALED), body(100)));
    assert.deepEqual(await new FrameReader(transport).read(100), {
      kind: FrameKind.SEALED,
      body: body(100),
    });
  });
});

Deno.test("FrameReader.read() rejects a 4 GiB length over TCP at once", async () => {
  await using pair = await tcpPair();
  await pair.client.write(header(0xffffffff, FrameKind.SEALED));
  const reader = new FrameReader(pair.server, { idleTimeoutMs: 5000 });
  await assert.rejects(reader.read(1024 * 1024), isCode("FRAME_TOO_LARGE"));
});

Deno.test("FrameReader.read() reports an end inside a frame as CONNECTION_CLOSED", async (t) => {
  const cases: [string, Bytes][] = [
    ["mid-header", Uint8Array.of(0, 0)],
    ["after the length", Uint8Array.of(0, 0, 0, 9)],
    ["after the header", header(9, FrameKind.PLAIN)],
    ["mid-body", concat(header(9, FrameKind.PLAIN), body(4))],
    ["one byte short", concat(header(9, FrameKind.PLAIN), body(7))],
    [
      "mid-body of a second frame",
      concat(header(2, FrameKind.PLAIN), body(1), header(70_000, FrameKind.CHUNK), body(65_000)),
    ],
  ];
  for (const [name, bytes] of cases) {
    await t.step(name, async () => {
      const transport = memory(1000);
      transport.feed(bytes);
      transport.end();
      const reader = new FrameReader(transport);
      const read = async () => {
        while (await reader.read(100_000) !== null) {
          // Complete frames before the cut are fine; the cut itself must fail.
        }
      };
      await assert.rejects(read(), isCode("CONNECTION_CLOSED"));
    });
  }
});

Deno.test("FrameReader.read() reports a reset connection as CONNECTION_CLOSED", async () => {
  await using pair = await tcpPair();
  await pair.client.write(header(100, FrameKind.PLAIN));
  pair.client.close();
  const reader = new FrameReader(pair.server, { idleTimeoutMs: 5000 });
  await assert.rejects(reader.read(1000), isCode("CONNECTION_CLOSED"));
});

Deno.test("FrameReader.read() times out a silent peer with TIMEOUT", async (t) => {
  await t.step("over TCP, before any byte", async () => {
    await using pair = await tcpPair();
    const reader = new FrameReader(pair.server, { idleTimeoutMs: 200 });
    await assert.rejects(reader.read(100), isCode("TIMEOUT"));
  });
  await t.step("over TCP, mid-body", async () => {
    await using pair = await tcpPair();
    await pair.client.write(concat(header(50, FrameKind.SEALED), body(10)));
    const reader = new FrameReader(pair.server, { idleTimeoutMs: 200 });
    await assert.rejects(reader.read(100), isCode("TIMEOUT"));
  });
  await t.step("over an in-memory transport, which it closes", async () => {
    const transport = memory();
    const reader = new FrameReader(transport, { idleTimeoutMs: 200 });
    await assert.rejects(reader.read(100), isCode("TIMEOUT"));
    assert.equal(transport.closed, true);
  });
  await t.step("a PLAIN or SEALED frame must arrive whole within the deadline", async () => {
    // Each byte comes well within the deadline, but the frame as a whole does not: trickling
    // must not hold a connection open.
    for (const kind of [FrameKind.PLAIN, FrameKind.SEALED]) {
      const transport = memory();
      const reader = new FrameReader(transport, { idleTimeoutMs: 200 });
      const reading = assert.rejects(reader.read(100), isCode("TIMEOUT"));
      await trickle(transport, concat(header(7, kind), body(6)), 60);
      await reading;
    }
  });
  await t.step("a CHUNK body needs only steady progress", async () => {
    const transport = memory();
    const reader = new FrameReader(transport, { idleTimeoutMs: 200 });
    transport.feed(header(7, FrameKind.CHUNK));
    const [frame] = await Promise.all([reader.read(100), trickle(transport, body(6), 60)]);
    assert.deepEqual(frame, { kind: FrameKind.CHUNK, body: body(6) });
  });
  await t.step("a quiet gap between frames is not part of the next frame's deadline", async () => {
    const transport = memory();
    const reader = new FrameReader(transport, { idleTimeoutMs: 300 });
    transport.feed(concat(header(2, FrameKind.SEALED), body(1)));
    assert.ok(await reader.read(100));
    const next = reader.read(100);
    await new Promise((resolve) => setTimeout(resolve, 180));
    transport.feed(header(2, FrameKind.SEALED));
    await new Promise((resolve) => setTimeout(resolve, 180));
    transport.feed(body(1));
    assert.deepEqual(await next, { kind: FrameKind.SEALED, body: body(1) });
  });
});

Deno.test("FrameWriter.write() times out a peer that stops reading with TIMEOUT", async () => {
  await using pair = await tcpPair();
  const writer = new FrameWriter(pair.client, { idleTimeoutMs: 200 });
  // The server never reads: once the socket buffers are full, a write can make no progress.
  const big = new Uint8Array(4 * 1024 * 1024);
  const writeUntilStuck = async () => {
    for (let i = 0; i < 64; i++) await writer.write(FrameKind.CHUNK, big);
  };
  await assert.rejects(writeUntilStuck(), isCode("TIMEOUT"));
});

Deno.test("FrameWriter sends a frameBody() frame in one write, any other large one in two", async () => {
  const transport = new MemoryTransport();
  const writer = new FrameWriter(transport);
  const sealed = frameBody(100_000);
  sealed.set(body(100_000, 5));
  await writer.write(FrameKind.CHUNK, sealed);
  assert.equal(transport.written.length, 1);
  assert.deepEqual(transport.written[0], concat(header(100_001, FrameKind.CHUNK), sealed));
  // A view that does not start where the body does gets no header written in front of it.
  await writer.write(FrameKind.CHUNK, sealed.subarray(1));
  await writer.write(FrameKind.CHUNK, body(100_000));
  assert.equal(transport.written.length, 5);
  assert.deepEqual(
    concat(...transport.written.slice(1, 3)),
    concat(header(100_000, FrameKind.CHUNK), sealed.subarray(1)),
  );
});

Deno.test("releaseFrameBody() frees only a frameBody() buffer", () => {
  const sealed = frameBody(10);
  const plain = body(10);
  releaseFrameBody(plain);
  assert.equal(plain.length, 10);
  releaseFrameBody(sealed);
  assert.equal(sealed.length, 0);
  releaseFrameBody(sealed); // twice is fine
});

Deno.test("FrameReader reuses a CHUNK body given back by recycleChunkBody(), never another", async () => {
  const transport = new MemoryTransport();
  const writer = new FrameWriter(transport);
  await writer.write(FrameKind.CHUNK, body(300, 1));
  await writer.write(FrameKind.CHUNK, body(200, 2));
  await writer.write(FrameKind.SEALED, body(100, 3));
  await writer.write(FrameKind.CHUNK, body(100, 4));
  for (const written of transport.written) transport.feed(written);
  const reader = new FrameReader(transport);
  const first = (await reader.read(1000))!.body;
  assert.deepEqual(first, body(300, 1));
  recycleChunkBody(first);
  const second = (await reader.read(1000))!.body;
  assert.equal(second.buffer, first.buffer, "the spare body is reused");
  assert.deepEqual(second, body(200, 2));
  const sealed = (await reader.read(1000))!.body;
  recycleChunkBody(sealed); // not a chunk body: ignored
  const third = (await reader.read(1000))!.body;
  assert.notEqual(third.buffer, sealed.buffer);
  assert.deepEqual(third, body(100, 4));
});
