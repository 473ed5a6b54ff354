/**
 * A shared file edited in place with its size kept and its modification time put back
 * (Deno.utime), so that size and mtime say "unchanged": before a get, in the middle of one, and
 * before a resumed one. The sender must notice — from the SHA-256 of what it sent for a file
 * shared right after it changed, from its change time (its settled stamp, content_stamp.ts) for
 * one that had stood unchanged — refuse to sign the FINAL (FILE_CHANGED), say so, and serve that
 * share no more; the receiver must end with no file.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEFAULT_CHUNK_SIZE } from "../src/crypto/stream.ts";
import { FrameKind } from "../src/wire/frame.ts";
import type { SfsProcess } from "./harness.ts";
import { errorOf, get, listTree, shareFile, startProxy, withPort } from "./peers.ts";

/** Each test runs with a file shared right after it was written, and with a settled one. */
const MODES = [
  { label: "hashed as sent", settled: false },
  { label: "settled: stamp checked", settled: true },
];

const MIB = 1024 * 1024;

/** Flips the byte at `at`, keeping the size, then restores the modification time. */
async function editKeepingMtime(path: string, at: number): Promise<void> {
  const before = await Deno.stat(path);
  {
    using file = await Deno.open(path, { read: true, write: true });
    const byte = new Uint8Array(1);
    await file.seek(at, Deno.SeekMode.Start);
    assert.equal(await file.read(byte), 1);
    byte[0] ^= 0xff;
    await file.seek(at, Deno.SeekMode.Start);
    assert.equal(await file.write(byte), 1);
  }
  await Deno.utime(path, before.atime!, before.mtime!);
  const after = await Deno.stat(path);
  assert.equal(after.size, before.size);
  assert.equal(after.mtime?.getTime(), before.mtime?.getTime(), "the edit is invisible to stat");
}

/** Transfers the sender began (it announced a manifest). */
function startsOf(sender: SfsProcess): number {
  return sender.events.filter((e) => e.event === "start").length;
}

/**
 * After the failed get: the sender reported FILE_CHANGED, and the next receiver is refused with
 * FILE_CHANGED before any transfer starts.
 */
async function assertStaleShare(
  s: { sender: SfsProcess; bob: string; ready: { ticket: string } },
  out: string,
): Promise<void> {
  const failed = await s.sender.nextEvent((e) =>
    e.event === "transfer_failed" && e.code === "FILE_CHANGED"
  );
  assert.equal(failed.code, "FILE_CHANGED");
  const starts = startsOf(s.sender);
  const again = await get(s.bob, s.ready.ticket, out);
  assert.equal(errorOf(again).code, "FILE_CHANGED", again.stderr);
  assert.deepEqual(await listTree(out), [], "no final file, no part file");
  assert.equal(startsOf(s.sender), starts, "the stale share is not served at all");
}

for (const mode of MODES) {
  Deno.test(`sfs send refuses to sign a file edited in place before the get, and stops serving it (${mode.label})`, async () => {
    await using s = await shareFile("doc.bin", 3 * DEFAULT_CHUNK_SIZE + 1000, mode);
    await editKeepingMtime(s.source, DEFAULT_CHUNK_SIZE + 7);
    const out = join(s.dir.path, "out");
    const result = await get(s.bob, s.ready.ticket, out);
    assert.equal(errorOf(result).code, "FILE_CHANGED", result.stderr);
    assert.notEqual(result.code, 0);
    assert.deepEqual(await listTree(out), [], "no final file, no part file");
    await assertStaleShare(s, out);
  });

  Deno.test(`sfs send refuses to sign a file edited in place during the transfer (${mode.label})`, async () => {
    // Far more than the socket buffers between sender and proxy hold, so the sender cannot have
    // read the edited end of the file by the time the proxy holds the first chunk.
    const size = 64 * MIB;
    await using s = await shareFile("big.bin", size, mode);
    let edited = false;
    await using proxy = startProxy(s.ready.port, {
      onFrame: async (frame) => {
        if (frame.kind === FrameKind.CHUNK && !edited) {
          edited = true;
          await editKeepingMtime(s.source, size - 10);
        }
      },
    });
    const out = join(s.dir.path, "out");
    const result = await get(s.bob, withPort(s.ready.ticket, proxy.port), out);
    assert.ok(edited);
    assert.equal(errorOf(result).code, "FILE_CHANGED", result.stderr);
    assert.deepEqual(await listTree(out), [], "no final file, no part file");
    await assertStaleShare(s, out);
  });

  Deno.test(`sfs send refuses to sign a resumed transfer of a file edited in place (${mode.label})`, async () => {
    const size = 8 * DEFAULT_CHUNK_SIZE;
    await using s = await shareFile("resumed.bin", size, mode);
    const out = join(s.dir.path, "out");
    // The first get is cut after a few chunks: the receiver keeps a verified prefix.
    {
      await using proxy = startProxy(s.ready.port, {
        // Chunks start at frame 4 (after the sender's three handshake frames and MANIFEST, §6.1).
        onFrame: (frame) => frame.kind === FrameKind.CHUNK && frame.index >= 7 ? "cut" : undefined,
      });
      const cut = await get(s.bob, withPort(s.ready.ticket, proxy.port), out);
      assert.notEqual(cut.code, 0);
      assert.deepEqual(await listTree(out), ["resumed.bin.sfs-part", "resumed.bin.sfs-state"]);
    }
    const state = JSON.parse(await Deno.readTextFile(join(out, "resumed.bin.sfs-state")));
    assert.ok(state.verified > 0 && state.verified < size, `${state.verified}`);
    // Edited in the part still to come: the resumed get (GET offset = verified) streams only that
    // tail, so the sender's check must cover the prefix it does not send.
    await editKeepingMtime(s.source, size - 10);
    const result = await get(s.bob, s.ready.ticket, out);
    assert.equal(errorOf(result).code, "FILE_CHANGED", result.stderr);
    assert.deepEqual(await listTree(out), [], "no final file, no part file");
    await assertStaleShare(s, out);
  });
}

Deno.test("a settled file whose mode changes during the transfer is refused; one hashed as sent is not", async (t) => {
  // chmod moves the change time but not the content: only the stamp check sees it, which shows
  // which check ran (the settled one must not hash, or it would be no faster).
  for (const inFolder of [undefined, "share"]) {
    for (const mode of MODES) {
      await t.step(`${inFolder ? "in a folder" : "alone"}, ${mode.label}`, async () => {
        const size = 64 * MIB;
        await using s = await shareFile("mode.bin", size, { ...mode, inFolder });
        let touched = false;
        await using proxy = startProxy(s.ready.port, {
          onFrame: async (frame) => {
            if (frame.kind === FrameKind.CHUNK && !touched) {
              touched = true;
              await Deno.chmod(s.source, 0o640);
            }
          },
        });
        const out = join(s.dir.path, "out");
        const result = await get(s.bob, withPort(s.ready.ticket, proxy.port), out);
        assert.ok(touched);
        const name = inFolder ?? "mode.bin";
        if (mode.settled) {
          assert.equal(errorOf(result).code, "FILE_CHANGED", result.stderr);
          assert.deepEqual(await listTree(out), [], "no final file, no part file");
        } else {
          assert.equal(result.code, 0, result.stderr);
          assert.ok((await listTree(out)).includes(name));
        }
      });
    }
  }
});
