/**
 * A folder shared by a short code (issues 11 and 15): `sfs send DIR --code` on a registered
 * sender, `sfs get CODE` on a receiver with no account, the tree rebuilt and verified.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runSfs, sha256File, startSfs, tempDir } from "./harness.ts";
import { PASSWORD, registeredHome, seedServerIdentity, startServer } from "./index_fixture.ts";

Deno.test("sfs send DIR --code and sfs get CODE rebuild the folder", async () => {
  await using dir = await tempDir();
  await seedServerIdentity(join(dir.path, "server"));
  await using server = await startServer(join(dir.path, "server"));
  const alice = await registeredHome(dir.path, server, "alice");
  const source = join(dir.path, "album");
  await Deno.mkdir(join(source, "inner"), { recursive: true });
  await Deno.writeTextFile(join(source, "a.txt"), "first");
  await Deno.writeTextFile(join(source, "inner", "b.txt"), "second");
  const carol = join(dir.path, "carol");
  await Deno.mkdir(carol);
  const out = join(dir.path, "out");

  await using sender = startSfs(
    ["send", source, "--code", "--listen", "127.0.0.1:0", "--json"],
    { home: alice, env: { SFS_PASSWORD: PASSWORD } },
  );
  const ready = await sender.nextEvent((e) => e.event === "ready", 60_000);
  assert.equal(ready.kind, "tree");
  const result = await runSfs(
    ["get", String(ready.code), "--server", server.address, "-o", out, "--json"],
    { home: carol },
  );
  assert.equal(result.code, 0, result.stderr);
  const done = result.events.find((e) => e.event === "done")!;
  assert.equal(done.kind, "tree");
  assert.equal(done.sender, ready.fingerprint);
  assert.equal(done.files, 2);
  assert.equal(
    await sha256File(join(out, "album", "inner", "b.txt")),
    await sha256File(join(source, "inner", "b.txt")),
  );
  // The sender serves the one receiver the code admitted, then exits 0.
  assert.equal((await sender.status).code, 0, sender.stderrText());
});
