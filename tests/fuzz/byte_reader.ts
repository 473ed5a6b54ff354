/** ByteReader target: every read method against a plain reference model. */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Bytes } from "../../src/crypto/bytes.ts";
import { ByteReader, ByteWriter } from "../../src/crypto/encoding.ts";
import { MAX_U32 } from "./arbitraries.ts";
import { expectSfsError } from "./checks.ts";
import { byteMutationArb, mutateBytes } from "./mutate_bytes.ts";
import { check, type FuzzTarget } from "./run.ts";

type ReaderOp =
  | { op: "raw"; length: number }
  | { op: "u8" | "u16" | "u32" | "u64" | "end" | "remaining" }
  | { op: "bytes16" | "bytes32" | "text"; max: number }
  | { op: "list"; max: number };

const readerOpArb: fc.Arbitrary<ReaderOp> = fc.oneof(
  fc.record({ op: fc.constant("raw"), length: fc.nat(40) }),
  fc.record({ op: fc.constantFrom("u8", "u16", "u32", "u64", "end", "remaining") }),
  fc.record({
    op: fc.constantFrom("bytes16", "bytes32", "text"),
    max: fc.oneof(fc.nat(40), fc.constantFrom(0, 0xffff, MAX_U32)),
  }),
  fc.record({ op: fc.constant("list"), max: fc.nat(6) }),
) as fc.Arbitrary<ReaderOp>;

/** Writes what `ops` would read, from random values: inputs that mostly parse. */
const readerInputArb = (ops: ReaderOp[]): fc.Arbitrary<Bytes> =>
  fc.array(fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 12 }), fc.string({ maxLength: 6 })), {
    minLength: ops.length,
    maxLength: ops.length,
  }).map((values) => {
    const w = new ByteWriter();
    ops.forEach((op, i) => {
      const [n, bytes, text] = values[i];
      switch (op.op) {
        case "raw":
          w.raw(new Uint8Array(op.length).fill(n & 0xff));
          break;
        case "u8":
          w.u8(n & 0xff);
          break;
        case "u16":
          w.u16(n & 0xffff);
          break;
        case "u32":
          w.u32(n);
          break;
        case "u64":
          w.u64(n);
          break;
        case "bytes16":
          w.bytes16(bytes);
          break;
        case "bytes32":
          w.bytes32(bytes);
          break;
        case "text":
          w.text(text);
          break;
        case "list":
          w.list([...bytes.subarray(0, n % 8)], (w, b) => w.u8(b));
          break;
      }
    });
    return w.finish();
  });

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A plain reference reader; returns "error" where the real one must throw BAD_MESSAGE. */
function modelRead(bytes: Uint8Array, state: { at: number }, op: ReaderOp): unknown {
  const left = bytes.length - state.at;
  const take = (n: number): Uint8Array | "error" => {
    if (n > bytes.length - state.at) return "error";
    state.at += n;
    return bytes.slice(state.at - n, state.at);
  };
  const uint = (n: number): number | bigint | "error" => {
    const b = take(n);
    if (b === "error") return b;
    let v = 0n;
    for (const byte of b) v = v * 256n + BigInt(byte);
    return n === 8 ? v : Number(v);
  };
  switch (op.op) {
    case "raw":
      return take(op.length);
    case "u8":
      return uint(1);
    case "u16":
      return uint(2);
    case "u32":
      return uint(4);
    case "u64": {
      const v = uint(8);
      return v === "error" || (v as bigint) > BigInt(Number.MAX_SAFE_INTEGER) ? "error" : Number(v);
    }
    case "bytes16":
    case "bytes32":
    case "text": {
      const n = uint(op.op === "bytes32" ? 4 : 2);
      if (n === "error" || (n as number) > op.max) return "error";
      const b = take(n as number);
      if (b === "error" || op.op !== "text") return b;
      try {
        return STRICT_UTF8.decode(b);
      } catch {
        return "error";
      }
    }
    case "list": {
      const n = uint(2);
      if (n === "error" || (n as number) > op.max) return "error";
      const items: number[] = [];
      for (let i = 0; i < (n as number); i++) {
        const v = uint(1);
        if (v === "error") return v;
        items.push(v as number);
      }
      return items;
    }
    case "end":
      return left === 0 ? undefined : "error";
    case "remaining":
      return left;
  }
}

function realRead(reader: ByteReader, op: ReaderOp): unknown {
  switch (op.op) {
    case "raw":
      return reader.raw(op.length);
    case "u8":
      return reader.u8();
    case "u16":
      return reader.u16();
    case "u32":
      return reader.u32();
    case "u64":
      return reader.u64();
    case "bytes16":
      return reader.bytes16(op.max);
    case "bytes32":
      return reader.bytes32(op.max);
    case "text":
      return reader.text(op.max);
    case "list":
      return reader.list(op.max, (r) => r.u8());
    case "end":
      return reader.end();
    case "remaining":
      return reader.remaining;
  }
}

/** ByteReader methods on random and mostly-valid inputs, against the reference model. */
export function byteReaderTarget(): FuzzTarget {
  const caseArb = fc.array(readerOpArb, { minLength: 1, maxLength: 8 }).chain((ops) =>
    fc.record({
      ops: fc.constant(ops),
      bytes: fc.oneof(
        fc.uint8Array({ maxLength: 80 }),
        readerInputArb(ops),
        fc.tuple(readerInputArb(ops), byteMutationArb).map(([b, m]) => mutateBytes(b, m, b)),
      ),
    })
  );
  return {
    name: "ByteReader methods",
    ciRuns: 1500,
    run: (p) =>
      check(
        fc.property(caseArb, ({ ops, bytes }) => {
          const reader = new ByteReader(new Uint8Array(bytes), "fuzz");
          const state = { at: 0 };
          for (const op of ops) {
            const expected = modelRead(bytes, state, op);
            let actual: unknown;
            try {
              actual = realRead(reader, op);
            } catch (err) {
              expectSfsError(err, ["BAD_MESSAGE"]);
              assert.equal(expected, "error", `${op.op} threw where the model read a value`);
              p.stats.add(`${op.op} BAD_MESSAGE`);
              return;
            }
            assert.notEqual(expected, "error", `${op.op} read a value where the model failed`);
            assert.deepEqual(actual, expected, `${op.op} read the wrong value`);
          }
          p.stats.add("ok");
        }),
        p,
      ),
  };
}
