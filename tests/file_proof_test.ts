/**
 * The proof of origin of a single file (docs/design/folders.md F5.2, F9): a real `sfs send` and
 * `sfs get`, then `sfs verify` on what was kept.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runSfs } from "./harness.ts";
import { testIdentity } from "./identities.ts";
import { doneOf, errorOf, get, listTree, shareFile } from "./peers.ts";
import { formatFingerprint } from "../src/crypto/identity.ts";

Deno.test("sfs get keeps a single file's proof, and sfs verify checks the file against it", async (t) => {
  await using s = await shareFile("report.bin", 300_000);
  const { dir, bob } = s;
  const { ticket } = s.ready;
  const out = join(dir.path, "out");
  const fingerprint = formatFingerprint((await testIdentity("alice")).public.fingerprint);

  await t.step("kept by default beside the file", async () => {
    const done = doneOf(await get(bob, ticket, out));
    assert.equal(done.proof, join(out, "report.bin.sfs-proof"));
    assert.equal(typeof done.manifest_hash, "undefined", "a file's done event keeps its sha256");
    assert.deepEqual(await listTree(out), ["report.bin", "report.bin.sfs-proof"]);
    const verified = await runSfs(
      ["verify", join(out, "report.bin"), "--owner", fingerprint, "--json"],
      { home: bob },
    );
    assert.equal(verified.code, 0, verified.stderr);
    assert.equal(verified.events.find((e) => e.event === "verified")!.root, "file");
  });
  await t.step("an existing proof is refused up front, --force replaces it", async () => {
    await Deno.remove(join(out, "report.bin"));
    const refused = await get(bob, ticket, out);
    assert.equal(errorOf(refused).code, "EXISTS");
    assert.deepEqual(await listTree(out), ["report.bin.sfs-proof"]);
    doneOf(await get(bob, ticket, out, ["--force"]));
  });
  await t.step("a modified file fails sfs verify", async () => {
    using file = await Deno.open(join(out, "report.bin"), { write: true });
    await file.write(new Uint8Array([1, 2, 3]));
    const verified = await runSfs(["verify", join(out, "report.bin")], { home: bob });
    assert.equal(verified.code, 3, verified.stderr);
  });
  await t.step("--no-proof keeps none", async () => {
    const other = join(dir.path, "out-2");
    const done = doneOf(await get(bob, ticket, other, ["--no-proof"]));
    assert.equal(done.proof, undefined);
    assert.deepEqual(await listTree(other), ["report.bin"]);
  });
});
