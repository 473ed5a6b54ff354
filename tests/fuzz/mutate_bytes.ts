/** Byte-level mutations of valid encodings: flips, cuts, splices and lying length fields. */
import fc from "fast-check";
import { type Bytes, concat } from "../../src/crypto/bytes.ts";

/** Byte values that often sit on a boundary. */
const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0xfe, 0xff] as const;

/** 16-bit values that often sit on a limit of some field. */
export const INTERESTING_U16 = [
  0,
  1,
  15,
  16,
  17,
  31,
  32,
  33,
  63,
  64,
  65,
  100,
  101,
  511,
  512,
  513,
  1023,
  1024,
  1025,
  2047,
  2048,
  2049,
  4095,
  4096,
  4097,
  0x7fff,
  0x8000,
  0xfffe,
  0xffff,
] as const;

/** One edit of a byte string; positions are taken modulo the length at the time of the edit. */
export type ByteMutation =
  | { op: "flip"; at: number; bit: number }
  | { op: "set"; at: number; value: number }
  | { op: "truncate"; keep: number }
  | { op: "extend"; bytes: Bytes }
  | { op: "insert"; at: number; bytes: Bytes }
  | { op: "delete"; at: number; count: number }
  | { op: "duplicate"; at: number; count: number }
  | { op: "length16"; pick: number; value: number; relative: boolean }
  | { op: "length32"; at: number; value: number }
  | { op: "splice"; at: number; otherAt: number };

/** Arbitrary byte mutations; `splice` needs a second encoding, passed to {@link mutateBytes}. */
export const byteMutationArb: fc.Arbitrary<ByteMutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant("flip"), at: fc.nat(), bit: fc.nat(7) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("set"),
      at: fc.nat(),
      value: fc.oneof(fc.constantFrom(...INTERESTING_BYTES), fc.nat(255)),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("truncate"), keep: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant("extend"), bytes: fc.uint8Array({ minLength: 1 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("insert"),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("delete"),
      at: fc.nat(),
      count: fc.integer({ min: 1, max: 8 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("duplicate"),
      at: fc.nat(),
      count: fc.integer({ min: 1, max: 40 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.oneof(
      fc.record({
        op: fc.constant("length16"),
        pick: fc.nat(),
        value: fc.integer({ min: -3, max: 3 }),
        relative: fc.constant(true),
      }),
      fc.record({
        op: fc.constant("length16"),
        pick: fc.nat(),
        value: fc.constantFrom(...INTERESTING_U16),
        relative: fc.constant(false),
      }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("length32"),
      at: fc.nat(),
      value: fc.oneof(
        fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff),
        fc.integer({ min: 0, max: 0xffffffff }),
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant("splice"), at: fc.nat(), otherAt: fc.nat() }),
  },
);

/**
 * Offsets where a big-endian u16 could be the length of what follows (it fits in what is left):
 * the places where a corrupted length field hurts most. Falls back to every offset.
 */
function lengthCandidates(bytes: Uint8Array): number[] {
  const found: number[] = [];
  for (let i = 0; i + 2 <= bytes.length; i++) {
    const value = (bytes[i] << 8) | bytes[i + 1];
    if (value <= bytes.length - i - 2) found.push(i);
  }
  return found;
}

/** Applies one mutation; `other` is the second encoding a splice takes its tail from. */
export function mutateBytes(input: Uint8Array, mutation: ByteMutation, other: Uint8Array): Bytes {
  const bytes = new Uint8Array(input);
  const at = (n: number, length = bytes.length): number => length === 0 ? 0 : n % length;
  switch (mutation.op) {
    case "flip":
      if (bytes.length > 0) bytes[at(mutation.at)] ^= 1 << mutation.bit;
      return bytes;
    case "set":
      if (bytes.length > 0) bytes[at(mutation.at)] = mutation.value;
      return bytes;
    case "truncate":
      return bytes.slice(0, mutation.keep % (bytes.length + 1));
    case "extend":
      return concat(bytes, mutation.bytes);
    case "insert": {
      const i = at(mutation.at, bytes.length + 1);
      return concat(bytes.subarray(0, i), mutation.bytes, bytes.subarray(i));
    }
    case "delete": {
      const i = at(mutation.at);
      return concat(bytes.subarray(0, i), bytes.subarray(i + mutation.count));
    }
    case "duplicate": {
      const i = at(mutation.at);
      return concat(bytes.subarray(0, i + mutation.count), bytes.subarray(i));
    }
    case "length16": {
      if (bytes.length < 2) return bytes;
      const candidates = lengthCandidates(bytes);
      const i = candidates.length > 0
        ? candidates[mutation.pick % candidates.length]
        : mutation.pick % (bytes.length - 1);
      const current = (bytes[i] << 8) | bytes[i + 1];
      const value = mutation.relative ? (current + mutation.value) & 0xffff : mutation.value;
      bytes[i] = value >> 8;
      bytes[i + 1] = value & 0xff;
      return bytes;
    }
    case "length32": {
      if (bytes.length < 4) return bytes;
      new DataView(bytes.buffer).setUint32(mutation.at % (bytes.length - 3), mutation.value);
      return bytes;
    }
    case "splice":
      return concat(
        bytes.subarray(0, at(mutation.at, bytes.length + 1)),
        other.subarray(at(mutation.otherAt, other.length + 1)),
      );
  }
}

/** Applies mutations in order. */
export function mutateAll(
  input: Uint8Array,
  mutations: readonly ByteMutation[],
  other: Uint8Array,
): Bytes {
  let out = new Uint8Array(input);
  for (const mutation of mutations) out = mutateBytes(out, mutation, other);
  return out;
}
