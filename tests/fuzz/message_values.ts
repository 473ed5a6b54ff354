/** Valid values of every message type, one arbitrary per type, and the table of type numbers. */
import fc from "fast-check";
import { type Bytes, utf8 } from "../../src/crypto/bytes.ts";
import { ByteWriter } from "../../src/crypto/encoding.ts";
import { ErrorCode } from "../../src/errors.ts";
import { removeUnsafe } from "../../src/text.ts";
import {
  FILE_ID_BYTES,
  MAX_ERROR_TEXT_BYTES,
  type Message,
  MessageType,
} from "../../src/wire/messages.ts";
import {
  MAX_ANNOUNCEMENT_BYTES,
  MAX_LIST_OFFSET,
  MAX_LISTINGS,
  MAX_PASSWORD_BYTES,
  MAX_QUERY_BYTES,
  MAX_USER_KEYS,
  MAX_USERNAME_BYTES,
  RELAY_TOKEN_BYTES,
} from "../../src/wire/index_numbers.ts";
import { MAX_WIRE_NAME_BYTES } from "../../src/wire/message_fields.ts";
import { MAX_MANIFEST_HEADER_BYTES } from "../../src/wire/tree_messages.ts";
import { fixed, MAX_U32 } from "./arbitraries.ts";

/** Limits of §5 and §6 that messages.ts keeps private. */
const MAX_IDENTITY_BYTES = 2048;
const MAX_WRAPPED_BYTES = 512;
const MAX_RSA_SIGNATURE_BYTES = 512;

/** Every message type number, read from the table at run time so new types are covered. */
export const MESSAGE_TYPES: readonly number[] = Object.values(MessageType);

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

/** Mostly short byte strings, sometimes right at the field's maximum. */
function bytesUpTo(max: number): fc.Arbitrary<Bytes> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.uint8Array({ maxLength: Math.min(max, 48) }) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: Math.max(0, max - 2), maxLength: max }) },
  );
}

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
  return options.printable ? text.map(removeUnsafe) : text;
}

/** u64 field values: small, on a boundary, or up to the largest safe integer. */
export const u64Arb = fc.oneof(
  fc.nat(),
  fc.constantFrom(0, 1, 2 ** 32, Number.MAX_SAFE_INTEGER),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
);

/** u32 field values, mostly chunk-size-like. */
export const u32Arb = fc.oneof(
  fc.nat(1 << 24),
  fc.constantFrom(0, 16384, 1 << 20, 1 << 22, MAX_U32),
);

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
export const VALID_MESSAGES: { [T in MessageType]?: fc.Arbitrary<Extract<Message, { type: T }>> } =
  {
    // Version 2 only: any other version is VERSION_MISMATCH, and options must be empty (§6.2).
    [MessageType.HELLO]: fc.record({
      type: fc.constant(MessageType.HELLO),
      version: fc.constant(2),
      options: fc.constant(new Uint8Array()),
      ephemeral: fixed(32),
      nonce: fixed(32),
    }),
    [MessageType.HELLO_REPLY]: fc.record({
      type: fc.constant(MessageType.HELLO_REPLY),
      version: fc.constant(2),
      options: fc.constant(new Uint8Array()),
      ephemeral: fixed(32),
      nonce: fixed(32),
    }),
    [MessageType.RESPONDER_AUTH]: fc.record({
      type: fc.constant(MessageType.RESPONDER_AUTH),
      identity: bytesUpTo(MAX_IDENTITY_BYTES),
      signatures: signaturesArb,
    }),
    [MessageType.INITIATOR_AUTH]: fc.record({
      type: fc.constant(MessageType.INITIATOR_AUTH),
      identity: bytesUpTo(MAX_IDENTITY_BYTES),
      early: fc.boolean(),
      signatures: signaturesArb,
    }),
    [MessageType.KEY_TRANSPORT]: fc.record({
      type: fc.constant(MessageType.KEY_TRANSPORT),
      wrappedSecret: bytesUpTo(MAX_WRAPPED_BYTES),
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
      name: textUpTo(MAX_WIRE_NAME_BYTES, { printable: true }),
      size: u64Arb,
      sha256: fixed(32),
      chunkSize: u32Arb,
      offset: u64Arb,
      executable: fc.boolean(),
      mtime: u64Arb,
      createdAt: u64Arb,
      manifestSignatures: signaturesArb,
    }),
    [MessageType.FINAL]: fc.record({
      type: fc.constant(MessageType.FINAL),
      signatures: signaturesArb,
    }),
    [MessageType.RECEIPT]: fc.record({
      type: fc.constant(MessageType.RECEIPT),
      shareId: fixed(FILE_ID_BYTES),
      manifestHash: fixed(32),
      senderFingerprint: fixed(32),
      receiverFingerprint: fixed(32),
      receivedAt: u64Arb,
      transcriptHash: fixed(32),
      signatures: signaturesArb,
    }),
    [MessageType.TREE_GET]: fc.record({
      type: fc.constant(MessageType.TREE_GET),
      shareId: fixed(FILE_ID_BYTES),
      manifestHash: fixed(32),
      entry: u64Arb,
      offset: u64Arb,
      want: fc.boolean(),
    }),
    // A page's framing (§7.6): entries of short paths; their fields are ManifestReader's.
    [MessageType.MANIFEST_PAGE]: fc.record({
      type: fc.constant(MessageType.MANIFEST_PAGE),
      page: fc.tuple(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.array(fc.tuple(bytesUpTo(40).filter((p) => p.length > 0), fixed(50)), {
          minLength: 1,
          maxLength: 3,
        }),
      ).map(([first, entries]) => {
        const writer = new ByteWriter().u64(first).u16(entries.length);
        for (const [path, tail] of entries) writer.bytes16(path).raw(tail);
        return writer.finish();
      }),
    }),
    // Ascending ranges with a gap between them (§7.7).
    [MessageType.WANT]: fc.record({
      type: fc.constant(MessageType.WANT),
      ranges: fc.array(
        fc.tuple(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 100 })),
        {
          maxLength: 5,
        },
      ).map((pairs) => {
        let end = -1;
        return pairs.map(([gap, count]) => {
          const first = end + gap;
          end = first + count;
          return { first, count };
        });
      }),
    }),
    [MessageType.TREE_MANIFEST]: fc.record({
      type: fc.constant(MessageType.TREE_MANIFEST),
      shareId: fixed(FILE_ID_BYTES),
      header: bytesUpTo(MAX_MANIFEST_HEADER_BYTES),
      signatures: signaturesArb,
      chunkSize: u32Arb,
      entry: u64Arb,
      offset: u64Arb,
      pagesFollow: fc.boolean(),
    }),
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
    [MessageType.RELAY]: fc.record({
      type: fc.constant(MessageType.RELAY),
      fileId: fixed(FILE_ID_BYTES),
      token: fc.oneof(fc.constant(new Uint8Array()), fixed(RELAY_TOKEN_BYTES)),
    }),
    [MessageType.RELAY_TOKEN]: fc.record({
      type: fc.constant(MessageType.RELAY_TOKEN),
      fileId: fixed(FILE_ID_BYTES),
      token: fixed(RELAY_TOKEN_BYTES),
    }),
    [MessageType.RELAY_DIAL]: fc.record({
      type: fc.constant(MessageType.RELAY_DIAL),
      fileId: fixed(FILE_ID_BYTES),
      pairingToken: fixed(RELAY_TOKEN_BYTES),
      receiver: fc.string({ maxLength: 32 }),
      relay: fc.string({ maxLength: 64 }),
    }),
    [MessageType.RELAY_JOIN]: fc.record({
      type: fc.constant(MessageType.RELAY_JOIN),
      pairingToken: fixed(RELAY_TOKEN_BYTES),
    }),
  };

/** Message types without a hand-written arbitrary in {@link VALID_MESSAGES}. */
export function typesWithoutArbitrary(): number[] {
  return MESSAGE_TYPES.filter((type) => !(type in VALID_MESSAGES));
}
