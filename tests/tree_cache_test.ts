/**
 * A record planted in the hash cache (docs/SECURITY.md, "Folders and proofs of origin";
 * docs/design/folders.md F8) makes the owner sign a wrong hash, and no transfer of that file can
 * complete: the sender refuses it when it hashes what it sends (a file shared right after it
 * changed), the receiver when the sender trusts the file's settled stamp (content_stamp.ts).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { startSfs, tempDir } from "./harness.ts";
import { testHome } from "./identities.ts";
import { errorOf, get, listTree, waitUntilSettled } from "./peers.ts";
import { HASH_CACHE_FILE, HashCache } from "../src/peer/hash_cache.ts";

for (const settled of [false, true]) {
  const refusal = settled ? "HASH_MISMATCH" : "FILE_CHANGED";
  Deno.test(`a hash planted in the sender's cache makes the transfer fail ${refusal}, nothing kept`, async () => {
    await using dir = await tempDir();
    const alice = await testHome(dir.path, "alice");
    const bob = await testHome(dir.path, "bob");
    const source = join(dir.path, "papers");
    await Deno.mkdir(source);
    await Deno.writeTextFile(join(source, "a.txt"), "what the file holds");
    await Deno.writeTextFile(join(source, "b.txt"), "an honest neighbour");
    if (settled) await waitUntilSettled(join(source, "a.txt"));
    // A record for a.txt's very (device, inode, size, times) with the hash of other content.
    const cache = await HashCache.load(join(alice, HASH_CACHE_FILE));
    const forged = createHash("sha256").update("what the owner never wrote").digest();
    cache.set(await Deno.stat(join(source, "a.txt")), forged, Date.now() + 60_000);
    await cache.save();

    await using sender = startSfs(["send", source, "--listen", "127.0.0.1:0", "--json"], {
      home: alice,
    });
    const ready = await sender.nextEvent((e) => e.event === "ready", 60_000);
    const hashing = sender.events.filter((e) => e.event === "hashing").at(-1);
    assert.equal(hashing?.cached_files, 1, JSON.stringify(hashing));
    const out = join(dir.path, "out");
    const result = await get(bob, String(ready.ticket), out);
    assert.equal(result.code === 0, false, result.stderr);
    assert.equal(errorOf(result).code, refusal);
    // Neither the tree, nor its proof, nor a part folder to resume from.
    assert.deepEqual(await listTree(out).catch(() => []), []);
  });
}
