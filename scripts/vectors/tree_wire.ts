/**
 * Vectors for the tree transfer's crypto and signed records (docs/PROTOCOL.md §7.1, §7.8, §7.9):
 * per-file stream keys, the one-entry manifest a single file's MANIFEST carries, and the signed
 * RECEIPT with its stored form. Built field by field from the spec with WebCrypto, like the rest
 * (see scripts/gen_vectors.ts); signatures come from ./signer.ts (the "owner" signs receipts too:
 * any identity can be a receiver).
 */
import { type Bytes, concat, utf8 } from "../../src/crypto/bytes.ts";
import {
  chunkNonce,
  draw,
  fileId,
  flip,
  INITIATOR_IDENTITY,
  labelled,
  type Scenario,
  seal,
  sha256,
  w,
} from "./common.ts";
import { handshakeV2 } from "./handshake_v2.ts";
import { ownerIdentity, ownerSign, signatureFields, signerFields } from "./signer.ts";

/** §7.8: HKDF(ikm = payload key, salt = manifest hash, info = label ‖ u64 i), 32 bytes. */
async function fileKey(payloadKey: Uint8Array, manifestHash: Uint8Array, index: bigint) {
  const ikm = await crypto.subtle.importKey("raw", new Uint8Array(payloadKey), "HKDF", false, [
    "deriveBits",
  ]);
  const info = concat(utf8("sfs/v2/key/file"), w().raw(u64Bytes(index)).finish());
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(manifestHash), info },
    ikm,
    256,
  );
  return new Uint8Array(bits);
}

function u64Bytes(value: bigint): Bytes {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value);
  return out;
}

/** Per-file keys from the key schedule's payload key, and an empty file's chunk under one. */
export async function fileKeyScenarios(): Promise<Scenario[]> {
  const payloadKey = (await handshakeV2()).payloadKey;
  const manifestHash = await draw("file-key/manifest-hash", 32);
  const scenarios: Scenario[] = [];
  for (const [suffix, index] of [["entry-0", 0n], ["entry-2-40", 2n ** 40n]] as const) {
    const key = await fileKey(payloadKey, manifestHash, index);
    scenarios.push({
      name: `file-key-${suffix}`,
      expect: "ok",
      kind: "file-key",
      note: `the stream key of manifest entry ${index} (§7.8), and an empty file's one chunk`,
      fields: [
        ["payload_key", payloadKey],
        ["manifest_hash", manifestHash],
        ["index", Number(index)],
        ["file_key", key],
        ["empty_chunk", await seal(key, chunkNonce(0, true), new Uint8Array())],
      ],
    });
  }
  return scenarios;
}

/** The one-entry manifest (F3.1, F3.2) of a single file, and its hash (F3.4). */
async function oneEntry(
  fingerprint: Uint8Array,
  f: { name: string; size: number; sha256: Uint8Array; flags: number; mtime: number; at: number },
) {
  const header = w().u8(1).raw(fingerprint).text(f.name).u8(1).u64(f.at).u64(1).u64(f.size)
    .finish();
  const entry = w().text(f.name).u8(1).u8(f.flags).u64(f.size).u64(f.mtime).raw(f.sha256).finish();
  return { header, entry, hash: await sha256(labelled("sfs/v1/manifest", header, entry)) };
}

/** §7.1: the MANIFEST body, version 2: the fields, then the one-entry manifest's. */
function manifestBody(
  id: Uint8Array,
  f: { name: string; size: number; sha256: Uint8Array; flags: number; mtime: number; at: number },
  signatures: Uint8Array,
): Bytes {
  return concat(
    w().raw(id).text(f.name).u64(f.size).raw(f.sha256).u32(256 * 1024).u64(0).u8(f.flags)
      .u64(f.mtime).u64(f.at).finish(),
    signatures,
  );
}

/** A single file's MANIFEST with its signed one-entry manifest, and two it must refuse. */
export async function fileManifestScenarios(): Promise<Scenario[]> {
  const owner = await ownerIdentity();
  const file = {
    name: "holiday.mov",
    size: 3 * 256 * 1024 + 5,
    sha256: await draw("file-manifest/sha256", 32),
    flags: 1,
    mtime: 1_789_999_999_123,
    at: 1_790_000_000_000,
  };
  const id = await fileId(owner.fingerprint, file.sha256, file.name);
  const { header, entry, hash } = await oneEntry(owner.fingerprint, file);
  const signed = await ownerSign("sfs/v1/manifest-signature", hash);
  const sigs = w().bytes16(signed.rsa).bytes16(signed.ed25519).finish();
  const flippedSigs = w().bytes16(signed.rsa).bytes16(flip(signed.ed25519, 0)).finish();
  const unportable = { ...file, name: "CON.mov" };
  return [{
    name: "file-manifest-executable",
    expect: "ok",
    kind: "file-manifest",
    note: "an executable file's MANIFEST and the one-entry manifest it signs (§7.1)",
    fields: [
      ...await signerFields(),
      ["manifest_body", manifestBody(id, file, sigs)],
      ["header", header],
      ["entry", entry],
      ["manifest_hash", hash],
      ["signed", signed.signed],
      ...signatureFields(signed),
    ],
  }, {
    name: "file-manifest-error-flipped-ed25519",
    expect: "error BAD_SIGNATURE",
    kind: "file-manifest",
    note: "the one-entry manifest's Ed25519 signature with one bit flipped",
    fields: [["signer_identity", owner.identity], [
      "manifest_body",
      manifestBody(id, file, flippedSigs),
    ]],
  }, {
    name: "file-manifest-error-unportable-signed",
    expect: "error BAD_MESSAGE",
    kind: "file-manifest",
    note: "a signature for a name that cannot be a manifest path (a Windows device name)",
    fields: [
      ["signer_identity", owner.identity],
      ["manifest_body", manifestBody(id, unportable, sigs)],
    ],
  }];
}

/** A signed RECEIPT (§7.9), its stored form, and stored forms that must fail. */
export async function receiptScenarios(): Promise<Scenario[]> {
  const receiver = await ownerIdentity();
  const transcriptHash = (await handshakeV2()).hashes.hF;
  const fields = w().u8(1).raw(await draw("receipt/share-id", 16))
    .raw(await draw("receipt/manifest-hash", 32)).raw(await draw("receipt/sender", 32))
    .raw(receiver.fingerprint).u64(1_790_000_123_456).raw(transcriptHash).finish();
  const signed = await ownerSign("sfs/v2/receipt-signature", fields);
  const body = concat(fields, w().bytes16(signed.rsa).bytes16(signed.ed25519).finish());
  const stored = (identity: Uint8Array, b: Uint8Array) =>
    concat(utf8("sfs-receipt\n"), w().bytes16(identity).finish(), b);
  const bad = (suffix: string, code: string, note: string, file: Uint8Array): Scenario => ({
    name: `receipt-error-${suffix}`,
    expect: `error ${code}`,
    kind: "receipt",
    note,
    fields: [["receipt_file", file]],
  });
  const flipped = concat(fields, w().bytes16(signed.rsa).bytes16(flip(signed.ed25519, 0)).finish());
  return [
    {
      name: "receipt-signed",
      expect: "ok",
      kind: "receipt",
      note: "a receiver's signed RECEIPT body and its stored form (§7.9)",
      fields: [
        ...await signerFields(),
        ["receipt_body", body],
        ["receipt_data", fields],
        ["signed", signed.signed],
        ...signatureFields(signed),
        ["receipt_file", stored(receiver.identity, body)],
      ],
    },
    bad(
      "flipped-ed25519",
      "BAD_SIGNATURE",
      "stored receipt whose Ed25519 signature has one bit flipped",
      stored(receiver.identity, flipped),
    ),
    bad(
      "other-identity",
      "KEY_MISMATCH",
      "stored with another identity in front than the receiver it names",
      stored(INITIATOR_IDENTITY, body),
    ),
    bad(
      "trailing-byte",
      "BAD_MESSAGE",
      "stored receipt with a byte after its signatures",
      concat(stored(receiver.identity, body), Uint8Array.of(0)),
    ),
  ];
}
