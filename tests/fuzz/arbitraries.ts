/** Small arbitraries and bounds shared by several fuzz targets. */
import fc from "fast-check";
import type { Bytes } from "../../src/crypto/bytes.ts";
import { FRAME_HEADER_BYTES } from "../../src/wire/frame.ts";

/** The largest u32, the top of every 32-bit length field. */
export const MAX_U32 = 0xffffffff;

/** Byte strings of exactly `length` bytes. */
export function fixed(length: number): fc.Arbitrary<Bytes> {
  return fc.uint8Array({ minLength: length, maxLength: length });
}

/** A frame as the writer would put it on the wire, with a possibly lying length field. */
export const frameLikeArb = (maxBody: number): fc.Arbitrary<Bytes> =>
  fc.record({
    kind: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(1, 2, 3) }, fc.nat(255)),
    body: fc.uint8Array({ maxLength: 200 }),
    length: fc.oneof(
      { weight: 6, arbitrary: fc.constant(undefined) },
      fc.constantFrom(0, 1, maxBody, maxBody + 1, maxBody + 2, MAX_U32),
      fc.integer({ min: 0, max: MAX_U32 }),
    ),
  }).map(({ kind, body, length }) => {
    const out = new Uint8Array(FRAME_HEADER_BYTES + body.length);
    new DataView(out.buffer).setUint32(0, Math.min(length ?? body.length + 1, MAX_U32));
    out[4] = kind;
    out.set(body, FRAME_HEADER_BYTES);
    return out;
  });
