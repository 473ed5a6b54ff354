import assert from "node:assert/strict";
import { testIdentity } from "../../tests/identities.ts";
import { HashCache } from "./hash_cache.ts";
import { prepareFile } from "./sender.ts";

/** A clock well after the test's file was written, so the hash cache accepts it. */
const LATER = () => Date.now() + 60_000;

Deno.test("prepareFile() takes the hash from the cache the second time, not after a change", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sfs-sender-cache-" });
  try {
    const path = `${dir}/notes.txt`;
    await Deno.writeTextFile(path, "x".repeat(5000));
    const identity = await testIdentity("alice");
    const cache = await HashCache.load(`${dir}/hash-cache.bin`);
    let hashed = 0;
    const options = { cache, now: LATER, onProgress: () => hashed++ };
    const cold = await prepareFile(path, identity, options);
    assert.ok(hashed > 0, "hashed the first time");
    hashed = 0;
    const warm = await prepareFile(path, identity, options);
    assert.equal(hashed, 0, "not hashed again");
    assert.deepEqual([warm.id, warm.sha256, warm.size], [cold.id, cold.sha256, cold.size]);
    await Deno.writeTextFile(path, "y".repeat(5000));
    const changed = await prepareFile(path, identity, options);
    assert.ok(hashed > 0, "a changed file (new ctime) is hashed again");
    assert.notDeepEqual(changed.sha256, cold.sha256);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
