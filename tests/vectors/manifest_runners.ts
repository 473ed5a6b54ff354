/**
 * Runner of the `manifest` vectors (docs/design/folders.md F3): the header decodes and re-encodes
 * to itself, every page is read in order and re-encodes to itself, the hash and share id come out
 * as listed, and the owner's signatures verify over the hash.
 */
import assert from "node:assert/strict";
import { LABEL } from "../../src/crypto/labels.ts";
import {
  encodeManifestHeader,
  encodeManifestPage,
  shareIdOf,
  verifyManifest,
} from "../../src/peer/manifest.ts";
import { ManifestReader } from "../../src/peer/manifest_reader.ts";
import { policyOf, signaturesOf, signerOf } from "./protocol_runners.ts";
import { assertHex, type Runner } from "./vector.ts";

/** Runners by kind. */
export const MANIFEST_RUNNERS: Record<string, Runner> = {
  manifest: async (v) => {
    const headerBytes = v.hex("header");
    const reader = new ManifestReader(headerBytes);
    assertHex(encodeManifestHeader(reader.header), headerBytes, "header encoded again");
    for (const page of v.hexAll("page")) {
      const first = reader.entriesRead;
      const entries = reader.readPage(page);
      assertHex(encodeManifestPage(first, entries), page, `page from entry ${first} encoded again`);
    }
    const hash = reader.finish();
    if (v.expect === "ok") {
      assertHex(hash, v.hex("manifest_hash"), "manifest hash");
      assertHex(await shareIdOf(reader.header, hash), v.hex("share_id"), "share id");
    }
    const signer = await signerOf(v, LABEL.MANIFEST_SIGNATURE, hash);
    assert.equal(policyOf(v), "both", "manifests are verified with both signatures");
    await verifyManifest(signer, reader.header, hash, signaturesOf(v));
  },
};
