/**
 * Generates the test vectors in testdata/vectors/, one scenario per file, checked by
 * tests/vectors_test.ts. Run `deno task vectors` after changing an encoding; never edit the files
 * by hand. The wire and crypto scenarios are here; those above the wire format are in
 * ./vectors/transfer.ts (file id, FINAL data, records, tickets) and ./vectors/index_protocol.ts
 * (proofs, announcements), the shared helpers in ./vectors/common.ts and the signing owner in
 * ./vectors/signer.ts.
 *
 * File format (testdata/vectors/README.md has the field list of every kind): UTF-8 text, one
 * `key: value` per line. Line 1 is `expect: ok` or `expect: error CODE` (an SfsError code);
 * line 2 is `kind: KIND`; then `note:` (free text, ignored) and the fields. Byte strings are
 * lower-case hex (empty for zero bytes), integers decimal, flags `true` or `false`. A field may
 * repeat (the `chunk` lines of a stream), in order.
 *
 * Deterministic: every "random" byte comes from SEED through SHA-256 in counter mode, drawn
 * under a name per use, so a second run writes identical files (`git status` stays clean) and
 * adding a scenario leaves the others alone. The expected values are computed here with
 * WebCrypto and encodings built field by field from docs/PROTOCOL.md, not by the functions under
 * test (only ByteWriter and the hex/base32 helpers are shared), so a vector can catch a change
 * in that code. Some things cannot be derived from a seed through WebCrypto and are data instead:
 * the two public identities in ./vectors/common.ts and the owner's RSA-PSS key in
 * ./vectors/signer.ts (generated once and kept), and RSA-OAEP wrapped secrets, which are
 * randomised (message vectors carry opaque stand-in bytes of the right size for them, as they do
 * for signatures). Real signatures (proofs, FINAL, announcements) are made by ./vectors/signer.ts
 * without randomness: Ed25519 is deterministic, and RSA-PSS takes a salt drawn from SEED.
 */
import { type Bytes, concat, toHex, utf8 } from "../src/crypto/bytes.ts";
import { MessageType } from "../src/wire/messages.ts";
import {
  chunkNonce,
  draw,
  flip,
  formatFingerprint,
  handshakeValues,
  hexOf,
  INITIATOR_IDENTITY,
  labelled,
  RESPONDER_IDENTITY,
  type Scenario,
  seal,
  sha256,
  u64,
  w,
} from "./vectors/common.ts";
import { announcementScenarios, proofScenarios } from "./vectors/index_protocol.ts";
import { handshakeV2 } from "./vectors/handshake_v2.ts";
import { manifestScenarios } from "./vectors/manifest.ts";
import { codeScenarios } from "./vectors/code.ts";
import { fileKeyScenarios, fileManifestScenarios, receiptScenarios } from "./vectors/tree_wire.ts";
import {
  fileIdScenarios,
  finalScenarios,
  recordScenarios,
  ticketScenarios,
} from "./vectors/transfer.ts";

const OUT_DIR = new URL("../testdata/vectors/", import.meta.url);

async function handshakeScenarios(): Promise<Scenario[]> {
  const h = await handshakeValues();
  const v2 = await handshakeV2();
  const scenarios: Scenario[] = [{
    name: "key-schedule",
    expect: "ok",
    kind: "key-schedule",
    note:
      "X25519 keys from fixed seeds (PKCS#8), handshake keys from dh and H_1, application keys from dh ‖ secret and H_F (§6.5)",
    fields: [
      ["initiator_x25519_seed", v2.initiatorSeed],
      ["responder_x25519_seed", v2.responderSeed],
      ["initiator_x25519_public", v2.initiatorPublic],
      ["responder_x25519_public", v2.responderPublic],
      ["shared", v2.dh],
      ["h_1", v2.hashes.h1],
      ["handshake_initiator_key", v2.hsInitiator],
      ["handshake_responder_key", v2.hsResponder],
      ["secret", v2.secret],
      ["transcript_hash", v2.hashes.hF],
      ["responder_key", v2.responderKey],
      ["initiator_key", v2.initiatorKey],
      ["payload_key", v2.payloadKey],
    ],
  }, {
    name: "handshake-v2",
    expect: "ok",
    kind: "handshake",
    note:
      "every flight of one handshake (§6), the owner on both ends, an early GET; RSA-PSS and the OAEP-wrapped secret are randomised: the PSS signature is verified, the wrapped secret is a stand-in",
    fields: [
      ["initiator_x25519_seed", v2.initiatorSeed],
      ["responder_x25519_seed", v2.responderSeed],
      ["initiator_nonce", v2.initiatorNonce],
      ["responder_nonce", v2.responderNonce],
      ["identity", v2.identity],
      ["secret", v2.secret],
      ["flight_1_hello", v2.flights.hello],
      ["flight_2_hello_reply", v2.flights.reply],
      ["flight_2_responder_auth", v2.flights.responderAuth],
      ["flight_3_initiator_auth", v2.flights.initiatorAuth],
      ["flight_3_early_request", v2.flights.early],
      ["flight_4_key_transport", v2.flights.keyTransport],
      ["responder_auth", v2.contents.responderAuth],
      ["initiator_auth", v2.contents.initiatorAuth],
      ["early_request", v2.contents.early],
      ["key_transport", v2.contents.keyTransport],
      ["h_1", v2.hashes.h1],
      ["h_r", v2.hashes.hR],
      ["h_i", v2.hashes.hI],
      ["h_a", v2.hashes.hA],
      ["h_f", v2.hashes.hF],
      ["handshake_initiator_key", v2.hsInitiator],
      ["handshake_responder_key", v2.hsResponder],
      ["responder_key", v2.responderKey],
      ["initiator_key", v2.initiatorKey],
      ["payload_key", v2.payloadKey],
    ],
  }];
  scenarios.push(...await handshakeRecordScenarios(v2.hsResponder, v2.contents.responderAuth));
  const lowOrder: [string, string, Uint8Array][] = [
    ["zero", "the all-zero point", new Uint8Array(32)],
    ["one", "u = 1, a point of order 1", hexOf("01".padEnd(64, "0"))],
    [
      "order-8",
      "a point of order 8 (RFC 7748 §6.1 forbids all-zero results)",
      hexOf("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    ],
  ];
  for (const [name, note, peer] of lowOrder) {
    scenarios.push({
      name: `x25519-error-low-order-${name}`,
      expect: "error BAD_KEY",
      kind: "x25519",
      note: `peer public key is ${note}`,
      fields: [["private_seed", h.initiatorSeed], ["peer_public", peer]],
    });
  }
  return scenarios;
}

async function fingerprintScenarios(): Promise<Scenario[]> {
  const scenarios: Scenario[] = [];
  for (
    const [name, encoded] of [["initiator", INITIATOR_IDENTITY], [
      "responder",
      RESPONDER_IDENTITY,
    ]] as const
  ) {
    const fingerprint = await sha256(labelled("sfs/v1/fingerprint", encoded));
    scenarios.push({
      name: `fingerprint-${name}`,
      expect: "ok",
      kind: "fingerprint",
      note: `fingerprint of the fixed ${name} public identity (§4.1, §4.2)`,
      fields: [
        ["public_identity", encoded],
        ["fingerprint", fingerprint],
        ["formatted", formatFingerprint(fingerprint)],
      ],
    });
  }
  const version2 = new Uint8Array(RESPONDER_IDENTITY);
  version2[0] = 2;
  const spkiGarbage = await draw("identity/garbage-spki", 422);
  const bad: [string, string, string, Uint8Array][] = [
    ["version-2", "BAD_MESSAGE", "version byte 2", version2],
    [
      "trailing-byte",
      "BAD_MESSAGE",
      "one byte after the Ed25519 key",
      concat(RESPONDER_IDENTITY, Uint8Array.of(0)),
    ],
    ["truncated", "BAD_MESSAGE", "Ed25519 key one byte short", RESPONDER_IDENTITY.slice(0, -1)],
    [
      "spki-too-long",
      "BAD_MESSAGE",
      "OAEP key field of 1025 bytes",
      w().u8(1).bytes16(new Uint8Array(1025)).bytes16(new Uint8Array()).raw(new Uint8Array(32))
        .finish(),
    ],
    [
      "garbage-spki",
      "BAD_KEY",
      "OAEP key field holds random bytes",
      w().u8(1).bytes16(spkiGarbage).bytes16(spkiGarbage).raw(await draw("identity/ed25519", 32))
        .finish(),
    ],
  ];
  for (const [name, code, note, encoded] of bad) {
    scenarios.push({
      name: `public-identity-error-${name}`,
      expect: `error ${code}`,
      kind: "public-identity",
      note,
      fields: [["public_identity", encoded]],
    });
  }
  return scenarios;
}

async function chunkScenarios(): Promise<Scenario[]> {
  const key = (await handshakeValues()).payloadKey;
  const scenarios: Scenario[] = [];
  const cases: [string, number, boolean, number][] = [
    ["first", 0, false, 64],
    ["second-last", 1, true, 100],
    ["empty-file", 0, true, 0],
    ["index-2-40", 2 ** 40 + 5, false, 17],
    ["index-max", Number.MAX_SAFE_INTEGER, true, 1],
  ];
  for (const [name, index, last, size] of cases) {
    const plaintext = await draw(`chunk/${name}`, size);
    const nonce = chunkNonce(index, last);
    scenarios.push({
      name: `chunk-${name}`,
      expect: "ok",
      kind: "chunk",
      note: `chunk ${index}${last ? ", last" : ""}, ${size} bytes (§7.2)`,
      fields: [
        ["key", key],
        ["index", index],
        ["last", last],
        ["nonce", nonce],
        ["plaintext", plaintext],
        ["ciphertext", await seal(key, nonce, plaintext)],
      ],
    });
  }
  const plaintext = await draw("chunk/tamper", 48);
  const sealed = await seal(key, chunkNonce(1, false), plaintext);
  const otherKey = await draw("chunk/other-key", 32);
  const bad: [string, string, Uint8Array, number, boolean, Uint8Array][] = [
    ["flipped-ciphertext", "first ciphertext byte flipped", key, 1, false, flip(sealed, 0)],
    ["flipped-tag", "last tag byte flipped", key, 1, false, flip(sealed, -1)],
    ["wrong-index", "sealed as chunk 1, opened as chunk 2", key, 2, false, sealed],
    ["wrong-last", "sealed as not last, opened as last", key, 1, true, sealed],
    ["wrong-key", "opened under another key", otherKey, 1, false, sealed],
    ["no-tag", "tag cut off", key, 1, false, sealed.slice(0, -16)],
  ];
  for (const [name, note, useKey, index, last, ciphertext] of bad) {
    scenarios.push({
      name: `chunk-error-${name}`,
      expect: "error CHUNK_AUTH_FAILED",
      kind: "chunk",
      note,
      fields: [["key", useKey], ["index", index], ["last", last], ["ciphertext", ciphertext]],
    });
  }
  return scenarios;
}

async function streamScenarios(): Promise<Scenario[]> {
  const key = (await handshakeValues()).payloadKey;
  const chunkSize = 16 * 1024;
  const content = await draw("stream/content", 20);
  const empty = await seal(key, chunkNonce(0, true), new Uint8Array());
  const whole = await seal(key, chunkNonce(0, true), content);
  const notLast = await seal(key, chunkNonce(0, false), content);
  const base = (size: number, chunks: Uint8Array[]): Scenario["fields"] => [
    ["key", key],
    ["size", size],
    ["chunk_size", chunkSize],
    ...chunks.map((chunk) => ["chunk", chunk] as [string, Uint8Array]),
  ];
  return [{
    name: "stream-empty-file",
    expect: "ok",
    kind: "stream",
    note: "an empty file is one empty last chunk",
    fields: [...base(0, [empty]), ["content", new Uint8Array()]],
  }, {
    name: "stream-one-chunk",
    expect: "ok",
    kind: "stream",
    note: "a file shorter than a chunk",
    fields: [...base(content.length, [whole]), ["content", content]],
  }, {
    name: "stream-error-no-chunks",
    expect: "error TRUNCATED",
    kind: "stream",
    note: "the stream ends before its last chunk",
    fields: base(content.length, []),
  }, {
    name: "stream-error-empty-file-no-chunks",
    expect: "error TRUNCATED",
    kind: "stream",
    note: "even an empty file needs its empty last chunk",
    fields: base(0, []),
  }, {
    name: "stream-error-trailing-chunk",
    expect: "error TRAILING_DATA",
    kind: "stream",
    note: "a chunk after the last one",
    fields: base(0, [empty, empty]),
  }, {
    name: "stream-error-not-last",
    expect: "error CHUNK_AUTH_FAILED",
    kind: "stream",
    note: "chunk 0 of a longer stream, cut and passed off as the whole file",
    fields: base(content.length, [notLast]),
  }, {
    name: "stream-error-wrong-length",
    expect: "error CHUNK_AUTH_FAILED",
    kind: "stream",
    note: "the manifest says 21 bytes, the chunk holds 20",
    fields: base(content.length + 1, [whole]),
  }];
}

/** A padded handshake record (§6.3) and the ways one can be malformed. */
async function handshakeRecordScenarios(key: Bytes, content: Bytes): Promise<Scenario[]> {
  const sealRecord = async (seq: number, plaintext: Uint8Array) =>
    await seal(key, w().u32(0).u64(seq).finish(), plaintext);
  const padded = (n: number, data: Uint8Array, tail = new Uint8Array()) =>
    concat(w().u16(n).finish(), data, new Uint8Array(3072 - 2 - data.length - tail.length), tail);
  const good = padded(content.length, content);
  const base = (seq: number, body: Uint8Array): Scenario["fields"] => [
    ["key", key],
    ["sequence", seq],
    ["body", body],
  ];
  const scenarios: Scenario[] = [{
    name: "handshake-record",
    expect: "ok",
    kind: "handshake-record",
    note: "RESPONDER_AUTH padded to 3072 bytes and sealed as hs_R #0",
    fields: [...base(0, await sealRecord(0, good)), ["content", content]],
  }];
  const bad: [string, string, number, Bytes][] = [
    [
      "padding-nonzero",
      "BAD_MESSAGE",
      0,
      await sealRecord(0, padded(content.length, content, Uint8Array.of(1))),
    ],
    ["n-0", "BAD_MESSAGE", 0, await sealRecord(0, padded(0, new Uint8Array()))],
    [
      "n-3071",
      "BAD_MESSAGE",
      0,
      await sealRecord(0, concat(w().u16(3071).finish(), new Uint8Array(3070))),
    ],
    ["length-3087", "BAD_MESSAGE", 0, (await sealRecord(0, good)).slice(0, -1)],
    ["wrong-seq", "DECRYPT_FAILED", 1, await sealRecord(0, good)],
  ];
  for (const [name, code, seq, body] of bad) {
    scenarios.push({
      name: `handshake-record-error-${name}`,
      expect: `error ${code}`,
      kind: "handshake-record",
      note: `${name.replaceAll("-", " ")}, opened as sequence ${seq}`,
      fields: base(seq, body),
    });
  }
  return scenarios;
}

/** Hand-built message bodies, by type number (§9.3). Every MessageType needs at least one. */
async function messageSamples(): Promise<Map<number, [string, Bytes][]>> {
  const v2 = await handshakeV2();
  const rsaSig = await draw("message/rsa-signature", 384);
  const edSig = await draw("message/ed25519-signature", 64);
  const fileId = await draw("message/file-id", 16);
  const sha = await draw("message/sha256", 32);
  const sigs = (rsa: Uint8Array, ed: Uint8Array) => w().bytes16(rsa).bytes16(ed).finish();
  const both = sigs(rsaSig, edSig);
  const none = new Uint8Array();
  const samples: [number, string, Bytes][] = [
    [1, "hello", v2.contents.hello.subarray(1)],
    [2, "hello-reply", v2.contents.reply.subarray(1)],
    [4, "responder-auth", v2.contents.responderAuth.subarray(1)],
    [4, "responder-auth-ed25519-only", w().bytes16(v2.identity).raw(sigs(none, edSig)).finish()],
    [5, "initiator-auth", v2.contents.initiatorAuth.subarray(1)],
    [6, "key-transport", v2.contents.keyTransport.subarray(1)],
    [3, "abort", w().text("REFUSED").text("Not on the allow list").finish()],
    [16, "get", w().raw(fileId).u64(0).finish()],
    [16, "get-resume", w().raw(fileId).u64(3 * 1024 * 1024).finish()],
    [
      17,
      "manifest",
      // Version 2 (§7.1): flags, mtime, created at and the one-entry manifest's signatures.
      concat(
        w().raw(fileId).text("holiday photo ✓.jpg").u64(5 * 1024 * 1024 + 7).raw(sha).u32(
          1024 * 1024,
        ).u64(0).u8(1).u64(1_789_999_999_123).u64(1_790_000_000_000).finish(),
        both,
      ),
    ],
    [
      17,
      "manifest-name-bom",
      // A leading U+FEFF is text like any other: it must survive the round trip.
      concat(
        w().raw(fileId).text("\ufeffnotes.txt").u64(0).raw(sha).u32(16 * 1024).u64(0).u8(0)
          .u64(0).u64(1_790_000_000_000).finish(),
        both,
      ),
    ],
    [
      17,
      "manifest-unsigned",
      // A name that cannot be a manifest path (`a:b`) comes with no signatures (§7.1).
      concat(
        w().raw(fileId).text("a:b.txt").u64(3).raw(sha).u32(16 * 1024).u64(0).u8(0).u64(0)
          .u64(1_790_000_000_000).finish(),
        sigs(none, none),
      ),
    ],
    [18, "final", both],
    [18, "final-rsa-only", sigs(rsaSig, none)],
    [
      19,
      "receipt",
      concat(
        w().u8(1).raw(fileId).raw(sha).raw(await draw("message/sender", 32))
          .raw(await draw("message/receiver", 32)).u64(1_790_000_123_456).raw(v2.hashes.hF)
          .finish(),
        both,
      ),
    ],
    [21, "tree-get", w().raw(fileId).raw(new Uint8Array(32)).u64(0).u64(0).u8(0).finish()],
    [21, "tree-get-resume", w().raw(fileId).raw(sha).u64(41).u64(512 * 1024).u8(1).finish()],
    [
      22,
      "tree-manifest",
      concat(
        w().raw(fileId).bytes16(await draw("message/manifest-header", 80)).finish(),
        both,
        w().u32(256 * 1024).u64(0).u64(0).u8(1).finish(),
      ),
    ],
    [
      23,
      "manifest-page",
      w().u64(0).u16(2).text("docs").u8(2).u8(0).u64(0).u64(0).raw(new Uint8Array(32))
        .text("docs/a.txt").u8(1).u8(0).u64(5).u64(1_789_999_999_123).raw(sha).finish(),
    ],
    [24, "want", w().u16(2).u64(1).u64(3).u64(7).u64(1).finish()],
    [24, "want-nothing", w().u16(0).finish()],
    [20, "error", w().text("NOT_FOUND").text("No file with that id").finish()],
    [32, "register", concat(w().text("alice").text("correct horse").finish(), both)],
    [33, "login", concat(w().text("alice").text("correct horse").u8(1).finish(), both)],
    [34, "auth", concat(w().text("alice").finish(), sigs(none, edSig))],
    [35, "ok", new Uint8Array()],
    [36, "user-keys", w().u16(2).text("alice").text("bob").finish()],
    [37, "user-keys-reply", w().u16(1).text("bob").bytes16(RESPONDER_IDENTITY).finish()],
    [38, "announce", concat(w().bytes16(await draw("message/announcement", 120)).finish(), both)],
    [39, "heartbeat", new Uint8Array()],
    [40, "unshare", fileId],
    [41, "search", w().text("holiday").u16(20).u32(40).finish()],
    [42, "list", w().u8(1).u16(100).u32(0).finish()],
    [43, "resolve", w().text(toHex(fileId)).finish()],
    [
      44,
      "listings",
      concat(
        w().u16(1).bytes16(await draw("message/announcement", 120)).finish(),
        both,
        w().bytes16(RESPONDER_IDENTITY).u8(1).u64(1_790_000_000_000).finish(),
      ),
    ],
    [45, "relay", w().raw(fileId).bytes16(sha.subarray(0, 16)).finish()],
    [45, "relay-no-token", w().raw(fileId).u16(0).finish()],
    [46, "relay-token", concat(fileId, sha.subarray(16, 32))],
    [47, "relay-dial", concat(fileId, sha.subarray(0, 16), w().text("bob").text("").finish())],
    [
      47,
      "relay-dial-anonymous",
      concat(fileId, sha.subarray(0, 16), w().text("").text("").finish()),
    ],
    // A sender on another server of the index dials this relay address (§13.7).
    [
      47,
      "relay-dial-other-server",
      concat(fileId, sha.subarray(0, 16), w().text("bob").text("relay-b.example:7070").finish()),
    ],
    [48, "relay-join", sha.subarray(16, 32)],
    // Short codes (§14.5): the payloads are opaque to the index, here stand-in bytes.
    [49, "code-open", w().u32(600).finish()],
    [49, "code-open-default-ttl", w().u32(0).finish()],
    [50, "code-opened", w().u32(7).u32(600).finish()],
    [51, "code-claim", w().u32(7).bytes16(await draw("message/code-payload", 64)).finish()],
    [
      51,
      "code-claim-largest",
      w().u32(7).bytes16(await draw("message/code-payload-largest", 2048)).finish(),
    ],
    [52, "code-mail", w().u32(7).bytes16(await draw("message/code-mail", 96)).finish()],
    [53, "code-close-done", w().u32(7).u8(0).finish()],
    [53, "code-close-failed", w().u32(7).u8(1).finish()],
  ];
  const byType = new Map<number, [string, Bytes][]>();
  for (const [type, name, body] of samples) {
    byType.set(type, [...byType.get(type) ?? [], [name, body]]);
  }
  const missing = (Object.entries(MessageType) as [string, number][]).filter(([, type]) =>
    !byType.has(type)
  );
  if (missing.length > 0) {
    throw new Error(`No message vector for ${missing.map(([name]) => name).join(", ")}: add one`);
  }
  return byType;
}

async function messageScenarios(): Promise<Scenario[]> {
  const scenarios: Scenario[] = [];
  const v1Identity = INITIATOR_IDENTITY;
  for (const [type, samples] of await messageSamples()) {
    for (const [name, body] of samples) {
      scenarios.push({
        name: `message-${String(type).padStart(2, "0")}-${name}`,
        expect: "ok",
        kind: "message",
        note: `${name.replaceAll("-", " ")} body (§9.3)`,
        fields: [["type", type], ["body", body]],
      });
    }
  }
  const fileId = await draw("message/file-id", 16);
  const sha = await draw("message/sha256", 32);
  const edSig = await draw("message/ed25519-signature", 64);
  const get = w().raw(fileId).u64(0).finish();
  const manifest = (name: Uint8Array, flags = 0) =>
    w().raw(fileId).bytes16(name).u64(1).raw(sha).u32(16 * 1024).u64(0).u8(flags).u64(0).u64(0)
      .u16(0).u16(0).finish();
  const want = (...ranges: [number, number][]) =>
    w().list(ranges, (writer, [first, count]) => writer.u64(first).u64(count)).finish();
  scenarios.push({
    name: "message-20-error-unknown-code",
    expect: "ok",
    kind: "message",
    note: "an error code this version does not know reads as REMOTE_ERROR",
    fields: [
      ["type", 20],
      ["body", w().text("SOMETHING_NEW").text("From the future").finish()],
      ["canonical", w().text("REMOTE_ERROR").text("From the future").finish()],
    ],
  });
  const bad: [string, string, number, Uint8Array][] = [
    ["unknown-type-0", "type 0 is not a message", 0, new Uint8Array()],
    ["unknown-type-7", "type 7 is not a message", 7, new Uint8Array()],
    ["unknown-type-255", "type 255 is not a message", 255, new Uint8Array()],
    ["get-trailing-byte", "a byte after the offset", 16, concat(get, Uint8Array.of(0))],
    ["get-truncated", "offset one byte short", 16, get.slice(0, -1)],
    ["get-offset-2-53", "offset 2^53, above 2^53 − 1", 16, concat(fileId, u64(2n ** 53n))],
    ["get-offset-2-64", "offset 2^64 − 1", 16, concat(fileId, u64(2n ** 64n - 1n))],
    [
      "hello-options",
      "a version 2 HELLO with a non-empty options field",
      1,
      w().u16(2).bytes16(new Uint8Array(1)).raw(new Uint8Array(64)).finish(),
    ],
    [
      "initiator-auth-flags-2",
      "INITIATOR_AUTH flags with a reserved bit set",
      5,
      w().bytes16(new Uint8Array(10)).u8(2).bytes16(new Uint8Array()).bytes16(edSig).finish(),
    ],
    [
      "key-transport-too-long",
      "wrapped secret of 513 bytes",
      6,
      w().bytes16(new Uint8Array(513)).finish(),
    ],
    ["manifest-name-not-utf8", "name holds the byte 0xff", 17, manifest(Uint8Array.of(0x61, 0xff))],
    [
      "manifest-name-overlong",
      "name encodes '/' as 0xc0 0xaf",
      17,
      manifest(Uint8Array.of(0xc0, 0xaf)),
    ],
    ["manifest-name-too-long", "name of 1025 bytes", 17, manifest(utf8("n".repeat(1025)))],
    [
      "final-ed25519-63-bytes",
      "Ed25519 signature of 63 bytes",
      18,
      w().bytes16(new Uint8Array()).bytes16(edSig.slice(1)).finish(),
    ],
    [
      "final-rsa-too-long",
      "RSA signature of 513 bytes",
      18,
      w().bytes16(new Uint8Array(513)).bytes16(edSig).finish(),
    ],
    [
      "receipt-short",
      "a version 1 receipt cut after its share id",
      19,
      w().u8(1).raw(fileId).finish(),
    ],
    [
      "receipt-version-2",
      "receipt version 2",
      19,
      concat(
        w().u8(2).raw(fileId).raw(sha).raw(sha).raw(sha).u64(0).raw(sha).finish(),
        w().u16(0).bytes16(edSig).finish(),
      ),
    ],
    ["manifest-flags-2", "MANIFEST flags with a reserved bit set", 17, manifest(utf8("a"), 2)],
    [
      "tree-get-flags-2",
      "TREE_GET flags with a reserved bit set",
      21,
      w().raw(fileId).raw(sha).u64(0).u64(0).u8(2).finish(),
    ],
    [
      "tree-manifest-header-316",
      "TREE_MANIFEST header of 316 bytes, one over the largest",
      22,
      concat(
        w().raw(fileId).bytes16(new Uint8Array(316)).finish(),
        w().u16(0).bytes16(edSig).u32(16384).u64(0).u64(0).u8(1).finish(),
      ),
    ],
    [
      "manifest-page-empty",
      "MANIFEST_PAGE of no entries",
      23,
      concat(w().u64(0).u16(0).finish(), new Uint8Array(60)),
    ],
    [
      "manifest-page-cut",
      "MANIFEST_PAGE announcing two entries, holding one",
      23,
      w().u64(0).u16(2).text("a").u8(1).u8(0).u64(0).u64(0).raw(sha).finish(),
    ],
    [
      "want-adjacent",
      "WANT ranges 0+2 and 2+1 (one range written as two)",
      24,
      want([0, 2], [2, 1]),
    ],
    ["want-descending", "WANT ranges out of order", 24, want([5, 1], [2, 1])],
    ["want-empty-range", "WANT range of zero entries", 24, want([3, 0])],
    [
      "error-escape",
      "error text holds an escape sequence",
      20,
      w().text("INTERNAL").text("\u001b[2J").finish(),
    ],
    [
      "error-bidi",
      "error text holds a right-to-left override",
      20,
      w().text("INTERNAL").text("a\u202eb").finish(),
    ],
    [
      "error-code-too-long",
      "error code of 65 bytes",
      20,
      w().text("E".repeat(65)).text("").finish(),
    ],
    [
      "abort-text-too-long",
      "abort text of 513 bytes",
      3,
      w().text("BUSY").text("x".repeat(513)).finish(),
    ],
    ["list-flag-2", "flag byte 2", 42, w().u8(2).u16(1).u32(0).finish()],
    ["code-claim-empty", "CODE_CLAIM with an empty payload", 51, w().u32(7).u16(0).finish()],
    [
      "code-mail-too-long",
      "CODE_MAIL payload of 2049 bytes",
      52,
      w().u32(7).bytes16(new Uint8Array(2049)).finish(),
    ],
    [
      "code-claim-nameplate-0",
      "nameplate 0 names none",
      51,
      w().u32(0).bytes16(Uint8Array.of(1)).finish(),
    ],
    ["code-close-outcome-2", "CODE_CLOSE outcome byte 2", 53, w().u32(7).u8(2).finish()],
    [
      "code-opened-nameplate-1000000",
      "nameplate over six digits",
      50,
      w().u32(1_000_000).u32(600).finish(),
    ],
  ];
  for (const [name, note, type, body] of bad) {
    scenarios.push({
      name: `message-error-${name}`,
      expect: "error BAD_MESSAGE",
      kind: "message",
      note,
      fields: [["type", type], ["body", body]],
    });
  }
  // The version is read first (§6.8): a version 1 HELLO, identity and all, is a version refusal.
  const versions: [string, string, number, Uint8Array][] = [
    [
      "hello-version-1",
      "a version 1 HELLO with its identity",
      1,
      w().u16(1).bytes16(v1Identity).raw(new Uint8Array(64)).finish(),
    ],
    [
      "hello-reply-version-1",
      "a version 1 HELLO_REPLY",
      2,
      w().u16(1).bytes16(v1Identity).raw(new Uint8Array(64)).bytes16(new Uint8Array(384)).finish(),
    ],
    ["hello-version-3", "version 3 and nothing else", 1, w().u16(3).finish()],
  ];
  for (const [name, note, type, body] of versions) {
    scenarios.push({
      name: `message-error-${name}`,
      expect: "error VERSION_MISMATCH",
      kind: "message",
      note,
      fields: [["type", type], ["body", body]],
    });
  }
  return scenarios;
}

function frameScenarios(): Scenario[] {
  const header = (length: number, kind: number) => w().u32(length).u8(kind).finish();
  const ok: [string, number, number, Uint8Array, string][] = [
    ["plain", 8192, 1, Uint8Array.of(1, 0, 1), "a PLAIN frame"],
    ["sealed-at-limit", 32, 2, new Uint8Array(32).fill(0xab), "a body exactly at the limit"],
    ["chunk-empty-body", 100, 3, new Uint8Array(), "length 1: the kind byte alone"],
  ];
  const scenarios: Scenario[] = ok.map(([name, maxBody, kind, body, note]) => ({
    name: `frame-${name}`,
    expect: "ok",
    kind: "frame",
    note,
    fields: [
      ["max_body", maxBody],
      ["bytes", concat(header(body.length + 1, kind), body)],
      ["frame_kind", kind],
      ["body", body],
    ],
  }));
  const bad: [string, string, number, Uint8Array, string][] = [
    [
      "oversized-4-gib",
      "FRAME_TOO_LARGE",
      8192,
      header(0xffffffff, 2),
      "length 0xffffffff, no body",
    ],
    [
      "over-limit",
      "FRAME_TOO_LARGE",
      32,
      concat(header(34, 2), new Uint8Array(33)),
      "body one byte over",
    ],
    ["zero-length", "BAD_FRAME", 8192, header(0, 1), "length 0"],
    ["kind-0", "BAD_FRAME", 8192, concat(header(2, 0), Uint8Array.of(0)), "unknown kind 0"],
    ["kind-4", "BAD_FRAME", 8192, concat(header(2, 4), Uint8Array.of(0)), "unknown kind 4"],
    [
      "cut-header",
      "CONNECTION_CLOSED",
      8192,
      Uint8Array.of(0, 0, 0),
      "input ends inside the header",
    ],
    [
      "cut-body",
      "CONNECTION_CLOSED",
      8192,
      concat(header(9, 1), new Uint8Array(4)),
      "input ends inside the body",
    ],
  ];
  for (const [name, code, maxBody, bytes, note] of bad) {
    scenarios.push({
      name: `frame-error-${name}`,
      expect: `error ${code}`,
      kind: "frame",
      note,
      fields: [["max_body", maxBody], ["bytes", bytes]],
    });
  }
  return scenarios;
}

function render(scenario: Scenario): string {
  const lines = [`expect: ${scenario.expect}`, `kind: ${scenario.kind}`, `note: ${scenario.note}`];
  for (const [key, value] of scenario.fields) {
    lines.push(`${key}: ${value instanceof Uint8Array ? toHex(value) : String(value)}`.trimEnd());
  }
  return lines.join("\n") + "\n";
}

/** Every vector file this script writes, by file name, in order. */
export async function vectorFiles(): Promise<Map<string, string>> {
  const scenarios = [
    ...await handshakeScenarios(),
    ...await fingerprintScenarios(),
    ...await chunkScenarios(),
    ...await streamScenarios(),
    ...await messageScenarios(),
    ...frameScenarios(),
    ...await fileIdScenarios(),
    ...await finalScenarios(),
    ...await recordScenarios(),
    ...await ticketScenarios(),
    ...await proofScenarios(),
    ...await announcementScenarios(),
    ...await manifestScenarios(),
    ...await codeScenarios(),
    ...await fileKeyScenarios(),
    ...await fileManifestScenarios(),
    ...await receiptScenarios(),
  ];
  const files = new Map(scenarios.map((s) => [`${s.name}.txt`, render(s)]));
  if (files.size !== scenarios.length) throw new Error("Two scenarios share a name");
  return files;
}

async function main(): Promise<void> {
  const files = await vectorFiles();
  await Deno.mkdir(OUT_DIR, { recursive: true });
  // Files of scenarios that no longer exist go, so the folder always matches this script.
  for await (const entry of Deno.readDir(OUT_DIR)) {
    if (entry.isFile && entry.name.endsWith(".txt") && !files.has(entry.name)) {
      await Deno.remove(new URL(entry.name, OUT_DIR));
    }
  }
  let written = 0;
  for (const [name, text] of files) {
    const url = new URL(name, OUT_DIR);
    const old = await Deno.readTextFile(url).catch(() => undefined);
    if (old !== text) {
      await Deno.writeTextFile(url, text);
      written++;
    }
  }
  console.log(`${files.size} vectors in ${OUT_DIR.pathname} (${written} changed)`);
}

if (import.meta.main) await main();
