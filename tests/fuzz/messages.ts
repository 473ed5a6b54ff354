/** decodeMessage() on random and on mutated bodies, and the round-trip check both use. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Bytes, concat } from "../../src/crypto/bytes.ts";
import { ByteReader, ByteWriter } from "../../src/crypto/encoding.ts";
import {
  decodeMessage,
  encodeMessage,
  type Message,
  MessageType,
  PROTOCOL_VERSION,
} from "../../src/wire/messages.ts";
import { fixed } from "./arbitraries.ts";
import { assertBytes, equalBytes, ERROR_CODES, expectSfsError } from "./checks.ts";
import { MESSAGE_TYPES, u32Arb, u64Arb, VALID_MESSAGES } from "./message_values.ts";
import { type ByteMutation, byteMutationArb, INTERESTING_U16, mutateAll } from "./mutate_bytes.ts";
import { check, type FuzzTarget, type Stats } from "./run.ts";

/**
 * Structure-blind building blocks of encodings (§2): integers, length-prefixed strings, fixed
 * fields. Random sequences of them decode as messages far more often than random bytes do.
 */
const tokenArb: fc.Arbitrary<Bytes> = fc.oneof(
  fc.constantFrom(0, 1, 2).map((v) => Uint8Array.of(v)),
  fc.oneof(fc.nat(5), fc.constantFrom(...INTERESTING_U16)).map((v) =>
    new ByteWriter().u16(v).finish()
  ),
  fc.oneof(fc.nat(5), u32Arb).map((v) => new ByteWriter().u32(v).finish()),
  u64Arb.map((v) => new ByteWriter().u64(v).finish()),
  fc.uint8Array({ maxLength: 40 }).map((b) => new ByteWriter().bytes16(b).finish()),
  fc.string({ maxLength: 16 }).map((s) => new ByteWriter().text(s).finish()),
  fc.constantFrom(16, 32, 64).chain((n) => fixed(n)),
);

/** Concatenated tokens: a body shaped like an encoding without being one of any given type. */
const tokenSoupArb: fc.Arbitrary<Bytes> = fc.array(tokenArb, { maxLength: 10 }).map((
  parts,
) => concat(...parts));

/**
 * Valid bodies of `type` found by decoding token soups: seeds for mutation when no arbitrary
 * of that type exists. Deterministic for a given seed.
 */
export function discoverBodies(type: number, seed: number, attempts = 4000): Bytes[] {
  const found: Bytes[] = [];
  for (const body of fc.sample(tokenSoupArb, { seed: seed ^ type, numRuns: attempts })) {
    try {
      decodeMessage(type, body);
      found.push(body);
    } catch {
      // Not a valid body of this type; keep looking.
    }
  }
  return found;
}

/** A valid encoding of some type: generated from its arbitrary, or a discovered body. */
function validEncodingArb(seed: number): fc.Arbitrary<{ type: number; body: Bytes }> {
  const arbs: fc.Arbitrary<{ type: number; body: Bytes }>[] = [];
  for (const type of MESSAGE_TYPES) {
    const arb = (VALID_MESSAGES as Record<number, fc.Arbitrary<Message> | undefined>)[type];
    if (arb) {
      arbs.push(arb.map((message) => ({ type, body: encodeMessage(message) })));
      continue;
    }
    const bodies = discoverBodies(type, seed);
    if (bodies.length > 0) arbs.push(fc.constantFrom(...bodies).map((body) => ({ type, body })));
  }
  return fc.oneof(...arbs);
}

const ABORT_OR_ERROR: ReadonlySet<number> = new Set([MessageType.ABORT, MessageType.ERROR]);
const VERSIONED: ReadonlySet<number> = new Set([MessageType.HELLO, MessageType.HELLO_REPLY]);

function versionOf(body: Uint8Array): number {
  return (body[0] << 8) | body[1];
}

/**
 * The decoder property: `body` decodes as `type` to a value that re-encodes to exactly `body`
 * and does not share memory with it, or it is rejected with BAD_MESSAGE. Returns the outcome.
 */
export function checkDecode(
  type: number,
  body: Uint8Array,
): "ok" | "BAD_MESSAGE" | "VERSION_MISMATCH" {
  const input = new Uint8Array(body);
  let message: Message;
  try {
    message = decodeMessage(type, input);
  } catch (err) {
    // §6.8: a HELLO or HELLO_REPLY of another version is refused as such, whatever follows.
    if (VERSIONED.has(type) && body.length >= 2 && versionOf(body) !== PROTOCOL_VERSION) {
      expectSfsError(err, ["VERSION_MISMATCH"]);
      return "VERSION_MISMATCH";
    }
    expectSfsError(err, ["BAD_MESSAGE"]);
    return "BAD_MESSAGE";
  }
  assert.equal(message.type, type);
  // Decoded fields must be copies: the caller may reuse the frame buffer.
  input.fill(0xa5);
  let canonical = message;
  if (ABORT_OR_ERROR.has(type)) {
    // §9.3: a code this version does not know is read as REMOTE_ERROR, the one lossy field.
    const sent = new ByteReader(body, "failure").text();
    const code = (message as { code: string }).code;
    if (sent !== code) {
      assert.equal(code, "REMOTE_ERROR");
      assert.ok(!ERROR_CODES.has(sent), `known code "${sent}" read as ${code}`);
      canonical = { ...message, code: sent } as Message;
    }
  }
  assertBytes(encodeMessage(canonical), body, `message ${type} re-encoded`);
  return "ok";
}

/** decodeMessage on random bodies, token soups and unknown type numbers. */
export function decodeRandomTarget(): FuzzTarget {
  const typeArb = fc.oneof(
    { weight: 9, arbitrary: fc.constantFrom(...MESSAGE_TYPES) },
    { weight: 1, arbitrary: fc.nat(255) },
  );
  const bodyArb = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.uint8Array({ maxLength: 600 }),
    tokenSoupArb,
  );
  return {
    name: "decodeMessage() on random bodies",
    ciRuns: 2000,
    run: (p) =>
      check(
        fc.property(typeArb, bodyArb, (type, body) => {
          p.stats.add(checkDecode(type, body));
        }),
        p,
      ),
  };
}

/** decodeMessage on valid encodings, then on mutations of them (including type confusion). */
export function decodeMutatedTarget(): FuzzTarget {
  return {
    name: "decodeMessage() on mutated valid encodings",
    ciRuns: 3000,
    run: (p) => {
      const valid = validEncodingArb(p.seed);
      return check(fc.property(mutationCaseArb(valid), checkMutated(p.stats)), p);
    },
  };
}

function mutationCaseArb(validArb: fc.Arbitrary<{ type: number; body: Bytes }>) {
  return fc.record({
    valid: validArb,
    other: validArb,
    mutations: fc.array(byteMutationArb, { minLength: 1, maxLength: 3 }),
    confuse: fc.option(fc.constantFrom(...MESSAGE_TYPES), { freq: 10 }),
  });
}

function checkMutated(stats: Stats) {
  return (
    { valid, other, mutations, confuse }: {
      valid: { type: number; body: Bytes };
      other: { type: number; body: Bytes };
      mutations: ByteMutation[];
      confuse: number | null;
    },
  ): void => {
    // The unmutated encoding must decode and round-trip exactly.
    assert.equal(checkDecode(valid.type, valid.body), "ok", "a valid encoding was rejected");
    const mutated = mutateAll(valid.body, mutations, other.body);
    const outcome = checkDecode(confuse ?? valid.type, mutated);
    stats.add(equalBytes(mutated, valid.body) ? `unchanged ${outcome}` : outcome);
  };
}
