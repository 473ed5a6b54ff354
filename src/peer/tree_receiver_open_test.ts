import assert from "node:assert/strict";
import { join } from "node:path";
import { isSfsError } from "../errors.ts";
import type { Channel } from "../wire/channel.ts";
import { MessageType, type TreeManifest } from "../wire/messages.ts";
import { encodeManifestHeader, type ManifestEntry, manifestPages } from "./manifest.ts";
import type { FetchOptions } from "./receiver_options.ts";
import { openFresh } from "./tree_receiver_open.ts";

Deno.test("openFresh() refuses a manifest past its byte limit before writing past it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sfs-tree-open-" });
  try {
    const entries: ManifestEntry[] = Array.from({ length: 100 }, (_, i) => ({
      path: `f${String(i).padStart(3, "0")}`,
      kind: "file",
      executable: false,
      size: 1,
      mtime: 0,
      sha256: new Uint8Array(32),
    }));
    const pages = await Array.fromAsync(manifestPages(entries, { maxPageBytes: 512 }));
    const header = encodeManifestHeader({
      ownerFingerprint: new Uint8Array(32),
      name: "share",
      root: "folder",
      createdAt: 0,
      entryCount: entries.length,
      totalBytes: entries.length,
    });
    const maxManifestBytes = 2_000;
    const spooled: number[] = [];
    const manifest = join(dir, ".share.sfs-part", "manifest");
    const channel = {
      peer: { encoded: new Uint8Array(8), fingerprint: new Uint8Array(32) },
      expect: async () => {
        spooled.push((await Deno.stat(manifest)).size);
        const page = pages.shift();
        if (page === undefined) throw new Error("no more pages");
        return { type: MessageType.MANIFEST_PAGE, page };
      },
    } as unknown as Channel;
    const reply: TreeManifest = {
      type: MessageType.TREE_MANIFEST,
      shareId: new Uint8Array(16),
      header,
      signatures: { ed25519: new Uint8Array(64) },
      chunkSize: 65536,
      entry: 0,
      offset: 0,
      pagesFollow: true,
    };
    const options = { outDir: dir, fileId: new Uint8Array(16) } as unknown as FetchOptions;
    await assert.rejects(
      openFresh(channel, reply, options, { maxManifestBytes }),
      (e) => isSfsError(e, "TREE_LIMIT"),
    );
    const preamble = spooled[0];
    assert.ok(spooled.length > 2, "several pages were read");
    for (const size of spooled) assert.ok(size - preamble <= maxManifestBytes, String(size));
    // Nothing of the refused share is left.
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
