/**
 * Both AEAD backends against Wycheproof's AES-GCM vectors (testdata/wycheproof/README.md):
 * every vector with the parameters the sfs wire format uses, valid ones byte for byte, invalid
 * ones rejected.
 */
import assert from "node:assert/strict";
import { isSfsError } from "../errors.ts";
import { AeadKey } from "../crypto/aead.ts";
import { type Bytes, fromHex, toHex } from "../crypto/bytes.ts";
import { bothBackends, NO_OPENSSL } from "./test_backends.ts";

const FILE = new URL("../../testdata/wycheproof/aes_gcm_test.json", import.meta.url);

interface WycheproofTest {
  tcId: number;
  comment: string;
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
  result: "valid" | "invalid";
}

interface WycheproofGroup {
  keySize: number;
  ivSize: number;
  tagSize: number;
  tests: WycheproofTest[];
}

/**
 * The vectors sfs can meet: AES-256, 96-bit IV, 128-bit tag (docs/PROTOCOL.md §7). Other sizes
 * never occur on the wire and AeadKey refuses them before any backend runs.
 */
async function usableVectors(): Promise<{ used: WycheproofTest[]; skipped: number }> {
  const file = JSON.parse(await Deno.readTextFile(FILE)) as { testGroups: WycheproofGroup[] };
  const used: WycheproofTest[] = [];
  let skipped = 0;
  for (const group of file.testGroups) {
    if (group.keySize === 256 && group.ivSize === 96 && group.tagSize === 128) {
      used.push(...group.tests);
    } else {
      skipped += group.tests.length;
    }
  }
  return { used, skipped };
}

function hex(text: string): Bytes {
  const bytes = fromHex(text);
  assert.ok(bytes, `not hex: ${text}`);
  return bytes;
}

Deno.test({
  name: "AeadKey on each backend passes every AES-256-GCM Wycheproof vector it can meet",
  ignore: NO_OPENSSL,
  fn: async (t) => {
    const { used, skipped } = await usableVectors();
    // 66 in the vendored file; a filter that matched nothing must not pass quietly.
    assert.equal(used.length, 66, "vectors with a 256-bit key, 96-bit IV and 128-bit tag");
    assert.ok(used.some((v) => v.result === "invalid"), "some invalid vectors");
    for (const backend of bothBackends()) {
      await t.step(`${backend.name}: ${used.length} used, ${skipped} skipped`, async () => {
        for (const v of used) {
          const what = `tcId ${v.tcId} (${v.comment || "no comment"})`;
          using key = await AeadKey.import(hex(v.key), { backend });
          const nonce = hex(v.iv);
          const aad = v.aad === "" ? undefined : hex(v.aad);
          const sealed = hex(v.ct + v.tag);
          if (v.result === "valid") {
            const msg = hex(v.msg);
            assert.equal(toHex(await key.seal(nonce, msg, { aad })), v.ct + v.tag, what);
            assert.equal(toHex(await key.open(nonce, sealed, { aad })), v.msg, what);
          } else {
            await assert.rejects(
              key.open(nonce, sealed, { aad }),
              (err) => isSfsError(err, "DECRYPT_FAILED"),
              what,
            );
          }
        }
      });
    }
  },
});
