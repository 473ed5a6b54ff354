/** First use (issue 14): `sfs get TICKET` on a machine with no identity yet just works. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { randomFile, runSfs, sha256File, tempDir } from "./harness.ts";
import { testHome } from "./identities.ts";
import { doneOf, readyOf, startSender } from "./peers.ts";

Deno.test("sfs get with a fresh SFS_HOME creates an identity, then downloads", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const file = join(dir.path, "hello.bin");
  await randomFile(file, 5000);
  await using sender = startSender(alice, file);
  const ready = await readyOf(sender);
  const fresh = join(dir.path, "fresh-home"); // does not exist yet
  const out = join(dir.path, "out");
  // No terminal and no SFS_PASSPHRASE: stored unencrypted, as sfs keygen does, never a prompt.
  const result = await runSfs(["get", ready.ticket, "--out", out, "--json"], { home: fresh });
  const done = doneOf(result);
  assert.equal(done.sha256, await sha256File(file));
  const identity = JSON.parse(await Deno.readTextFile(join(fresh, "identity.json")));
  assert.ok(identity, "the identity is stored in the home");
  // The sender saw the receiver's new key, which is the one whoami now prints.
  const sent = await sender.nextEvent((e) => e.event === "sent");
  const whoami = await runSfs(["whoami", "--json"], { home: fresh });
  assert.equal(whoami.code, 0, whoami.stderr);
  assert.equal(sent.receiver, whoami.events[0].fingerprint);
  // Results only on stdout: the new identity is told on stderr.
  const events = result.events.map((e) => e.event);
  assert.deepEqual(events.filter((e) => e !== "start" && e !== "progress"), ["done"]);
  assert.notEqual(result.stderr, "");
});
