/**
 * Runners of the tree transfer's kinds of testdata/vectors/: per-file stream keys (§7.8), a
 * single file's one-entry manifest (§7.1) and the signed RECEIPT with its stored form (§7.9).
 */
import assert from "node:assert/strict";
import { AeadKey } from "../../src/crypto/aead.ts";
import { decodePublicIdentity } from "../../src/crypto/identity.ts";
import { fileIdOf } from "../../src/crypto/file_id.ts";
import { fileKey, fileKeyBytes, payloadKdfKey } from "../../src/crypto/file_key.ts";
import { LABEL } from "../../src/crypto/labels.ts";
import { sealChunk } from "../../src/crypto/stream.ts";
import { fileManifestOf, verifyFileManifest } from "../../src/peer/file_manifest.ts";
import { verifyReceiptFile } from "../../src/peer/receipt.ts";
import {
  decodeMessage,
  encodeMessage,
  type Manifest,
  MessageType,
  type Receipt,
  receiptSignedData,
} from "../../src/wire/messages.ts";
import { signaturesOf, signerOf } from "./protocol_runners.ts";
import { assertHex, type Runner } from "./vector.ts";

/** Runner per kind. */
export const TREE_RUNNERS: Record<string, Runner> = {
  "file-key": async (v) => {
    const kdf = await payloadKdfKey(v.hex("payload_key"));
    const raw = await fileKeyBytes(kdf, v.hex("manifest_hash"), v.int("index"));
    assertHex(raw, v.hex("file_key"), "file key");
    using key = await fileKey(kdf, v.hex("manifest_hash"), v.int("index"));
    const sealed = await sealChunk(key, 0, true, new Uint8Array());
    assertHex(sealed, v.hex("empty_chunk"), "empty chunk under the file key");
    // The key as a plain AES key seals the same: the derived bytes are the key.
    using again = await AeadKey.import(raw);
    assertHex(await sealChunk(again, 0, true, new Uint8Array()), sealed, "same key");
  },

  "file-manifest": async (v) => {
    const body = v.hex("manifest_body");
    const manifest = decodeMessage(MessageType.MANIFEST, body) as Manifest;
    assertHex(encodeMessage(manifest), body, "re-encoded MANIFEST");
    const owner = await decodePublicIdentity(v.hex("signer_identity"));
    if (v.expect === "ok") {
      const built = fileManifestOf(owner.fingerprint, manifest);
      assert.ok(built, "a portable name has a manifest");
      const id = await fileIdOf(owner.fingerprint, manifest.sha256, manifest.name);
      assertHex(manifest.fileId, id, "the file id (§7.1)");
      assertHex(built.headerBytes, v.hex("header"), "header");
      assertHex(built.entryBytes, v.hex("entry"), "entry");
      assertHex(built.manifestHash, v.hex("manifest_hash"), "manifest hash");
      await signerOf(v, LABEL.MANIFEST_SIGNATURE, built.manifestHash);
      assert.deepEqual(manifest.manifestSignatures, signaturesOf(v), "the MANIFEST's signatures");
    }
    const verified = await verifyFileManifest(owner, manifest);
    assert.ok(verified, "verified");
  },

  receipt: async (v) => {
    if (v.expect === "ok") {
      const body = v.hex("receipt_body");
      const receipt = decodeMessage(MessageType.RECEIPT, body) as Receipt;
      assertHex(encodeMessage(receipt), body, "re-encoded RECEIPT");
      const data = receiptSignedData(receipt);
      assertHex(data, v.hex("receipt_data"), "what the signatures cover");
      await signerOf(v, LABEL.RECEIPT_SIGNATURE, data);
      assert.deepEqual(receipt.signatures, signaturesOf(v), "the RECEIPT's signatures");
      const { receipt: stored } = await verifyReceiptFile(v.hex("receipt_file"));
      assert.deepEqual(stored, receipt, "the stored receipt");
      return;
    }
    await verifyReceiptFile(v.hex("receipt_file"));
  },
};
