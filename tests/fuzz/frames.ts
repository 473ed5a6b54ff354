/** Frame reader and writer targets over a scripted in-memory transport. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { concat } from "../../src/crypto/bytes.ts";
import type { ErrorCode } from "../../src/errors.ts";
import { DEFAULT_MAX_RECORD } from "../../src/wire/channel.ts";
import { MAX_HANDSHAKE_FRAME } from "../../src/wire/handshake.ts";
import {
  FRAME_HEADER_BYTES,
  FrameKind,
  FrameReader,
  FrameWriter,
  type Transport,
} from "../../src/wire/frame.ts";
import { frameLikeArb } from "./arbitraries.ts";
import { assertBytes, bounded, expectSfsError } from "./checks.ts";
import { check, type FuzzTarget } from "./run.ts";

/** How a scripted stream ends once its bytes are read. */
type StreamEnd = "eof" | "stall" | "reset";

/**
 * A transport that returns a fixed byte stream in reads of scripted sizes, then ends it the
 * scripted way; it records the largest buffer a read asked to fill.
 */
class ScriptedTransport implements Transport {
  largestRead = 0;
  readonly #bytes: Uint8Array;
  readonly #sizes: number[];
  readonly #end: StreamEnd;
  #at = 0;
  #reads = 0;
  #closed = false;
  #onClose?: () => void;

  constructor(bytes: Uint8Array, sizes: number[], end: StreamEnd) {
    this.#bytes = bytes;
    this.#sizes = sizes.length > 0 ? sizes : [1 << 20];
    this.#end = end;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    this.largestRead = Math.max(this.largestRead, buffer.length);
    if (this.#closed) return Promise.reject(new Error("Interrupted: operation canceled"));
    if (this.#at < this.#bytes.length) {
      const size = this.#sizes[this.#reads++ % this.#sizes.length];
      const n = Math.min(size, buffer.length, this.#bytes.length - this.#at);
      buffer.set(this.#bytes.subarray(this.#at, this.#at + n));
      this.#at += n;
      return Promise.resolve(n);
    }
    if (this.#end === "eof") return Promise.resolve(null);
    if (this.#end === "reset") return Promise.reject(new Error("Connection reset by peer"));
    // A stalled peer: nothing until the reader's deadline closes the transport.
    return new Promise((_, reject) => {
      this.#onClose = () => reject(new Error("Interrupted: operation canceled"));
    });
  }

  write(data: Uint8Array): Promise<number> {
    return Promise.resolve(data.length);
  }

  close(): void {
    this.#closed = true;
    this.#onClose?.();
  }
}

/** What a correct frame reader returns for a stream: its frames, then how it stops. */
function modelFrames(
  bytes: Uint8Array,
  maxBody: number,
  end: StreamEnd,
): { frames: Uint8Array[]; stop: "end" | ErrorCode } {
  const frames: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const starved: ErrorCode = end === "stall" ? "TIMEOUT" : "CONNECTION_CLOSED";
  let at = 0;
  for (;;) {
    const left = bytes.length - at;
    if (left === 0) return { frames, stop: end === "eof" ? "end" : starved };
    if (left < FRAME_HEADER_BYTES) return { frames, stop: starved };
    const length = view.getUint32(at);
    const kind = bytes[at + 4];
    if (length < 1 || kind < FrameKind.PLAIN || kind > FrameKind.CHUNK) {
      return { frames, stop: "BAD_FRAME" };
    }
    if (length - 1 > maxBody) return { frames, stop: "FRAME_TOO_LARGE" };
    if (left < 4 + length) return { frames, stop: starved };
    frames.push(bytes.subarray(at, at + 4 + length));
    at += 4 + length;
  }
}

/** The body limits the code uses, and a few awkward ones. */
const maxBodyArb = fc.oneof(
  fc.constantFrom(
    0,
    1,
    4,
    16,
    64 * 1024 - FRAME_HEADER_BYTES,
    64 * 1024,
    MAX_HANDSHAKE_FRAME,
    DEFAULT_MAX_RECORD + 16,
    4 * 1024 * 1024 + 16,
  ),
  fc.nat(300),
);

/** The frame reader on arbitrary streams, random read sizes and every way a stream can stop. */
export function frameReaderTarget(): FuzzTarget {
  const caseArb = maxBodyArb.chain((maxBody) =>
    fc.record({
      maxBody: fc.constant(maxBody),
      bytes: fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.tuple(fc.array(frameLikeArb(maxBody), { maxLength: 5 }), fc.nat()).map((
          [frames, cut],
        ) => {
          const all = concat(...frames);
          // Often cut the stream short, mid-frame or mid-header.
          return cut % 3 === 0 ? all.subarray(0, cut % (all.length + 1)) : all;
        }),
      ),
      sizes: fc.array(
        fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 70_000 })),
        { maxLength: 6 },
      ),
      end: fc.constantFrom<StreamEnd>("eof", "eof", "eof", "reset", "stall"),
    })
  );
  return {
    name: "FrameReader.read() on arbitrary streams",
    ciRuns: 1500,
    run: (p) =>
      check(
        fc.asyncProperty(caseArb, async ({ maxBody, bytes, sizes, end }) => {
          const transport = new ScriptedTransport(bytes, sizes, end);
          // The deadline only matters for a stalled stream: every scripted read resolves at once.
          const reader = new FrameReader(transport, {
            idleTimeoutMs: end === "stall" ? 5 : 10_000,
          });
          const expected = modelFrames(bytes, maxBody, end);
          const frames: Uint8Array[] = [];
          let stop: "end" | ErrorCode = "end";
          try {
            for (;;) {
              const frame = await bounded(reader.read(maxBody), 5000, "FrameReader.read()");
              if (frame === null) break;
              assert.ok(frame.body.length <= maxBody, "a frame over the limit was returned");
              const header = new Uint8Array(FRAME_HEADER_BYTES);
              new DataView(header.buffer).setUint32(0, frame.body.length + 1);
              header[4] = frame.kind;
              frames.push(concat(header, frame.body));
            }
          } catch (err) {
            stop = expectSfsError(err).code;
          }
          // No read may ask for more than the body limit plus the reader's own 64 KiB buffer.
          assert.ok(
            transport.largestRead <= maxBody + 64 * 1024,
            `read into ${transport.largestRead} bytes with a limit of ${maxBody}`,
          );
          assert.equal(stop, expected.stop, "the stream stopped differently from the model");
          assert.equal(frames.length, expected.frames.length, "frame count differs from the model");
          frames.forEach((f, i) => assertBytes(f, expected.frames[i], `frame ${i}`));
          p.stats.add(stop);
        }),
        p,
      ),
  };
}

/** FrameWriter → FrameReader round trip through a transport taking odd-sized writes and reads. */
export function frameRoundTripTarget(): FuzzTarget {
  const caseArb = fc.record({
    frames: fc.array(
      fc.record({ kind: fc.constantFrom(1, 2, 3), body: fc.uint8Array({ maxLength: 9000 }) }),
      { maxLength: 6 },
    ),
    writeSize: fc.integer({ min: 1, max: 5000 }),
    sizes: fc.array(fc.integer({ min: 1, max: 70_000 }), { maxLength: 4 }),
  });
  return {
    name: "FrameWriter and FrameReader round trip",
    ciRuns: 300,
    alwaysOk: true,
    run: (p) =>
      check(
        fc.asyncProperty(caseArb, async ({ frames, writeSize, sizes }) => {
          const written: Uint8Array[] = [];
          const sink: Transport = {
            read: () => Promise.resolve(null),
            write: (data) => {
              const n = Math.min(writeSize, data.length);
              written.push(data.slice(0, n));
              return Promise.resolve(n);
            },
            close: () => {},
          };
          const writer = new FrameWriter(sink);
          for (const f of frames) await writer.write(f.kind as FrameKind, f.body);
          const transport = new ScriptedTransport(concat(...written), sizes, "eof");
          const reader = new FrameReader(transport);
          for (const f of frames) {
            const got = await reader.read(9000);
            assert.ok(got, "a written frame was not read back");
            assert.equal(got.kind, f.kind);
            assertBytes(got.body, f.body, "frame body");
          }
          assert.equal(await reader.read(9000), null, "more frames read than written");
          p.stats.add("ok");
        }),
        p,
      ),
  };
}
