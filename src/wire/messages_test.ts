import assert from "node:assert/strict";
import { ErrorCode, isSfsError } from "../errors.ts";
import { type Bytes, concat, toHex, utf8 } from "../crypto/bytes.ts";
import { ByteWriter } from "../crypto/encoding.ts";
import {
  decodeMessage,
  encodeMessage,
  MAX_ERROR_TEXT_BYTES,
  type Message,
  MessageType,
  PLAIN_TYPES,
} from "./messages.ts";
import { MAX_WIRE_NAME_BYTES } from "./message_fields.ts";
import {
  MANIFEST_ENTRY_TAIL_BYTES,
  MAX_MANIFEST_HEADER_BYTES,
  MAX_MANIFEST_PAGE_BYTES,
  MIN_MANIFEST_PAGE_BYTES,
} from "./tree_messages.ts";

function bytes(length: number, seed = 1): Bytes {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);
}

const RSA_SIG = bytes(384, 2);
const ED_SIG = bytes(64, 3);
const IDENTITY = bytes(860, 4);
const FILE_ID = bytes(16, 5);
const SHA = bytes(32, 6);

/**
 * At least one sample of every message type, keyed by type. A type added to MessageType
 * without a sample here fails "every MessageType has a codec that round-trips".
 */
const SAMPLES: { [T in MessageType]?: Extract<Message, { type: T }>[] } = {
  [MessageType.HELLO]: [{
    type: MessageType.HELLO,
    version: 2,
    options: new Uint8Array(),
    ephemeral: bytes(32, 7),
    nonce: bytes(32, 8),
  }],
  [MessageType.HELLO_REPLY]: [{
    type: MessageType.HELLO_REPLY,
    version: 2,
    options: new Uint8Array(),
    ephemeral: bytes(32, 9),
    nonce: bytes(32, 10),
  }],
  [MessageType.ABORT]: [
    { type: MessageType.ABORT, code: "REFUSED", message: "Not on the allow list" },
    { type: MessageType.ABORT, code: "VERSION_MISMATCH", message: "" },
  ],
  [MessageType.RESPONDER_AUTH]: [
    {
      type: MessageType.RESPONDER_AUTH,
      identity: IDENTITY,
      signatures: { rsa: undefined, ed25519: ED_SIG },
    },
    {
      type: MessageType.RESPONDER_AUTH,
      identity: bytes(2048),
      signatures: { rsa: bytes(512), ed25519: ED_SIG },
    },
  ],
  [MessageType.INITIATOR_AUTH]: [
    {
      type: MessageType.INITIATOR_AUTH,
      identity: IDENTITY,
      early: true,
      signatures: { rsa: undefined, ed25519: ED_SIG },
    },
    {
      type: MessageType.INITIATOR_AUTH,
      identity: IDENTITY,
      early: false,
      signatures: { rsa: RSA_SIG, ed25519: ED_SIG },
    },
  ],
  [MessageType.KEY_TRANSPORT]: [
    { type: MessageType.KEY_TRANSPORT, wrappedSecret: bytes(384, 11) },
    { type: MessageType.KEY_TRANSPORT, wrappedSecret: bytes(512, 11) },
  ],
  [MessageType.GET]: [
    { type: MessageType.GET, fileId: FILE_ID, offset: 0 },
    { type: MessageType.GET, fileId: FILE_ID, offset: Number.MAX_SAFE_INTEGER },
  ],
  [MessageType.MANIFEST]: [{
    type: MessageType.MANIFEST,
    fileId: FILE_ID,
    name: "report — final ✓.pdf",
    size: 5 * 1024 * 1024 + 3,
    sha256: SHA,
    chunkSize: 1024 * 1024,
    offset: 2 * 1024 * 1024,
    executable: true,
    mtime: 1_790_000_000_123,
    createdAt: 1_790_000_100_000,
    manifestSignatures: { rsa: RSA_SIG, ed25519: ED_SIG },
  }, {
    type: MessageType.MANIFEST,
    fileId: FILE_ID,
    name: "x".repeat(MAX_WIRE_NAME_BYTES),
    size: 0,
    sha256: SHA,
    chunkSize: 0xffffffff,
    offset: 0,
    executable: false,
    mtime: 0,
    createdAt: 0,
    // A name that cannot be a manifest path (over 255 bytes) comes without signatures.
    manifestSignatures: { rsa: undefined, ed25519: undefined },
  }],
  [MessageType.FINAL]: [
    { type: MessageType.FINAL, signatures: { rsa: RSA_SIG, ed25519: ED_SIG } },
    { type: MessageType.FINAL, signatures: { rsa: RSA_SIG, ed25519: undefined } },
    { type: MessageType.FINAL, signatures: { rsa: undefined, ed25519: undefined } },
  ],
  [MessageType.RECEIPT]: [{
    type: MessageType.RECEIPT,
    shareId: FILE_ID,
    manifestHash: SHA,
    senderFingerprint: bytes(32, 12),
    receiverFingerprint: bytes(32, 13),
    receivedAt: 1_790_000_200_000,
    transcriptHash: bytes(32, 14),
    signatures: { rsa: RSA_SIG, ed25519: ED_SIG },
  }, {
    type: MessageType.RECEIPT,
    shareId: FILE_ID,
    manifestHash: new Uint8Array(32),
    senderFingerprint: bytes(32, 12),
    receiverFingerprint: bytes(32, 13),
    receivedAt: 0,
    transcriptHash: bytes(32, 14),
    signatures: { rsa: undefined, ed25519: ED_SIG },
  }],
  [MessageType.TREE_GET]: [
    {
      type: MessageType.TREE_GET,
      shareId: FILE_ID,
      manifestHash: new Uint8Array(32),
      entry: 0,
      offset: 0,
      want: false,
    },
    {
      type: MessageType.TREE_GET,
      shareId: FILE_ID,
      manifestHash: SHA,
      entry: 9_999_999,
      offset: 3 * 1024 * 1024,
      want: true,
    },
  ],
  [MessageType.TREE_MANIFEST]: [{
    type: MessageType.TREE_MANIFEST,
    shareId: FILE_ID,
    header: bytes(MAX_MANIFEST_HEADER_BYTES, 15),
    signatures: { rsa: RSA_SIG, ed25519: ED_SIG },
    chunkSize: 256 * 1024,
    entry: 0,
    offset: 0,
    pagesFollow: true,
  }, {
    type: MessageType.TREE_MANIFEST,
    shareId: FILE_ID,
    header: bytes(80, 16),
    signatures: { rsa: undefined, ed25519: ED_SIG },
    chunkSize: 16 * 1024,
    entry: 7,
    offset: 32 * 1024,
    pagesFollow: false,
  }],
  [MessageType.MANIFEST_PAGE]: [
    { type: MessageType.MANIFEST_PAGE, page: page(0, 1) },
    { type: MessageType.MANIFEST_PAGE, page: page(1000, 3, 3072) },
  ],
  [MessageType.WANT]: [
    { type: MessageType.WANT, ranges: [] },
    {
      type: MessageType.WANT,
      ranges: [{ first: 0, count: 1 }, { first: 2, count: 5 }, { first: 100, count: 1 }],
    },
  ],
  [MessageType.ERROR]: [
    { type: MessageType.ERROR, code: "NOT_FOUND", message: 'No file "abc" here' },
    { type: MessageType.ERROR, code: "INTERNAL", message: "é".repeat(MAX_ERROR_TEXT_BYTES / 2) },
  ],
  [MessageType.REGISTER]: [{
    type: MessageType.REGISTER,
    username: "alice",
    password: "pässword",
    proof: { rsa: RSA_SIG, ed25519: ED_SIG },
  }],
  [MessageType.LOGIN]: [
    {
      type: MessageType.LOGIN,
      username: "alice",
      password: "secret",
      rotateKeys: false,
      proof: { rsa: undefined, ed25519: ED_SIG },
    },
    {
      type: MessageType.LOGIN,
      username: "bob",
      password: "",
      rotateKeys: true,
      proof: { rsa: RSA_SIG, ed25519: ED_SIG },
    },
  ],
  [MessageType.AUTH]: [{
    type: MessageType.AUTH,
    username: "alice",
    proof: { rsa: RSA_SIG, ed25519: undefined },
  }],
  [MessageType.OK]: [{ type: MessageType.OK }],
  [MessageType.USER_KEYS]: [
    { type: MessageType.USER_KEYS, usernames: ["alice", "bob"] },
    { type: MessageType.USER_KEYS, usernames: [] },
  ],
  [MessageType.USER_KEYS_REPLY]: [{
    type: MessageType.USER_KEYS_REPLY,
    users: [{ username: "alice", identity: IDENTITY }, { username: "bob", identity: bytes(5) }],
  }],
  [MessageType.ANNOUNCE]: [{
    type: MessageType.ANNOUNCE,
    announcement: bytes(300, 12),
    signatures: { rsa: RSA_SIG, ed25519: ED_SIG },
  }],
  [MessageType.HEARTBEAT]: [{ type: MessageType.HEARTBEAT }],
  [MessageType.UNSHARE]: [{ type: MessageType.UNSHARE, fileId: FILE_ID }],
  [MessageType.SEARCH]: [{
    type: MessageType.SEARCH,
    query: "holiday photos",
    limit: 20,
    offset: 40,
  }],
  [MessageType.LIST]: [
    { type: MessageType.LIST, mine: true, limit: 1, offset: 0 },
    { type: MessageType.LIST, mine: false, limit: 50, offset: 100 },
  ],
  [MessageType.RESOLVE]: [{ type: MessageType.RESOLVE, query: toHex(FILE_ID) }],
  [MessageType.LISTINGS]: [
    { type: MessageType.LISTINGS, listings: [] },
    {
      type: MessageType.LISTINGS,
      listings: [{
        announcement: bytes(200, 13),
        signatures: { rsa: RSA_SIG, ed25519: ED_SIG },
        ownerIdentity: IDENTITY,
        online: true,
        lastSeen: 1_790_000_000_000,
      }, {
        announcement: bytes(10, 14),
        signatures: { rsa: undefined, ed25519: ED_SIG },
        ownerIdentity: bytes(20),
        online: false,
        lastSeen: 0,
      }],
    },
  ],
  [MessageType.RELAY]: [
    { type: MessageType.RELAY, fileId: FILE_ID, token: new Uint8Array() },
    { type: MessageType.RELAY, fileId: FILE_ID, token: bytes(16, 21) },
  ],
  [MessageType.RELAY_TOKEN]: [
    { type: MessageType.RELAY_TOKEN, fileId: FILE_ID, token: bytes(16, 22) },
  ],
  [MessageType.RELAY_DIAL]: [
    {
      type: MessageType.RELAY_DIAL,
      fileId: FILE_ID,
      pairingToken: bytes(16, 23),
      receiver: "",
      relay: "",
    },
    {
      type: MessageType.RELAY_DIAL,
      fileId: FILE_ID,
      pairingToken: bytes(16, 25),
      receiver: "bob",
      relay: "relay-b.example:7070",
    },
  ],
  [MessageType.RELAY_JOIN]: [{ type: MessageType.RELAY_JOIN, pairingToken: bytes(16, 24) }],
  [MessageType.CODE_OPEN]: [
    { type: MessageType.CODE_OPEN, ttlSeconds: 0 },
    { type: MessageType.CODE_OPEN, ttlSeconds: 0xffffffff },
  ],
  [MessageType.CODE_OPENED]: [
    { type: MessageType.CODE_OPENED, nameplate: 1, ttlSeconds: 600 },
    { type: MessageType.CODE_OPENED, nameplate: 999_999, ttlSeconds: 0xffffffff },
  ],
  [MessageType.CODE_CLAIM]: [
    { type: MessageType.CODE_CLAIM, nameplate: 7, payload: bytes(1, 26) },
    { type: MessageType.CODE_CLAIM, nameplate: 7, payload: bytes(2048, 27) },
  ],
  [MessageType.CODE_MAIL]: [
    { type: MessageType.CODE_MAIL, nameplate: 7, payload: bytes(64, 28) },
    { type: MessageType.CODE_MAIL, nameplate: 1, payload: bytes(2048, 29) },
  ],
  [MessageType.CODE_CLOSE]: [
    { type: MessageType.CODE_CLOSE, nameplate: 7, outcome: "done" },
    { type: MessageType.CODE_CLOSE, nameplate: 7, outcome: "failed" },
  ],
};

const ALL_TYPES = Object.values(MessageType) as number[];

function allSamples(): Message[] {
  return Object.values(SAMPLES).flat() as Message[];
}

function isBadMessage(err: unknown): boolean {
  return isSfsError(err, "BAD_MESSAGE");
}

/** A manifest page's framing: `count` entries with `pathBytes`-byte paths, from entry `first`. */
function page(first: number, count: number, pathBytes = 1): Bytes {
  const writer = new ByteWriter().u64(first).u16(count);
  for (let i = 0; i < count; i++) {
    writer.bytes16(bytes(pathBytes, 20 + i)).raw(bytes(MANIFEST_ENTRY_TAIL_BYTES, 30 + i));
  }
  return writer.finish();
}

function failure(code: string, message: string): Bytes {
  return new ByteWriter().text(code).text(message).finish();
}

Deno.test("every MessageType has a codec that round-trips", async (t) => {
  const sampled = Object.keys(SAMPLES).map(Number).sort((a, b) => a - b);
  assert.deepEqual(sampled, [...ALL_TYPES].sort((a, b) => a - b), "a message type has no sample");
  for (const [name, type] of Object.entries(MessageType)) {
    await t.step(name, () => {
      const samples = SAMPLES[type] as Message[] | undefined;
      assert.ok(samples && samples.length > 0);
      for (const sample of samples) {
        assert.equal(sample.type, type);
        const body = encodeMessage(sample);
        const decoded = decodeMessage(type, body);
        assert.deepEqual(decoded, sample);
        assert.deepEqual(encodeMessage(decoded), body);
      }
    });
  }
});

Deno.test("MessageType numbers are distinct bytes", () => {
  assert.equal(new Set(ALL_TYPES).size, ALL_TYPES.length);
  for (const type of ALL_TYPES) assert.ok(Number.isInteger(type) && type >= 1 && type <= 255);
});

Deno.test("PLAIN_TYPES are exactly HELLO, HELLO_REPLY, ABORT and RELAY_JOIN", () => {
  assert.deepEqual([...PLAIN_TYPES].sort((a, b) => a - b), [1, 2, 3, 48]);
});

Deno.test("decodeMessage() refuses a RELAY token that is neither empty nor 16 bytes", () => {
  for (const length of [1, 15, 17]) {
    const body = new Uint8Array(16 + 2 + length);
    body[17] = length;
    assert.throws(() => decodeMessage(MessageType.RELAY, body), isBadMessage, `length ${length}`);
  }
});

Deno.test("decodeMessage() refuses malformed short-code messages with BAD_MESSAGE", async (t) => {
  const mail = (nameplate: number, payload: Uint8Array) =>
    new ByteWriter().u32(nameplate).bytes16(payload).finish();
  const cases: [string, number, Uint8Array][] = [
    ["CODE_CLAIM with an empty payload", MessageType.CODE_CLAIM, mail(7, new Uint8Array())],
    ["CODE_CLAIM with 2049 payload bytes", MessageType.CODE_CLAIM, mail(7, bytes(2049))],
    ["CODE_CLAIM for nameplate 0", MessageType.CODE_CLAIM, mail(0, bytes(32))],
    ["CODE_MAIL with an empty payload", MessageType.CODE_MAIL, mail(7, new Uint8Array())],
    ["CODE_MAIL with 2049 payload bytes", MessageType.CODE_MAIL, mail(7, bytes(2049))],
    ["CODE_MAIL with a trailing byte", MessageType.CODE_MAIL, concat(mail(7, bytes(3)), bytes(1))],
    ["CODE_OPEN of 3 bytes", MessageType.CODE_OPEN, bytes(3)],
    [
      "CODE_OPENED for nameplate 0",
      MessageType.CODE_OPENED,
      new ByteWriter().u32(0).u64(1).finish(),
    ],
    ["CODE_CLOSE with outcome 2", MessageType.CODE_CLOSE, new ByteWriter().u32(7).u8(2).finish()],
    ["CODE_CLOSE for nameplate 0", MessageType.CODE_CLOSE, new ByteWriter().u32(0).u8(0).finish()],
  ];
  for (const [name, type, body] of cases) {
    await t.step(name, () => assert.throws(() => decodeMessage(type, body), isBadMessage));
  }
});

Deno.test("decodeMessage() rejects unknown types with BAD_MESSAGE", () => {
  const unknown = Array.from({ length: 257 }, (_, i) => i).filter((n) => !ALL_TYPES.includes(n));
  assert.ok(unknown.includes(0) && unknown.includes(256));
  for (const type of unknown) {
    assert.throws(() => decodeMessage(type, new Uint8Array()), isBadMessage, `type ${type}`);
  }
});

Deno.test("decodeMessage() rejects trailing bytes", () => {
  for (const sample of allSamples()) {
    const body = concat(encodeMessage(sample), Uint8Array.of(0));
    assert.throws(() => decodeMessage(sample.type, body), isBadMessage, `type ${sample.type}`);
  }
});

Deno.test("decodeMessage() rejects every truncation of a valid body", () => {
  for (const sample of allSamples()) {
    const body = encodeMessage(sample);
    for (let length = 0; length < body.length; length++) {
      assert.throws(
        () => decodeMessage(sample.type, body.subarray(0, length)),
        isBadMessage,
        `type ${sample.type} cut to ${length} of ${body.length} bytes`,
      );
    }
  }
});

Deno.test("decodeMessage() reads ERROR and ABORT codes it does not know as REMOTE_ERROR", async (t) => {
  for (const type of [MessageType.ERROR, MessageType.ABORT]) {
    await t.step(`type ${type}`, () => {
      for (const code of ["NO_SUCH_CODE", "", "not_found", "toString", "__proto__"]) {
        const decoded = decodeMessage(type, failure(code, "Something went wrong"));
        assert.deepEqual(decoded, { type, code: "REMOTE_ERROR", message: "Something went wrong" });
      }
      for (const code of Object.values(ErrorCode)) {
        assert.equal((decodeMessage(type, failure(code, "")) as { code: string }).code, code);
      }
    });
  }
});

Deno.test("decodeMessage() rejects control characters in ERROR and ABORT text", async (t) => {
  const texts: [string, string][] = [
    ["newline", "line one\nline two"],
    ["carriage return", "100%\rdone"],
    ["escape sequence", "\u001b[2Jcleared"],
    ["NUL", "a\u0000b"],
    ["DEL", "a\u007fb"],
    ["C1 CSI", "a\u009bb"],
    ["right-to-left override", "txt.\u202eexe"],
    ["first strong isolate", "a\u2068b"],
  ];
  for (const type of [MessageType.ERROR, MessageType.ABORT]) {
    for (const [name, text] of texts) {
      await t.step(`type ${type}: ${name}`, () => {
        assert.throws(() => decodeMessage(type, failure("INTERNAL", text)), isBadMessage);
      });
    }
  }
});

Deno.test("decodeMessage() enforces field limits", async (t) => {
  const hello = (options: Bytes) =>
    new ByteWriter().u16(2).bytes16(options).raw(bytes(32)).raw(bytes(32)).finish();
  const signatures = (rsa: Bytes, ed: Bytes) => new ByteWriter().bytes16(rsa).bytes16(ed).finish();
  const manifest = (name: Uint8Array, flags = 0) =>
    new ByteWriter().raw(FILE_ID).bytes16(name).u64(1).raw(SHA).u32(16384).u64(0).u8(flags)
      .u64(0).u64(0).bytes16(new Uint8Array()).bytes16(new Uint8Array()).finish();
  const want = (...ranges: [number, number][]) =>
    new ByteWriter().list(ranges, (w, [first, count]) => w.u64(first).u64(count)).finish();
  const treeGet = (flags: number) =>
    new ByteWriter().raw(FILE_ID).raw(SHA).u64(0).u64(0).u8(flags).finish();
  const cases: [string, number, Bytes][] = [
    ["HELLO options over 2048 bytes", MessageType.HELLO, hello(new Uint8Array(2049))],
    ["HELLO with options (version 2 has none)", MessageType.HELLO, hello(new Uint8Array(1))],
    [
      "INITIATOR_AUTH flags 2",
      MessageType.INITIATOR_AUTH,
      new ByteWriter().bytes16(IDENTITY).u8(2).bytes16(new Uint8Array()).bytes16(ED_SIG).finish(),
    ],
    [
      "KEY_TRANSPORT over 512 bytes",
      MessageType.KEY_TRANSPORT,
      new ByteWriter().bytes16(bytes(513)).finish(),
    ],
    ["FINAL Ed25519 signature of 63 bytes", MessageType.FINAL, signatures(RSA_SIG, bytes(63))],
    ["FINAL Ed25519 signature of 65 bytes", MessageType.FINAL, signatures(RSA_SIG, bytes(65))],
    ["FINAL RSA signature over 512 bytes", MessageType.FINAL, signatures(bytes(513), ED_SIG)],
    ["MANIFEST name over 1024 bytes", MessageType.MANIFEST, manifest(utf8("x".repeat(1025)))],
    ["MANIFEST name not UTF-8", MessageType.MANIFEST, manifest(Uint8Array.of(0x61, 0xff))],
    ["MANIFEST flags 2", MessageType.MANIFEST, manifest(utf8("a"), 2)],
    ["TREE_GET flags 2", MessageType.TREE_GET, treeGet(2)],
    [
      "TREE_MANIFEST header over its largest size",
      MessageType.TREE_MANIFEST,
      new ByteWriter().raw(FILE_ID).bytes16(bytes(MAX_MANIFEST_HEADER_BYTES + 1))
        .bytes16(new Uint8Array()).bytes16(ED_SIG).u32(16384).u64(0).u64(0).u8(1).finish(),
    ],
    [
      "MANIFEST_PAGE over 256 KiB",
      MessageType.MANIFEST_PAGE,
      concat(page(0, 85, 3072), new Uint8Array(MAX_MANIFEST_PAGE_BYTES)).subarray(
        0,
        MAX_MANIFEST_PAGE_BYTES + 1,
      ),
    ],
    [
      "MANIFEST_PAGE shorter than one entry",
      MessageType.MANIFEST_PAGE,
      page(0, 1).subarray(0, MIN_MANIFEST_PAGE_BYTES - 1),
    ],
    [
      "MANIFEST_PAGE of no entries",
      MessageType.MANIFEST_PAGE,
      concat(new ByteWriter().u64(0).u16(0).finish(), new Uint8Array(60)),
    ],
    [
      "MANIFEST_PAGE path over 3072 bytes",
      MessageType.MANIFEST_PAGE,
      page(0, 1, 3073),
    ],
    ["WANT with an empty range", MessageType.WANT, want([3, 0])],
    ["WANT ranges out of order", MessageType.WANT, want([5, 1], [2, 1])],
    ["WANT ranges overlapping", MessageType.WANT, want([0, 3], [2, 1])],
    ["WANT ranges adjacent (one range)", MessageType.WANT, want([0, 2], [2, 1])],
    ["WANT range past 2^53", MessageType.WANT, want([Number.MAX_SAFE_INTEGER, 1])],
    [
      "RECEIPT version 2",
      MessageType.RECEIPT,
      concat(Uint8Array.of(2), encodeMessage(SAMPLES[MessageType.RECEIPT]![0]).subarray(1)),
    ],
    [
      "GET offset over 2^53 − 1",
      MessageType.GET,
      concat(FILE_ID, Uint8Array.of(0, 0x20, 0, 0, 0, 0, 0, 0)),
    ],
    ["GET file id short", MessageType.GET, concat(FILE_ID.subarray(1), new Uint8Array(8))],
    ["ERROR code over 64 bytes", MessageType.ERROR, failure("X".repeat(65), "")],
    ["ERROR text over 512 bytes", MessageType.ERROR, failure("INTERNAL", "x".repeat(513))],
    [
      "ERROR text not UTF-8",
      MessageType.ERROR,
      new ByteWriter().text("INTERNAL").bytes16(Uint8Array.of(0xc3)).finish(),
    ],
    ["LIST flag byte 2", MessageType.LIST, new ByteWriter().u8(2).u16(1).u32(0).finish()],
  ];
  for (const [name, type, body] of cases) {
    await t.step(name, () => assert.throws(() => decodeMessage(type, body), isBadMessage));
  }
});

Deno.test("encodeMessage() lays out GET, RECEIPT and ERROR as the spec says", () => {
  assert.equal(
    toHex(encodeMessage({ type: MessageType.GET, fileId: FILE_ID, offset: 0x0102 })),
    toHex(FILE_ID) + "0000000000000102",
  );
  const receipt = SAMPLES[MessageType.RECEIPT]![1];
  assert.equal(
    toHex(encodeMessage(receipt)),
    "01" + toHex(FILE_ID) + toHex(new Uint8Array(32)) + toHex(bytes(32, 12)) +
      toHex(bytes(32, 13)) + "0000000000000000" + toHex(bytes(32, 14)) + "0000" + "0040" +
      toHex(ED_SIG),
  );
  assert.equal(
    toHex(encodeMessage({ type: MessageType.ERROR, code: "IO", message: "é" })),
    "0002" + "494f" + "0002" + "c3a9",
  );
});

Deno.test("decodeMessage() reads a HELLO's version before anything else", async (t) => {
  // Version 1's HELLO carried the identity where version 2 has its options: it must get
  // VERSION_MISMATCH, not BAD_MESSAGE, whatever follows the version (§6.8).
  const cases: [string, Bytes][] = [
    ["version 1 with an identity", new ByteWriter().u16(1).bytes16(IDENTITY).finish()],
    ["version 3, nothing else", new ByteWriter().u16(3).finish()],
    ["version 0 and garbage", Uint8Array.of(0, 0, 0xff)],
  ];
  for (const type of [MessageType.HELLO, MessageType.HELLO_REPLY]) {
    for (const [name, body] of cases) {
      await t.step(`type ${type}: ${name}`, () => {
        assert.throws(
          () => decodeMessage(type, body),
          (err) => isSfsError(err, "VERSION_MISMATCH"),
        );
      });
    }
  }
});
