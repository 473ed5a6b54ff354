/**
 * Fuzz targets shared by the CI-sized run (`fuzz_test.ts`) and the long run (`scripts/fuzz.ts`):
 * fast-check properties over everything that parses bytes or text from a peer or a file, and
 * mutation of a recorded transfer replayed against a live sender or receiver.
 *
 * The property is the same everywhere: an input either decodes to a value that encodes back to
 * exactly the same bytes, or fails with an SfsError whose code is in the ErrorCode table. Any
 * other exception, a case that does not settle in time, or a read into a buffer larger than the
 * limit allows is a failure, reported by fast-check with its seed and path.
 *
 * Test support that spans the layers: the session targets use Deno file APIs and the peer layer
 * (the real sender and receiver), so it lives under tests/, not beside a module in src/.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { join } from "node:path";
import { ErrorCode, SfsError } from "../../src/errors.ts";
import {
  type Bytes,
  concat,
  fromBase64,
  toBase32,
  toBase64,
  utf8,
} from "../../src/crypto/bytes.ts";
import { ByteReader, ByteWriter } from "../../src/crypto/encoding.ts";
import {
  decodePublicIdentity,
  fingerprintOf,
  formatFingerprint,
  type Identity,
  parseFingerprint,
  RSA_BITS_MAX,
  RSA_BITS_MIN,
} from "../../src/crypto/identity.ts";
import { exportIdentity, importIdentity } from "../../src/crypto/keystore.ts";
import { testIdentity } from "../identities.ts";
import { formatTicket, parseTicket } from "../../src/peer/ticket.ts";
import { safeFileName } from "../../src/peer/names.ts";
import { prepareFile, serveTransfer, type SharedFile } from "../../src/peer/sender.ts";
import { fetchFile } from "../../src/peer/receiver.ts";
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  FRAME_HEADER_BYTES,
  FrameKind,
  FrameReader,
  FrameWriter,
  type Transport,
} from "../../src/wire/frame.ts";
import { DEFAULT_MAX_RECORD, MAX_HANDSHAKE_FRAME } from "../../src/wire/channel.ts";
import {
  decodeMessage,
  encodeMessage,
  FILE_ID_BYTES,
  MAX_ANNOUNCEMENT_BYTES,
  MAX_ERROR_TEXT_BYTES,
  MAX_LIST_OFFSET,
  MAX_LISTINGS,
  MAX_PASSWORD_BYTES,
  MAX_QUERY_BYTES,
  MAX_USER_KEYS,
  MAX_USERNAME_BYTES,
  MAX_WIRE_NAME_BYTES,
  type Message,
  MessageType,
} from "../../src/wire/messages.ts";

// ---------------------------------------------------------------------------------------------
// Running targets

/** Counts outcomes per label, so a run can show what its inputs actually reached. */
export class Stats {
  readonly counts: Map<string, number> = new Map();

  /** Counts one case under `label`. */
  add(label: string): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
  }

  /** The labels and counts, most frequent first, e.g. `ok 120, BAD_MESSAGE 880`. */
  summary(): string {
    return [...this.counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ");
  }
}

/** How one target is run. */
export interface RunParameters {
  /** fast-check seed (a 32-bit integer); the same seed and runs give the same cases. */
  seed: number;
  /** Number of cases. */
  numRuns: number;
  /** fast-check replay path of a failure, to rerun just that case. */
  path?: string;
  /** Outcome counters. */
  stats: Stats;
}

/** One fuzz target: a named property and how many of the CI run's cases it gets. */
export interface FuzzTarget {
  readonly name: string;
  /** Cases in the CI-sized run; the long run scales every target alike. */
  readonly ciRuns: number;
  /** Every case should succeed (a round trip), so a single outcome is expected. */
  readonly alwaysOk?: boolean;
  /** Runs the property; throws fast-check's report (with seed and path) on a failure. */
  run(parameters: RunParameters, context: FuzzContext): Promise<void>;
}

/** Default seed of the CI run: fixed, so a red CI run reproduces exactly. */
export const DEFAULT_SEED = 0x5f5_2025;

/** Runs a property under fast-check with the given seed and run count. */
async function check<Ts>(
  property: fc.IAsyncProperty<Ts> | fc.IProperty<Ts>,
  { seed, numRuns, path }: RunParameters,
  options: { shrink?: boolean } = {},
): Promise<void> {
  await fc.assert(property, {
    seed,
    numRuns,
    path,
    // Shrinking re-runs a failing case many times; the session cases are too slow for that and
    // their mutations are already small.
    endOnFailure: options.shrink === false,
  });
}

// ---------------------------------------------------------------------------------------------
// Shared checks

const ERROR_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/**
 * Asserts that `err` is an SfsError whose code is in the ErrorCode table (and in `allowed`, when
 * given) and returns it; anything else is a fuzzing failure.
 */
export function expectSfsError(err: unknown, allowed?: readonly ErrorCode[]): SfsError {
  if (!(err instanceof SfsError)) {
    const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new assert.AssertionError({ message: `Expected an SfsError, got ${what}` });
  }
  assert.ok(ERROR_CODES.has(err.code), `SfsError code "${err.code}" is not in the ErrorCode table`);
  if (allowed && !allowed.includes(err.code)) {
    assert.fail(`Expected an SfsError with code ${allowed.join(" or ")}, got ${err.code}`);
  }
  return err;
}

/** Awaits `promise`, failing the case if it has not settled after `ms` (a hang). */
export async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, i) => byte === bytes[i]);
}

function assertBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (!equalBytes(actual, expected)) {
    assert.fail(`${what}: got ${actual.length} bytes, expected ${expected.length}, not equal`);
  }
}

/** Truncates a string to at most `maxBytes` of UTF-8 without splitting a code point. */
function truncateUtf8(text: string, maxBytes: number): string {
  let out = "";
  let used = 0;
  for (const ch of text) {
    const n = utf8(ch).length;
    if (used + n > maxBytes) break;
    out += ch;
    used += n;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Byte mutations

/** Byte values that often sit on a boundary. */
const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x03, 0x7f, 0x80, 0xfe, 0xff] as const;
/** 16-bit values that often sit on a limit of some field. */
const INTERESTING_U16 = [
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
function mutateAll(
  input: Uint8Array,
  mutations: readonly ByteMutation[],
  other: Uint8Array,
): Bytes {
  let out = new Uint8Array(input);
  for (const mutation of mutations) out = mutateBytes(out, mutation, other);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Messages: one valid-value arbitrary per known type; new types fall back to discovered bodies

/** Limits of §5 and §6 that messages.ts keeps private. */
const MAX_IDENTITY_BYTES = 2048;
const MAX_WRAPPED_BYTES = 512;
const MAX_RSA_SIGNATURE_BYTES = 512;
const MAX_U32 = 0xffffffff;

/** Every message type number, read from the table at run time so new types are covered. */
export const MESSAGE_TYPES: readonly number[] = Object.values(MessageType);

function fixed(length: number): fc.Arbitrary<Bytes> {
  return fc.uint8Array({ minLength: length, maxLength: length });
}

/** Mostly short byte strings, sometimes right at the field's maximum. */
function bytesUpTo(max: number): fc.Arbitrary<Bytes> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.uint8Array({ maxLength: Math.min(max, 48) }) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: Math.max(0, max - 2), maxLength: max }) },
  );
}

// deno-lint-ignore no-control-regex -- the characters a peer's error text must not contain
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Text of at most `maxBytes` UTF-8 bytes: any code points, or long runs near the limit. */
function textUpTo(maxBytes: number, options: { printable?: boolean } = {}): fc.Arbitrary<string> {
  const text = fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: "binary", maxLength: 24 }) },
    { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 12 }) },
    {
      weight: 1,
      arbitrary: fc.string({
        unit: "grapheme-ascii",
        minLength: maxBytes - 2,
        maxLength: maxBytes,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom("é", "✓", "😀", "\ufeff").map((ch) => ch.repeat(maxBytes)),
    },
  ).map((s) => truncateUtf8(s, maxBytes));
  return options.printable ? text.map((s) => s.replace(UNPRINTABLE, "")) : text;
}

const u64Arb = fc.oneof(
  fc.nat(),
  fc.constantFrom(0, 1, 2 ** 32, Number.MAX_SAFE_INTEGER),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
);
const u32Arb = fc.oneof(fc.nat(1 << 24), fc.constantFrom(0, 16384, 1 << 20, 1 << 22, MAX_U32));
const signaturesArb = fc.record({
  rsa: fc.option(fc.uint8Array({ minLength: 1, maxLength: MAX_RSA_SIGNATURE_BYTES }), {
    nil: undefined,
  }),
  ed25519: fc.option(fixed(64), { nil: undefined }),
});
const codeArb = fc.constantFrom(...Object.values(ErrorCode));
const limitArb = fc.integer({ min: 1, max: MAX_LISTINGS });
const listOffsetArb = fc.integer({ min: 0, max: MAX_LIST_OFFSET });

/**
 * Valid values of every message type this file knows. A type added to MessageType without an
 * entry here is still fuzzed: with random bodies, and with mutations of bodies found by
 * {@link discoverBodies}.
 */
const VALID_MESSAGES: { [T in MessageType]?: fc.Arbitrary<Extract<Message, { type: T }>> } = {
  [MessageType.HELLO]: fc.record({
    type: fc.constant(MessageType.HELLO),
    version: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 0xffff })),
    identity: bytesUpTo(MAX_IDENTITY_BYTES),
    ephemeral: fixed(32),
    nonce: fixed(32),
  }),
  [MessageType.HELLO_REPLY]: fc.record({
    type: fc.constant(MessageType.HELLO_REPLY),
    version: fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 0xffff })),
    identity: bytesUpTo(MAX_IDENTITY_BYTES),
    ephemeral: fixed(32),
    nonce: fixed(32),
    wrappedSecret: bytesUpTo(MAX_WRAPPED_BYTES),
    signatures: signaturesArb,
  }),
  [MessageType.ABORT]: fc.record({
    type: fc.constant(MessageType.ABORT),
    code: codeArb,
    message: textUpTo(MAX_ERROR_TEXT_BYTES, { printable: true }),
  }),
  [MessageType.GET]: fc.record({
    type: fc.constant(MessageType.GET),
    fileId: fixed(FILE_ID_BYTES),
    offset: u64Arb,
  }),
  [MessageType.MANIFEST]: fc.record({
    type: fc.constant(MessageType.MANIFEST),
    fileId: fixed(FILE_ID_BYTES),
    name: textUpTo(MAX_WIRE_NAME_BYTES),
    size: u64Arb,
    sha256: fixed(32),
    chunkSize: u32Arb,
    offset: u64Arb,
  }),
  [MessageType.FINAL]: fc.record({
    type: fc.constant(MessageType.FINAL),
    signatures: signaturesArb,
  }),
  [MessageType.RECEIPT]: fc.record({ type: fc.constant(MessageType.RECEIPT), sha256: fixed(32) }),
  [MessageType.ERROR]: fc.record({
    type: fc.constant(MessageType.ERROR),
    code: codeArb,
    message: textUpTo(MAX_ERROR_TEXT_BYTES, { printable: true }),
  }),
  [MessageType.REGISTER]: fc.record({
    type: fc.constant(MessageType.REGISTER),
    username: textUpTo(MAX_USERNAME_BYTES),
    password: textUpTo(MAX_PASSWORD_BYTES),
    proof: signaturesArb,
  }),
  [MessageType.LOGIN]: fc.record({
    type: fc.constant(MessageType.LOGIN),
    username: textUpTo(MAX_USERNAME_BYTES),
    password: textUpTo(MAX_PASSWORD_BYTES),
    rotateKeys: fc.boolean(),
    proof: signaturesArb,
  }),
  [MessageType.AUTH]: fc.record({
    type: fc.constant(MessageType.AUTH),
    username: textUpTo(MAX_USERNAME_BYTES),
    proof: signaturesArb,
  }),
  [MessageType.OK]: fc.record({ type: fc.constant(MessageType.OK) }),
  [MessageType.USER_KEYS]: fc.record({
    type: fc.constant(MessageType.USER_KEYS),
    usernames: fc.array(textUpTo(MAX_USERNAME_BYTES), { maxLength: MAX_USER_KEYS }),
  }),
  [MessageType.USER_KEYS_REPLY]: fc.record({
    type: fc.constant(MessageType.USER_KEYS_REPLY),
    users: fc.array(
      fc.record({
        username: textUpTo(MAX_USERNAME_BYTES),
        identity: bytesUpTo(MAX_IDENTITY_BYTES),
      }),
      { maxLength: MAX_USER_KEYS },
    ),
  }),
  [MessageType.ANNOUNCE]: fc.record({
    type: fc.constant(MessageType.ANNOUNCE),
    announcement: bytesUpTo(MAX_ANNOUNCEMENT_BYTES),
    signatures: signaturesArb,
  }),
  [MessageType.HEARTBEAT]: fc.record({ type: fc.constant(MessageType.HEARTBEAT) }),
  [MessageType.UNSHARE]: fc.record({
    type: fc.constant(MessageType.UNSHARE),
    fileId: fixed(FILE_ID_BYTES),
  }),
  [MessageType.SEARCH]: fc.record({
    type: fc.constant(MessageType.SEARCH),
    query: textUpTo(MAX_QUERY_BYTES),
    limit: limitArb,
    offset: listOffsetArb,
  }),
  [MessageType.LIST]: fc.record({
    type: fc.constant(MessageType.LIST),
    mine: fc.boolean(),
    limit: limitArb,
    offset: listOffsetArb,
  }),
  [MessageType.RESOLVE]: fc.record({
    type: fc.constant(MessageType.RESOLVE),
    query: textUpTo(MAX_WIRE_NAME_BYTES),
  }),
  [MessageType.LISTINGS]: fc.record({
    type: fc.constant(MessageType.LISTINGS),
    listings: fc.oneof(
      {
        weight: 9,
        arbitrary: fc.array(
          fc.record({
            announcement: bytesUpTo(MAX_ANNOUNCEMENT_BYTES),
            signatures: signaturesArb,
            ownerIdentity: bytesUpTo(MAX_IDENTITY_BYTES),
            online: fc.boolean(),
            lastSeen: u64Arb,
          }),
          { maxLength: 4 },
        ),
      },
      {
        // A full page of small listings: the list-count limit itself.
        weight: 1,
        arbitrary: fc.array(
          fc.record({
            announcement: fc.uint8Array({ maxLength: 4 }),
            signatures: fc.constant({ rsa: undefined, ed25519: undefined }),
            ownerIdentity: fc.uint8Array({ maxLength: 4 }),
            online: fc.boolean(),
            lastSeen: fc.nat(),
          }),
          { minLength: MAX_LISTINGS - 1, maxLength: MAX_LISTINGS },
        ),
      },
    ),
  }),
};

/** Message types without a hand-written arbitrary in {@link VALID_MESSAGES}. */
export function typesWithoutArbitrary(): number[] {
  return MESSAGE_TYPES.filter((type) => !(type in VALID_MESSAGES));
}

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
export const tokenSoupArb: fc.Arbitrary<Bytes> = fc.array(tokenArb, { maxLength: 10 }).map((
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

/**
 * The decoder property: `body` decodes as `type` to a value that re-encodes to exactly `body`
 * and does not share memory with it, or it is rejected with BAD_MESSAGE. Returns the outcome.
 */
export function checkDecode(type: number, body: Uint8Array): "ok" | "BAD_MESSAGE" {
  const input = new Uint8Array(body);
  let message: Message;
  try {
    message = decodeMessage(type, input);
  } catch (err) {
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
function decodeRandomTarget(): FuzzTarget {
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
function decodeMutatedTarget(): FuzzTarget {
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

// ---------------------------------------------------------------------------------------------
// ByteReader against a reference model

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
function byteReaderTarget(): FuzzTarget {
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

// ---------------------------------------------------------------------------------------------
// Frame reader over an instrumented in-memory transport

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

/** A frame as the writer would put it on the wire, with a possibly lying length field. */
const frameLikeArb = (maxBody: number): fc.Arbitrary<Bytes> =>
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
function frameReaderTarget(): FuzzTarget {
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
function frameRoundTripTarget(): FuzzTarget {
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

// ---------------------------------------------------------------------------------------------
// Text parsers: fingerprints, tickets, file names

/** Character-level edits of a string. */
type TextMutation =
  | { op: "set"; at: number; char: string }
  | { op: "insert"; at: number; text: string }
  | { op: "delete"; at: number; count: number }
  | { op: "case"; at: number }
  | { op: "truncate"; keep: number };

const oddCharArb = fc.oneof(
  fc.constantFrom(
    "-",
    ":",
    "/",
    "#",
    "[",
    "]",
    ".",
    " ",
    "\t",
    "\n",
    "\u00a0",
    "\u212a", // KELVIN SIGN, lower-cases to "k"
    "\u0131",
    "\u0130",
    "\uff41", // FULLWIDTH a
    "0",
    "1",
    "8",
    "9",
    "=",
    "%",
    "\u0000",
    "😀",
  ),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz234567ABCDEF"),
);

const textMutationArb: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ op: fc.constant("set"), at: fc.nat(), char: oddCharArb }),
  fc.record({ op: fc.constant("insert"), at: fc.nat(), text: fc.oneof(oddCharArb, fc.string()) }),
  fc.record({ op: fc.constant("delete"), at: fc.nat(), count: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ op: fc.constant("case"), at: fc.nat() }),
  fc.record({ op: fc.constant("truncate"), keep: fc.nat() }),
) as fc.Arbitrary<TextMutation>;

function mutateText(text: string, mutations: readonly TextMutation[]): string {
  let chars = [...text];
  for (const m of mutations) {
    const at = "at" in m ? m.at % (chars.length + 1) : 0;
    switch (m.op) {
      case "set":
        if (chars.length > 0) chars[at % chars.length] = m.char;
        break;
      case "insert":
        chars.splice(at, 0, m.text);
        break;
      case "delete":
        chars.splice(at, m.count);
        break;
      case "case":
        if (chars.length > 0) {
          const c = chars[at % chars.length];
          chars[at % chars.length] = c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
        }
        break;
      case "truncate":
        chars = chars.slice(0, m.keep % (chars.length + 1));
        break;
    }
  }
  return chars.join("");
}

const fingerprintTextArb: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 80 }),
  fixed(32).map(formatFingerprint),
  fc.tuple(
    fixed(32).map(formatFingerprint),
    fc.array(textMutationArb, { minLength: 1, maxLength: 3 }),
  )
    .map(([text, m]) => mutateText(text, m)),
  fc.uint8Array({ maxLength: 40 }).map((b) => toBase32(b)),
  fc.tuple(fixed(32), fc.boolean(), fc.boolean(), fc.boolean()).map(
    ([b, prefix, dashes, upper]) => {
      let text = dashes ? formatFingerprint(b).slice(7) : toBase32(b);
      if (prefix) text = `SHA256:${text}`;
      return upper ? text.toUpperCase() : text;
    },
  ),
);

/** parseFingerprint(): the bytes the text spells, or BAD_FINGERPRINT. */
function fingerprintTarget(): FuzzTarget {
  return {
    name: "parseFingerprint()",
    ciRuns: 700,
    run: (p) =>
      check(
        fc.property(fingerprintTextArb, (text) => {
          let bytes: Bytes;
          try {
            bytes = parseFingerprint(text);
          } catch (err) {
            expectSfsError(err, ["BAD_FINGERPRINT"]);
            p.stats.add("BAD_FINGERPRINT");
            return;
          }
          assert.equal(bytes.length, 32);
          const spelled = text.trim().replace(/^sha256:/i, "").replaceAll("-", "").toLowerCase();
          assert.equal(toBase32(bytes), spelled, "parsed bytes are not what the text spells");
          assertBytes(parseFingerprint(formatFingerprint(bytes)), bytes, "formatted fingerprint");
          p.stats.add("ok");
        }),
        p,
      ),
  };
}

const hostArb = fc.oneof(
  fc.constantFrom(
    "127.0.0.1",
    "example.com",
    "[::1]",
    "[fe80::1]",
    "a",
    "[1.2]",
    "sfs.example-1.org",
  ),
  fc.domain(),
);
const ticketTextArb: fc.Arbitrary<string> = fc.record({
  host: hostArb,
  port: fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 65535 }) },
    fc.constantFrom(0, 1, 65535, 65536, 99999),
  ),
  id: fc.oneof({ weight: 3, arbitrary: fixed(16) }, fc.uint8Array({ maxLength: 20 })),
  fingerprint: fc.oneof(
    { weight: 3, arbitrary: fixed(32).map(formatFingerprint) },
    fingerprintTextArb,
  ),
  mutations: fc.oneof(
    fc.constant([]),
    fc.array(textMutationArb, { minLength: 1, maxLength: 3 }),
  ),
}).map(({ host, port, id, fingerprint, mutations }) =>
  mutateText(
    `sfs://${host}:${port}/${
      [...id].map((b) => b.toString(16).padStart(2, "0")).join("")
    }#${fingerprint}`,
    mutations,
  )
);

/** parseTicket(): a ticket that formats and parses back to itself, or BAD_TICKET. */
function ticketTarget(): FuzzTarget {
  return {
    name: "parseTicket()",
    ciRuns: 700,
    run: (p) =>
      check(
        fc.property(
          fc.oneof(ticketTextArb, fc.string({ unit: "binary", maxLength: 120 })),
          (text) => {
            let ticket;
            try {
              ticket = parseTicket(text);
            } catch (err) {
              expectSfsError(err, ["BAD_TICKET"]);
              p.stats.add("BAD_TICKET");
              return;
            }
            assert.ok(Number.isInteger(ticket.port) && ticket.port >= 1 && ticket.port <= 65535);
            assert.equal(ticket.fileId.length, FILE_ID_BYTES);
            assert.equal(ticket.fingerprint.length, 32);
            assert.deepEqual(
              parseTicket(formatTicket(ticket)),
              ticket,
              "ticket does not round-trip",
            );
            p.stats.add("ok");
          },
        ),
        p,
      ),
  };
}

/** Pieces that exercise every rule of safeFileName(). */
const NAME_PIECES = [
  "/",
  "\\",
  ".",
  "..",
  " ",
  "a",
  "report",
  "con",
  "CON",
  "nul",
  "Lpt1",
  "com\u00b9",
  "conin$",
  ".txt",
  ".tar.gz",
  ".sfs-part",
  ".SFS-STATE",
  "\u0000",
  "\u001f",
  "\u007f",
  "\u0085",
  "\u202e",
  "\u2066",
  "\u200e",
  "\u061c",
  "<",
  ":",
  '"',
  "|",
  "?",
  "*",
  "e\u0301",
  "\u0301",
  "\u212b",
  "A\u030a",
  "\ufeff",
  "😀",
  "👨‍👩‍👧",
  "\u{10ffff}",
  "C:",
  "x".repeat(100),
  "é".repeat(60),
] as const;

const fileNameArb: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 300 }),
  fc.array(fc.constantFrom(...NAME_PIECES), { maxLength: 8 }).map((parts) => parts.join("")),
  fc.array(
    fc.tuple(
      fc.constantFrom(...NAME_PIECES),
      fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 300 })),
    ),
    { maxLength: 4 },
  ).map((parts) => parts.map(([piece, times]) => piece.repeat(times)).join("")),
);

// deno-lint-ignore no-control-regex -- control characters are what the check looks for
const NAME_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const NAME_BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const WINDOWS_DEVICE = /^(con|prn|aux|nul|conin\$|conout\$|com[1-9¹²³]|lpt[1-9¹²³])$/i;

/** The promises safeFileName() makes about any name it returns. */
export function checkSafeName(name: string): void {
  assert.notEqual(name, "", "empty name");
  assert.ok(name !== "." && name !== "..", "directory reference");
  assert.ok(!/[/\\]/.test(name), "path separator");
  assert.ok(!NAME_CONTROL.test(name), "control character");
  assert.ok(!NAME_BIDI.test(name), "bidi control");
  assert.ok(!/[<>:"|?*]/.test(name), "character forbidden on Windows");
  assert.equal(name, name.normalize("NFC"), "not NFC");
  assert.ok(utf8(name).length <= 245, "longer than 245 bytes");
  assert.ok(!/^ /.test(name) && !/[. ]$/.test(name), "leading space or trailing dot or space");
  assert.ok(!WINDOWS_DEVICE.test(name.split(".")[0].replace(/ +$/, "")), "Windows device name");
  assert.ok(!/\.sfs-(part|state)$/i.test(name), "reserved suffix");
}

/** safeFileName(): a safe, idempotent name, or UNSAFE_NAME. */
function safeFileNameTarget(): FuzzTarget {
  return {
    name: "safeFileName()",
    ciRuns: 1500,
    run: (p) =>
      check(
        fc.property(fileNameArb, (untrusted) => {
          let name: string;
          try {
            name = safeFileName(untrusted);
          } catch (err) {
            expectSfsError(err, ["UNSAFE_NAME"]);
            p.stats.add("UNSAFE_NAME");
            return;
          }
          checkSafeName(name);
          assert.equal(safeFileName(name), name, "not idempotent");
          p.stats.add(name === untrusted ? "ok unchanged" : "ok repaired");
        }),
        p,
      ),
  };
}

// ---------------------------------------------------------------------------------------------
// Identities: public encodings and stored files

/** Keys and texts the identity targets mutate. */
export interface IdentityMaterial {
  /** The test identity whose files are mutated. */
  readonly identity: Identity;
  /** Its identity.json, unencrypted and encrypted (cheap scrypt), with the passphrase. */
  readonly plainText: string;
  readonly sealedText: string;
  readonly passphrase: string;
  /** SPKI and raw keys to splice into public identities. */
  readonly spkis: readonly Bytes[];
  readonly edKeys: readonly Bytes[];
  /** Valid public identity encodings. */
  readonly encodings: readonly Bytes[];
}

/** Builds the identity material from two test identities (RSA keygen is the slow part). */
export async function identityMaterial(a: Identity, b: Identity): Promise<IdentityMaterial> {
  const spki = async (key: CryptoKey) => new Uint8Array(await crypto.subtle.exportKey("spki", key));
  const raw = async (key: CryptoKey) => new Uint8Array(await crypto.subtle.exportKey("raw", key));
  const small = await crypto.subtle.generateKey(
    {
      name: "RSA-PSS",
      hash: "SHA-256",
      modulusLength: 1024,
      publicExponent: new Uint8Array([1, 0, 1]),
    },
    true,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  const ed = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const x = await crypto.subtle.generateKey({ name: "X25519" }, true, [
    "deriveBits",
  ]) as CryptoKeyPair;
  const passphrase = "correct horse battery staple";
  return {
    identity: a,
    plainText: await exportIdentity(a),
    sealedText: await exportIdentity(a, { passphrase, scrypt: { n: 16, r: 1, p: 1 } }),
    passphrase,
    spkis: [
      await spki(a.public.oaep),
      await spki(a.public.pss),
      await spki(b.public.oaep),
      await spki(small.publicKey),
      await spki(ed.publicKey),
      await spki(x.publicKey),
    ],
    edKeys: [
      await raw(a.public.ed25519),
      await raw(b.public.ed25519),
      new Uint8Array(32),
      Uint8Array.of(1, ...new Uint8Array(31)),
      new Uint8Array(32).fill(0xff),
    ],
    encodings: [a.public.encoded, b.public.encoded],
  };
}

/** decodePublicIdentity(): a key set whose encoding is the input, or BAD_MESSAGE / BAD_KEY. */
function publicIdentityTarget(): FuzzTarget {
  return {
    name: "decodePublicIdentity()",
    ciRuns: 500,
    run: async (p, context) => {
      const material = await context.material();
      return check(fc.asyncProperty(publicIdentityArb(material), checkPublicIdentity(p.stats)), p);
    },
  };
}

function publicIdentityArb(material: IdentityMaterial): fc.Arbitrary<Bytes> {
  const spkiArb = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...material.spkis) },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constantFrom(...material.spkis), byteMutationArb).map(([s, m]) =>
        mutateBytes(s, m, s)
      ),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 600 }) },
  );
  const structuredArb = fc.record({
    version: fc.oneof({ weight: 9, arbitrary: fc.constant(1) }, fc.nat(255)),
    oaep: spkiArb,
    pss: spkiArb,
    ed: fc.oneof(fc.constantFrom(...material.edKeys), fixed(32)),
  }).map(({ version, oaep, pss, ed }) =>
    new ByteWriter().u8(version).bytes16(oaep).bytes16(pss).raw(ed).finish()
  );
  const inputArb = fc.oneof(
    { weight: 4, arbitrary: structuredArb },
    {
      weight: 4,
      arbitrary: fc.tuple(
        fc.constantFrom(...material.encodings),
        fc.constantFrom(...material.encodings),
        fc.array(byteMutationArb, { minLength: 1, maxLength: 2 }),
      ).map(([e, other, m]) => mutateAll(e, m, other)),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  );
  return inputArb;
}

function checkPublicIdentity(stats: Stats): (encoded: Bytes) => Promise<void> {
  return async (encoded) => {
    const input = new Uint8Array(encoded);
    let identity;
    try {
      identity = await bounded(decodePublicIdentity(input), 5000, "decodePublicIdentity()");
    } catch (err) {
      stats.add(expectSfsError(err, ["BAD_MESSAGE", "BAD_KEY"]).code);
      return;
    }
    input.fill(0);
    assertBytes(identity.encoded, encoded, "encoded identity");
    assertBytes(identity.fingerprint, await fingerprintOf(encoded), "fingerprint");
    // One key set, one encoding: the keys must export to exactly the bytes they came from, or
    // a key would have several fingerprints.
    const reader = new ByteReader(encoded, "public identity");
    reader.u8();
    for (const [key, what] of [[identity.oaep, "OAEP"], [identity.pss, "PSS"]] as const) {
      const spki = new Uint8Array(await crypto.subtle.exportKey("spki", key));
      assertBytes(spki, reader.bytes16(), `${what} key re-exported`);
    }
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", identity.ed25519));
    assertBytes(raw, reader.raw(32), "Ed25519 key re-exported");
    for (const key of [identity.oaep, identity.pss]) {
      const { modulusLength, publicExponent } = key.algorithm as RsaHashedKeyAlgorithm;
      assert.ok(modulusLength >= RSA_BITS_MIN && modulusLength <= RSA_BITS_MAX);
      assert.deepEqual([...publicExponent], [1, 0, 1]);
    }
    stats.add("ok");
  };
}

/** Where two public identity encodings differ, and whether their keys do. */
async function describeDifference(a: Bytes, b: Bytes): Promise<string> {
  const offsets = [...a].flatMap((byte, i) => byte !== b[i] ? [i] : []);
  const [x, y] = await Promise.all([decodePublicIdentity(a), decodePublicIdentity(b)]);
  const jwk = (key: CryptoKey) => crypto.subtle.exportKey("jwk", key);
  const same = async (k: CryptoKey, l: CryptoKey) =>
    JSON.stringify(await jwk(k)) === JSON.stringify(await jwk(l));
  return `${a.length} vs ${b.length} bytes, differing at ${offsets.slice(0, 8).join(", ")}; ` +
    `same OAEP key ${await same(x.oaep, y.oaep)}, same PSS key ${await same(x.pss, y.pss)}, ` +
    `same Ed25519 key ${await same(x.ed25519, y.ed25519)}`;
}

/** An edit of a stored identity, at the JSON level or the text level. */
type StoredMutation =
  | { op: "delete"; path: number }
  | { op: "retype"; path: number; value: unknown }
  | { op: "string"; path: number; mutations: TextMutation[] }
  | { op: "blob"; path: number; mutations: ByteMutation[] }
  | { op: "number"; path: number; value: number }
  | { op: "text"; mutations: TextMutation[] };

const STORED_FIELDS = [
  ["format"],
  ["version"],
  ["fingerprint"],
  ["public"],
  ["private"],
  ["private", "protection"],
  ["private", "keys"],
  ["private", "n"],
  ["private", "r"],
  ["private", "p"],
  ["private", "salt"],
  ["private", "nonce"],
  ["private", "ciphertext"],
] as const;

/**
 * scrypt costs: valid ones stay cheap (N·r ≤ 2^10), and invalid ones must be refused before
 * any work. §4.3 allows up to N = 2^20, r = 32 (4 GiB): see the report in fuzz_test.ts.
 */
const SCRYPT_VALUES = [-1, 0, 1, 1.5, 2, 3, 4, 16, 17, 32, 33, 2 ** 21, 2 ** 31, 1e300] as const;

const storedMutationArb: fc.Arbitrary<StoredMutation> = fc.oneof(
  fc.record({ op: fc.constant("delete"), path: fc.nat() }),
  fc.record({
    op: fc.constant("retype"),
    path: fc.nat(),
    value: fc.constantFrom(null, 0, 1, -1, "", "none", [], {}, true, "sfs-identity"),
  }),
  fc.record({
    op: fc.constant("string"),
    path: fc.nat(),
    mutations: fc.array(textMutationArb, { minLength: 1, maxLength: 2 }),
  }),
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("blob"),
      path: fc.nat(),
      mutations: fc.array(byteMutationArb, { minLength: 1, maxLength: 2 }),
    }),
  },
  fc.record({
    op: fc.constant("number"),
    path: fc.nat(),
    value: fc.constantFrom(...SCRYPT_VALUES),
  }),
  fc.record({
    op: fc.constant("text"),
    mutations: fc.array(textMutationArb, { minLength: 1, maxLength: 3 }),
  }),
) as fc.Arbitrary<StoredMutation>;

function mutateStored(text: string, mutation: StoredMutation): string {
  if (mutation.op === "text") return mutateText(text, mutation.mutations);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text);
  } catch {
    return text; // An earlier text edit broke the JSON; a field edit has nothing to hold on to.
  }
  const path = STORED_FIELDS[mutation.path % STORED_FIELDS.length];
  const container = path.length === 1 ? doc : doc?.private;
  if (typeof container !== "object" || container === null) return text;
  const parent = container as Record<string, unknown>;
  const key = path[path.length - 1];
  const value = parent[key];
  switch (mutation.op) {
    case "delete":
      delete parent[key];
      break;
    case "retype":
      parent[key] = mutation.value;
      break;
    case "string":
      if (typeof value === "string") parent[key] = mutateText(value, mutation.mutations);
      break;
    case "blob": {
      // Decode, edit and re-encode: the edit reaches the decoders behind the base64 check.
      const bytes = typeof value === "string" ? fromBase64(value) : undefined;
      if (bytes) parent[key] = toBase64(mutateAll(bytes, mutation.mutations, bytes));
      break;
    }
    case "number":
      if (key === "n" || key === "r" || key === "p") parent[key] = mutation.value;
      break;
  }
  return JSON.stringify(doc, null, 2);
}

/** importIdentity(): the one stored identity, or an SfsError; never a stray exception. */
function importIdentityTarget(): FuzzTarget {
  const caseArb = fc.record({
    sealed: fc.boolean(),
    mutations: fc.array(storedMutationArb, { minLength: 1, maxLength: 2 }),
    passphrase: fc.oneof(
      { weight: 6, arbitrary: fc.constant("right") },
      fc.constant(undefined),
      fc.string({ maxLength: 8 }),
    ),
  });
  return {
    name: "importIdentity() on mutated identity files",
    ciRuns: 200,
    run: async (p, context) => {
      const material = await context.material();
      await check(
        fc.asyncProperty(caseArb, async ({ sealed, mutations, passphrase }) => {
          let text = sealed ? material.sealedText : material.plainText;
          for (const m of mutations) text = mutateStored(text, m);
          let identity: Identity;
          try {
            identity = await bounded(
              importIdentity(text, passphrase === "right" ? material.passphrase : passphrase),
              10_000,
              "importIdentity()",
            );
          } catch (err) {
            p.stats.add(
              expectSfsError(err, ["BAD_IDENTITY", "BAD_PASSPHRASE", "BAD_MESSAGE", "BAD_KEY"])
                .code,
            );
            return;
          }
          // Random edits cannot forge a matching key set: success means the same identity.
          const expected = material.identity.public.encoded;
          if (!equalBytes(identity.public.encoded, expected)) {
            assert.fail(
              `A mutated identity file imported with another public encoding ` +
                `(${await describeDifference(expected, identity.public.encoded)})`,
            );
          }
          p.stats.add("ok");
        }),
        p,
      );
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Sessions: a real transfer over in-memory pipes, recorded, then mutated

/** One end of an in-memory connection; closing it ends the other end's stream. */
class PipeEnd implements Transport {
  /** Receives what this end writes; set by {@link connect}. */
  onWrite: (bytes: Bytes) => void = () => {};
  /** Told when this end closes. */
  onClose: () => void = () => {};
  readonly #inbox: Uint8Array[] = [];
  #ended = false;
  #closed = false;
  #wake?: () => void;

  /** Queues bytes for this end to read. */
  deliver(bytes: Uint8Array): void {
    if (this.#closed || this.#ended || bytes.length === 0) return;
    this.#inbox.push(bytes);
    this.#wake?.();
  }

  /** Ends this end's input: reads return null once the inbox is empty. */
  deliverEnd(): void {
    this.#ended = true;
    this.#wake?.();
  }

  get closed(): boolean {
    return this.#closed;
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#inbox.length === 0 && !this.#ended && !this.#closed) {
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    if (this.#closed) throw new Error("Interrupted: operation canceled");
    const head = this.#inbox[0];
    if (!head) return null;
    const n = Math.min(head.length, buffer.length);
    buffer.set(head.subarray(0, n));
    if (n === head.length) this.#inbox.shift();
    else this.#inbox[0] = head.subarray(n);
    return n;
  }

  write(data: Uint8Array): Promise<number> {
    if (this.#closed) return Promise.reject(new Error("Broken pipe"));
    this.onWrite(new Uint8Array(data));
    return Promise.resolve(data.length);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake?.();
    this.onClose();
  }
}

/** An edit of one direction of a session, addressed by frame index. */
export type FrameMutation =
  | { op: "flip"; frame: number; at: number; bit: number }
  | { op: "drop"; frame: number }
  | { op: "duplicate"; frame: number }
  | { op: "swap"; frame: number }
  | { op: "truncate"; frame: number; keep: number }
  | { op: "insert"; frame: number; bytes: Bytes }
  | { op: "append"; frame: number; bytes: Bytes }
  | { op: "length"; frame: number; value: number; relative: boolean }
  | { op: "kind"; frame: number; value: number }
  | { op: "stale"; frame: number; from: number };

/** How a {@link FrameTap} passes frames on. */
interface TapOptions {
  /** The one edit to make. */
  mutation?: FrameMutation;
  /** Frames of an earlier session, for the `stale` edit. */
  stale?: readonly Bytes[];
  /**
   * When given, frames are held until the last frame of their burst and then passed on
   * together, as TCP often coalesces them: the reader then finds a whole burst buffered.
   */
  lastOfBurst?: (index: number) => boolean;
}

/**
 * Splits one direction's byte stream into the frames its (honest) writer wrote and passes them
 * on with one mutation applied; remembers what went in and what came out.
 */
class FrameTap {
  readonly original: Uint8Array[] = [];
  readonly forwarded: Uint8Array[] = [];
  /** Frames seen so far, with how many frames the other direction had sent at that point. */
  readonly frames: { bytes: Bytes; burst: number }[] = [];
  /** Frame count of the other direction, for burst numbers. */
  otherFrames: () => number = () => 0;
  #pending: Uint8Array = new Uint8Array();
  #queue: Uint8Array[] = [];
  #held?: Bytes;
  #cut = false;
  readonly #options: TapOptions;
  readonly #emit: (bytes: Uint8Array) => void;
  readonly #end: () => void;

  constructor(emit: (bytes: Uint8Array) => void, end: () => void, options: TapOptions = {}) {
    this.#emit = emit;
    this.#end = end;
    this.#options = options;
  }

  push(bytes: Uint8Array): void {
    this.original.push(bytes);
    this.#pending = concat(this.#pending, bytes);
    while (this.#pending.length >= FRAME_HEADER_BYTES) {
      const length = new DataView(this.#pending.buffer, this.#pending.byteOffset).getUint32(0);
      if (this.#pending.length < 4 + length) break;
      const frame = this.#pending.slice(0, 4 + length);
      this.#pending = this.#pending.slice(4 + length);
      const index = this.frames.length;
      this.frames.push({ bytes: frame, burst: this.otherFrames() });
      this.#frame(index, frame);
      if (this.#options.lastOfBurst?.(index) ?? true) this.#flush();
    }
  }

  /** The writer closed: flush anything held, then end the stream. */
  end(): void {
    if (this.#held) this.#queue.push(this.#held);
    this.#held = undefined;
    this.#queue.push(this.#pending);
    this.#flush();
    this.#cut = true;
    this.#end();
  }

  /** True when the bytes passed on are the original bytes, possibly followed by extra ones. */
  get onlyAppended(): boolean {
    return startsWith(concat(...this.forwarded), concat(...this.original));
  }

  #flush(): void {
    for (const bytes of this.#queue) {
      if (this.#cut || bytes.length === 0) continue;
      this.forwarded.push(bytes);
      this.#emit(bytes);
    }
    this.#queue = [];
  }

  #frame(index: number, frame: Bytes): void {
    const out = this.#queue;
    const m = this.#options.mutation;
    if (this.#held) {
      // The swap's second frame: it goes first.
      out.push(frame, this.#held);
      this.#held = undefined;
      return;
    }
    if (!m || m.frame !== index) {
      out.push(frame);
      return;
    }
    const edited = new Uint8Array(frame);
    const view = new DataView(edited.buffer);
    switch (m.op) {
      case "flip":
        edited[m.at % edited.length] ^= 1 << m.bit;
        out.push(edited);
        return;
      case "drop":
        return;
      case "duplicate":
        out.push(frame, frame);
        return;
      case "swap":
        this.#held = frame;
        return;
      case "truncate":
        out.push(frame.subarray(0, m.keep % frame.length));
        this.#flush();
        this.#cut = true;
        this.#end();
        return;
      case "insert":
        out.push(m.bytes, frame);
        return;
      case "append":
        out.push(frame, m.bytes);
        return;
      case "length":
        view.setUint32(0, m.relative ? (view.getUint32(0) + m.value) >>> 0 : m.value);
        out.push(edited);
        return;
      case "kind":
        edited[4] = m.value;
        out.push(edited);
        return;
      case "stale": {
        const stale = this.#options.stale ?? [];
        out.push(stale.length > 0 ? stale[m.from % stale.length] : frame);
        return;
      }
    }
  }
}

/** Connects two pipe ends through a tap per direction. */
function connect(
  a: PipeEnd,
  b: PipeEnd,
  tapAB: (emit: (x: Uint8Array) => void, end: () => void) => FrameTap,
  tapBA: (emit: (x: Uint8Array) => void, end: () => void) => FrameTap,
): { ab: FrameTap; ba: FrameTap } {
  const ab = tapAB((x) => b.deliver(x), () => b.deliverEnd());
  const ba = tapBA((x) => a.deliver(x), () => a.deliverEnd());
  ab.otherFrames = () => ba.frames.length;
  ba.otherFrames = () => ab.frames.length;
  a.onWrite = (x) => ab.push(x);
  b.onWrite = (x) => ba.push(x);
  a.onClose = () => ab.end();
  b.onClose = () => ba.end();
  return { ab, ba };
}

/** Applies a frame mutation to a recorded direction offline: the bytes a replayer sends. */
export function mutateRecording(
  frames: readonly Bytes[],
  mutation: FrameMutation | undefined,
  stale: readonly Bytes[],
): Bytes {
  const out: Uint8Array[] = [];
  const tap = new FrameTap((x) => out.push(x), () => {}, { mutation, stale });
  for (const frame of frames) tap.push(frame);
  tap.end();
  return concat(...out);
}

/** The two sides of the transfer and the file between them. */
export interface SessionSetup {
  readonly sender: Identity;
  readonly receiver: Identity;
  readonly file: SharedFile;
  readonly content: Bytes;
  /** Temporary folder for the receivers' output; removed by the caller. */
  readonly root: string;
  /** Chunk size of the transfer (the smallest a receiver accepts, so several chunks are cheap). */
  readonly chunkSize: number;
}

/** A clean recorded transfer: the frames each side sent, with burst numbers. */
export interface Recording {
  /** Sender → receiver: HELLO_REPLY, MANIFEST, CHUNK…, FINAL. */
  readonly toReceiver: readonly { bytes: Bytes; burst: number }[];
  /** Receiver → sender: HELLO, GET, RECEIPT. */
  readonly toSender: readonly { bytes: Bytes; burst: number }[];
}

/** What one live session ended with. */
interface SessionResult {
  sender: PromiseSettledResult<unknown>;
  receiver: PromiseSettledResult<{ path: string; resumedFrom?: number }>;
  outDir: string;
}

let caseNumber = 0;

/** Idle deadline of the live sides in mutated sessions: a deadlock costs this much. */
const SESSION_IDLE_MS = 250;
/** Bound on a whole session; far above anything but a hang. */
const SESSION_BOUND_MS = 15_000;

/** One mutated session: which direction is edited, how, and whether bursts arrive whole. */
export interface SessionCase {
  direction: "toReceiver" | "toSender";
  mutation: FrameMutation;
  coalesce: boolean;
}

/**
 * Runs one live transfer between the two identities over an in-memory pipe, with the case's
 * mutation applied to one direction (none when recording).
 */
async function runSession(
  setup: SessionSetup,
  options: { edit?: SessionCase; recording?: Recording; idleTimeoutMs?: number; outDir?: string },
): Promise<SessionResult & { taps: { ab: FrameTap; ba: FrameTap } }> {
  const outDir = options.outDir ?? join(setup.root, `case-${++caseNumber}`);
  const senderEnd = new PipeEnd();
  const receiverEnd = new PipeEnd();
  const { edit, recording } = options;
  const tap =
    (direction: "toReceiver" | "toSender") =>
    (emit: (x: Uint8Array) => void, end: () => void): FrameTap => {
      const recorded = recording?.[direction] ?? [];
      return new FrameTap(emit, end, {
        mutation: edit?.direction === direction ? edit.mutation : undefined,
        stale: recorded.map((f) => f.bytes),
        lastOfBurst: edit?.coalesce
          ? (i) => i + 1 >= recorded.length || recorded[i + 1].burst !== recorded[i].burst
          : undefined,
      });
    };
  const taps = connect(senderEnd, receiverEnd, tap("toReceiver"), tap("toSender"));
  const idleTimeoutMs = options.idleTimeoutMs ?? SESSION_IDLE_MS;
  const sending = serveTransfer(senderEnd, setup.sender, {
    lookup: (id) => equalBytes(id, setup.file.id) ? setup.file : undefined,
    chunkSize: setup.chunkSize,
    idleTimeoutMs,
  });
  const receiving = fetchFile(receiverEnd, setup.receiver, {
    fileId: setup.file.id,
    expectedFingerprint: setup.sender.public.fingerprint,
    outDir,
    idleTimeoutMs,
  });
  const [sender, receiver] = await bounded(
    Promise.allSettled([sending, receiving]),
    SESSION_BOUND_MS,
    "A transfer",
  );
  senderEnd.close();
  receiverEnd.close();
  return { sender, receiver, outDir, taps };
}

/** Records one clean transfer; throws if it does not succeed. */
export async function recordSession(setup: SessionSetup): Promise<Recording> {
  const result = await runSession(setup, { idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS });
  if (result.sender.status === "rejected") throw result.sender.reason;
  if (result.receiver.status === "rejected") throw result.receiver.reason;
  await checkOutput(setup, result.outDir, true);
  await Deno.remove(result.outDir, { recursive: true });
  return { toReceiver: result.taps.ab.frames, toSender: result.taps.ba.frames };
}

/**
 * What the receiver left in its folder: the file, complete and exact, only when `published`;
 * otherwise at most part and state files, and a part file holds only verified plaintext (a
 * prefix of the real content). Returns the length of the part file kept, or 0.
 */
async function checkOutput(
  setup: SessionSetup,
  outDir: string,
  published: boolean,
): Promise<number> {
  const entries: string[] = [];
  try {
    for await (const entry of Deno.readDir(outDir)) entries.push(entry.name);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  const finals = entries.filter((n) => !n.endsWith(".sfs-part") && !n.endsWith(".sfs-state"));
  if (published) {
    assert.deepEqual(finals, [setup.file.name], "the received file is missing");
    assertBytes(await Deno.readFile(join(outDir, setup.file.name)), setup.content, "received file");
  } else {
    assert.deepEqual(finals, [], "a final file appeared although the transfer failed");
  }
  let kept = 0;
  for (const name of entries.filter((n) => n.endsWith(".sfs-part"))) {
    const part = await Deno.readFile(join(outDir, name));
    if (!startsWith(setup.content, part)) {
      const state = await Deno.readTextFile(join(outDir, name.replace(/part$/, "state")))
        .catch(() => "none");
      assert.fail(
        `The part file is not a prefix of the content: ${part.length} bytes, equal to the ` +
          `content from byte ${whereIn(setup.content, part)}; state: ${state}`,
      );
    }
    kept = part.length;
  }
  return kept;
}

/** Where `part` occurs in `content` (at a chunk boundary), or -1. */
function whereIn(content: Uint8Array, part: Uint8Array): number {
  for (let at = 0; at + part.length <= content.length; at += 1024) {
    if (equalBytes(content.subarray(at, at + part.length), part)) return at;
  }
  return -1;
}

/** The code a failed side ended with, checked against the table. */
function failureCode(result: PromiseSettledResult<unknown>): ErrorCode | undefined {
  return result.status === "rejected" ? expectSfsError(result.reason).code : undefined;
}

function frameMutationArb(
  frameCount: number,
  bursts: readonly number[],
): fc.Arbitrary<FrameMutation> {
  const frame = fc.nat(frameCount - 1);
  // A swap across a round trip deadlocks (the second frame waits for an answer to the first):
  // only frames sent in one burst are swapped.
  const swappable = bursts.flatMap((b, i) =>
    i + 1 < bursts.length && bursts[i + 1] === b ? [i] : []
  );
  const garbage = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 12 }),
    frameLikeArb(64),
  );
  const arbs: fc.Arbitrary<FrameMutation>[] = [
    fc.record({ op: fc.constant("flip"), frame, at: fc.nat(), bit: fc.nat(7) }),
    fc.record({ op: fc.constant("flip"), frame, at: fc.nat(4), bit: fc.nat(7) }),
    fc.record({ op: fc.constant("drop"), frame }),
    fc.record({ op: fc.constant("duplicate"), frame }),
    fc.record({ op: fc.constant("truncate"), frame, keep: fc.nat() }),
    fc.record({ op: fc.constant("insert"), frame, bytes: garbage }),
    fc.record({ op: fc.constant("append"), frame, bytes: garbage }),
    fc.record({
      op: fc.constant("length"),
      frame,
      value: fc.integer({ min: -2, max: 2 }).filter((v) => v !== 0),
      relative: fc.constant(true),
    }),
    fc.record({
      op: fc.constant("length"),
      frame,
      value: fc.constantFrom(0, 1, MAX_HANDSHAKE_FRAME + 2, DEFAULT_MAX_RECORD + 18, MAX_U32),
      relative: fc.constant(false),
    }),
    fc.record({ op: fc.constant("kind"), frame, value: fc.constantFrom(0, 1, 2, 3, 4, 255) }),
    fc.record({ op: fc.constant("stale"), frame, from: fc.nat() }),
  ] as fc.Arbitrary<FrameMutation>[];
  if (swappable.length > 0) {
    arbs.push(fc.record({ op: fc.constant("swap"), frame: fc.constantFrom(...swappable) }));
  }
  return fc.oneof(...arbs);
}

/**
 * A live sender and a live receiver with one direction mutated in transit: the side that reads
 * the mutated stream (the victim) fails with a typed error unless only extra bytes were added
 * after everything it reads; the receiver never leaves a final file unless it got every byte
 * right, and never a part file with unverified bytes.
 */
function sessionMutationTarget(): FuzzTarget {
  return {
    name: "live transfer with one direction mutated",
    ciRuns: 160,
    run: async (p, context) => {
      const { setup, recording } = await context.session();
      await check(
        fc.asyncProperty(sessionCaseArb(recording), async (edit) => {
          p.stats.add(await checkSessionCase(setup, recording, edit));
        }),
        p,
        { shrink: false },
      );
    },
  };
}

function sessionCaseArb(recording: Recording): fc.Arbitrary<SessionCase> {
  const direction = (name: "toReceiver" | "toSender") =>
    fc.record({
      direction: fc.constant(name),
      mutation: frameMutationArb(recording[name].length, recording[name].map((f) => f.burst)),
      coalesce: fc.boolean(),
    });
  return fc.oneof({ weight: 3, arbitrary: direction("toReceiver") }, direction("toSender"));
}

/**
 * Runs one mutated session and checks how it ended (see {@link sessionMutationTarget});
 * returns a label of the outcome.
 */
export async function checkSessionCase(
  setup: SessionSetup,
  recording: Recording,
  edit: SessionCase,
): Promise<string> {
  const result = await runSession(setup, { edit, recording });
  const tap = edit.direction === "toReceiver" ? result.taps.ab : result.taps.ba;
  const senderCode = failureCode(result.sender);
  const receiverCode = failureCode(result.receiver);
  const victimCode = edit.direction === "toReceiver" ? receiverCode : senderCode;
  const published = result.receiver.status === "fulfilled";
  try {
    if (!tap.onlyAppended) {
      assert.ok(victimCode, `the ${edit.direction} side accepted an altered stream`);
    }
    // The sender succeeds only on the receipt of a published file.
    if (result.sender.status === "fulfilled") assert.ok(published, "receipt without a file");
    const kept = await checkOutput(setup, result.outDir, published);
    if (kept === 0) return `${edit.direction} ${edit.mutation.op}: ${victimCode ?? "ok"}`;
    // A kept part file is a promise: the same download, run again, resumes to the exact file.
    const again = await runSession(setup, { outDir: result.outDir });
    if (again.receiver.status === "rejected") {
      assert.fail(`resuming a kept part file failed: ${String(again.receiver.reason)}`);
    }
    assert.equal(again.receiver.value.resumedFrom, kept, "resumed from another byte");
    await checkOutput(setup, result.outDir, true);
    return `${edit.direction} ${edit.mutation.op}: ${victimCode}, resumed`;
  } finally {
    await Deno.remove(result.outDir, { recursive: true }).catch(() => {});
  }
}

/**
 * A transport that plays back fixed bytes (all at once, then the end of the stream) and keeps
 * what the live side writes.
 */
class ReplayTransport implements Transport {
  readonly written: Uint8Array[] = [];
  readonly #end = new PipeEnd();

  constructor(bytes: Uint8Array) {
    this.#end.deliver(bytes);
    this.#end.deliverEnd();
  }

  read(buffer: Uint8Array): Promise<number | null> {
    return this.#end.read(buffer);
  }

  write(data: Uint8Array): Promise<number> {
    this.written.push(new Uint8Array(data));
    return Promise.resolve(data.length);
  }

  close(): void {
    this.#end.close();
  }
}

/**
 * The recorded sender stream, mutated or not, replayed to a new live receiver: the handshake
 * signature covers the receiver's fresh nonce, so the receiver always refuses (BAD_SIGNATURE
 * when the reply is intact) and never keeps a file.
 */
function replayToReceiverTarget(): FuzzTarget {
  return {
    name: "recorded sender replayed to a live receiver",
    ciRuns: 60,
    run: async (p, context) => {
      const { setup, recording } = await context.session();
      const frames = recording.toReceiver.map((f) => f.bytes);
      const caseArb = fc.option(
        frameMutationArb(frames.length, recording.toReceiver.map((f) => f.burst)),
        {
          freq: 8,
        },
      );
      await check(
        fc.asyncProperty(caseArb, async (mutation) => {
          const bytes = mutateRecording(frames, mutation ?? undefined, frames);
          const transport = new ReplayTransport(bytes);
          const outDir = join(setup.root, `case-${++caseNumber}`);
          const [result] = await bounded(
            Promise.allSettled([
              fetchFile(transport, setup.receiver, {
                fileId: setup.file.id,
                expectedFingerprint: setup.sender.public.fingerprint,
                outDir,
                idleTimeoutMs: SESSION_IDLE_MS,
              }),
            ]),
            SESSION_BOUND_MS,
            "A replayed transfer",
          );
          try {
            const code = failureCode(result);
            assert.ok(code, "a replayed sender was accepted");
            if (startsWith(bytes, frames[0])) {
              assert.equal(
                code,
                "BAD_SIGNATURE",
                "an intact replayed reply must fail its signature",
              );
            }
            await checkOutput(setup, outDir, false);
            p.stats.add(code);
          } finally {
            await Deno.remove(outDir, { recursive: true }).catch(() => {});
          }
        }),
        p,
        { shrink: false },
      );
    },
  };
}

/**
 * The recorded receiver stream, mutated or not, replayed to a new live sender: the sender's
 * keys are fresh, so the replayed GET cannot open (DECRYPT_FAILED when intact), and the sender
 * releases nothing: no manifest, no chunk, at most one sealed ERROR record.
 */
function replayToSenderTarget(): FuzzTarget {
  return {
    name: "recorded receiver replayed to a live sender",
    ciRuns: 60,
    run: async (p, context) => {
      const { setup, recording } = await context.session();
      const frames = recording.toSender.map((f) => f.bytes);
      const caseArb = fc.option(
        frameMutationArb(frames.length, recording.toSender.map((f) => f.burst)),
        {
          freq: 8,
        },
      );
      await check(
        fc.asyncProperty(caseArb, async (mutation) => {
          const bytes = mutateRecording(frames, mutation ?? undefined, frames);
          const transport = new ReplayTransport(bytes);
          const [result] = await bounded(
            Promise.allSettled([
              serveTransfer(transport, setup.sender, {
                lookup: (id) => equalBytes(id, setup.file.id) ? setup.file : undefined,
                chunkSize: setup.chunkSize,
                idleTimeoutMs: SESSION_IDLE_MS,
              }),
            ]),
            SESSION_BOUND_MS,
            "A replayed transfer",
          );
          const code = failureCode(result);
          assert.ok(code, "a replayed receiver was served");
          if (startsWith(bytes, concat(frames[0], frames[1]))) {
            assert.equal(code, "DECRYPT_FAILED", "an intact replayed request must not open");
          }
          const kinds = splitFrames(concat(...transport.written)).map((f) => f[4]);
          assert.ok(!kinds.includes(FrameKind.CHUNK), "the sender sent payload to a replayer");
          assert.ok(
            kinds.filter((k) => k === FrameKind.SEALED).length <= 1,
            "the sender sent sealed records other than one ERROR",
          );
          p.stats.add(code);
        }),
        p,
        { shrink: false },
      );
    },
  };
}

/** Splits well-formed frames (as the live side wrote them). */
function splitFrames(bytes: Uint8Array): Bytes[] {
  const frames: Bytes[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (bytes.length - at >= FRAME_HEADER_BYTES) {
    const end = at + 4 + view.getUint32(at);
    frames.push(bytes.slice(at, end));
    at = end;
  }
  return frames;
}

/** Creates the sender's file (three chunks of 16 KiB: two full, one short) in a temp folder. */
export async function sessionSetup(sender: Identity, receiver: Identity): Promise<SessionSetup> {
  const root = await Deno.makeTempDir({ prefix: "sfs-fuzz-" });
  const chunkSize = 16 * 1024;
  const content = new Uint8Array(2 * chunkSize + 1000);
  for (let i = 0; i < content.length; i += 65536) {
    crypto.getRandomValues(content.subarray(i, Math.min(content.length, i + 65536)));
  }
  const path = join(root, "shared report.bin");
  await Deno.writeFile(path, content);
  const file = await prepareFile(path, sender.public);
  return { sender, receiver, file, content, root, chunkSize };
}

// ---------------------------------------------------------------------------------------------
// All targets

/**
 * What the slower targets need, built on first use: test identities (RSA keygen is slow, so
 * tests/identities.ts caches them per run) and a recorded transfer in a temporary folder.
 */
export class FuzzContext {
  #material?: Promise<IdentityMaterial>;
  #session?: Promise<{ setup: SessionSetup; recording: Recording }>;
  #root?: string;

  /** Two test identities turned into mutation material. */
  material(): Promise<IdentityMaterial> {
    this.#material ??=
      (async () => identityMaterial(await testIdentity("alice"), await testIdentity("bob")))();
    return this.#material;
  }

  /** A file shared by bob, fetched once by alice and recorded. */
  session(): Promise<{ setup: SessionSetup; recording: Recording }> {
    this.#session ??= (async () => {
      const setup = await sessionSetup(await testIdentity("bob"), await testIdentity("alice"));
      this.#root = setup.root;
      return { setup, recording: await recordSession(setup) };
    })();
    return this.#session;
  }

  /** Removes the temporary folder, if one was made. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#session?.catch(() => {});
    if (this.#root) await Deno.remove(this.#root, { recursive: true }).catch(() => {});
  }
}

/** Every target, in the order they run. */
export function fuzzTargets(): FuzzTarget[] {
  return [
    byteReaderTarget(),
    decodeRandomTarget(),
    decodeMutatedTarget(),
    frameReaderTarget(),
    frameRoundTripTarget(),
    fingerprintTarget(),
    ticketTarget(),
    safeFileNameTarget(),
    publicIdentityTarget(),
    importIdentityTarget(),
    sessionMutationTarget(),
    replayToReceiverTarget(),
    replayToSenderTarget(),
  ];
}

/** Runs for `target` when the whole run has `totalRuns` cases (the CI run's shares, scaled). */
export function runsFor(
  target: FuzzTarget,
  targets: readonly FuzzTarget[],
  totalRuns: number,
): number {
  const ciTotal = targets.reduce((sum, t) => sum + t.ciRuns, 0);
  return Math.max(1, Math.round(target.ciRuns * totalRuns / ciTotal));
}
