/**
 * When `sfs get` cannot store a file, it says why with its own code (not INTERNAL), and the
 * sender learns only that code: none of the receiver's paths travels over the wire.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type SfsProcess, startProcess } from "./harness.ts";
import { errorOf, get, listTree, shareFile, type Sharing } from "./peers.ts";

/** A folder name that would stand out in the sender's output. */
const PRIVATE = "bobs-private-folder";
const NAME = "report.bin";

/** Everything the sender printed, once it reported the failed transfer. */
async function senderSaw(sender: SfsProcess): Promise<{ code: string; text: string }> {
  const failed = await sender.nextEvent((e) => e.event === "transfer_failed");
  return { code: String(failed.code), text: sender.stdoutText() + sender.stderrText() };
}

/** Runs `sfs get` into `out`; returns its error code and what the sender saw. */
async function failedGet(
  s: Sharing,
  out: string,
  extra: string[] = [],
): Promise<{ code: string; exit: number; sender: { code: string; text: string } }> {
  const result = await get(s.bob, s.ready.ticket, out, extra);
  assert.notEqual(result.code, 0, result.stderr);
  return { code: errorOf(result).code, exit: result.code, sender: await senderSaw(s.sender) };
}

Deno.test("sfs get reports a full or read-only disk and a file or folder in the way by code", async (t) => {
  // Larger than the full file system below (128 KiB), small enough to be quick.
  await using s = await shareFile(NAME, 300_000);
  const root = join(s.dir.path, PRIVATE);
  await Deno.mkdir(root);

  // `sfs get` checks --out before it connects: the sender never hears of it.
  await t.step(
    "--out is, or lies under, a regular file: NOT_A_FOLDER before connecting",
    async () => {
      const out = join(root, "a-file");
      await Deno.writeTextFile(out, "not a folder\n");
      const result = await get(s.bob, s.ready.ticket, out, []);
      assert.equal(result.code, 1, result.stderr);
      assert.equal(errorOf(result).code, "NOT_A_FOLDER");
      assert.equal(await Deno.readTextFile(out), "not a folder\n");
      const under = await get(s.bob, s.ready.ticket, join(out, "sub"), []);
      assert.equal(errorOf(under).code, "NOT_A_FOLDER");
    },
  );

  // Before it asks for the file, the receiver looks for an interrupted download in --out; the
  // sender is waiting for the request then, and reads whatever error comes instead.

  // From here on the sender is streaming when the receiver gives up, and mostly learns only
  // that the connection closed; whatever it learns, no path.
  await t.step("the destination exists: EXISTS", async () => {
    const out = join(root, "exists");
    await Deno.mkdir(out);
    await Deno.writeTextFile(join(out, NAME), "older\n");
    const { code, sender } = await failedGet(s, out);
    assert.equal(code, "EXISTS");
    assert.ok(!sender.text.includes(PRIVATE), sender.text);
  });

  await t.step("a folder in the way, with --force: IS_A_FOLDER", async () => {
    const out = join(root, "folder");
    await Deno.mkdir(join(out, NAME), { recursive: true });
    await Deno.writeTextFile(join(out, NAME, "inside.txt"), "keep\n");
    const { code, sender } = await failedGet(s, out, ["--force"]);
    assert.equal(code, "IS_A_FOLDER");
    assert.ok(!sender.text.includes(PRIVATE), sender.text);
    assert.deepEqual(await listTree(out), [NAME, join(NAME, "inside.txt")]);
  });

  // Root ignores permission bits, so a read-only folder cannot stand in for a read-only file
  // system: these mount real ones, where the machine allows it.
  await t.step({
    name: "--out on a read-only file system: READ_ONLY",
    ignore: !await canMount(s.dir.path),
    fn: async () => {
      await using mounted = await mountTmpfs(join(root, "ro"), "ro,size=1m");
      const { code, sender } = await failedGet(s, mounted.path);
      assert.equal(code, "READ_ONLY");
      assert.ok(!sender.text.includes(PRIVATE), sender.text);
    },
  });

  await t.step({
    name: "--out on a full file system: NO_SPACE",
    ignore: !await canMount(s.dir.path),
    fn: async () => {
      await using mounted = await mountTmpfs(join(root, "full"), "size=128k");
      const { code, sender } = await failedGet(s, mounted.path);
      assert.equal(code, "NO_SPACE");
      assert.ok(!sender.text.includes(PRIVATE), sender.text);
    },
  });
});

/** True when this process may mount a tmpfs (root with CAP_SYS_ADMIN, as in CI containers). */
async function canMount(parent: string): Promise<boolean> {
  try {
    await using _probe = await mountTmpfs(join(parent, "probe"), "size=16k");
    return true;
  } catch {
    return false;
  }
}

/** Mounts a tmpfs with `options` at `path` (created); `await using` unmounts it. */
async function mountTmpfs(
  path: string,
  options: string,
): Promise<AsyncDisposable & { path: string }> {
  await Deno.mkdir(path, { recursive: true });
  await using mount = startProcess(["mount", "-t", "tmpfs", "-o", options, "sfs-test", path]);
  const status = await mount.status;
  if (!status.success) throw new Error(`mount failed: ${mount.stderrText()}`);
  return {
    path,
    async [Symbol.asyncDispose]() {
      await using umount = startProcess(["umount", path]);
      await umount.status;
    },
  };
}
