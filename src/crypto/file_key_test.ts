import assert from "node:assert/strict";
import { isSfsError } from "../errors.ts";
import { toHex } from "./bytes.ts";
import { fileKeyBytes, payloadKdfKey } from "./file_key.ts";

Deno.test("fileKeyBytes() gives every entry and every manifest its own key", async () => {
  const kdf = await payloadKdfKey(new Uint8Array(32).fill(7));
  const otherConnection = await payloadKdfKey(new Uint8Array(32).fill(8));
  const manifest = new Uint8Array(32).fill(1);
  const keys = [
    await fileKeyBytes(kdf, manifest, 0),
    await fileKeyBytes(kdf, manifest, 1),
    await fileKeyBytes(kdf, manifest, 2 ** 32),
    await fileKeyBytes(kdf, new Uint8Array(32).fill(2), 0),
    await fileKeyBytes(otherConnection, manifest, 0),
  ];
  assert.equal(new Set(keys.map(toHex)).size, keys.length);
  assert.equal(toHex(await fileKeyBytes(kdf, manifest, 1)), toHex(keys[1]), "deterministic");
});

Deno.test("fileKeyBytes() refuses an index that is not a u64", async () => {
  const kdf = await payloadKdfKey(new Uint8Array(32));
  for (const index of [-1, 0.5, Number.MAX_SAFE_INTEGER + 1]) {
    await assert.rejects(
      fileKeyBytes(kdf, new Uint8Array(32), index),
      (e) => isSfsError(e, "INTERNAL"),
    );
  }
});
