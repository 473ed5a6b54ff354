/**
 * `sfs server`'s relay as a real process: it relays and logs each session's bytes in its JSON
 * log, `--no-relay` turns it off with RELAY_OFF, and its relay flags are checked.
 */
import assert from "node:assert/strict";
import { isSfsError } from "../src/errors.ts";
import { toHex } from "../src/crypto/bytes.ts";
import { runSfs, sha256File, tempDir } from "./harness.ts";
import { testIdentity } from "./identities.ts";
import {
  dialRelayTo,
  fetchRelayed,
  shareRelayed,
  startRelayServerProcess,
} from "./relay_fixture.ts";

Deno.test("sfs server relays a transfer and logs its bytes for the sharing user", async () => {
  await using world = await startRelayServerProcess(["--relay-idle-timeout", "30"]);
  await using share = await shareRelayed(world, "alice");
  const bob = await testIdentity("bob");
  const result = await fetchRelayed(world, share, { identity: bob });
  assert.equal(await sha256File(result.path), toHex(share.file.sha256));
  const end = await world.proc.nextEvent((e) => e.event === "relay_end", 10_000);
  assert.equal(end.user, "alice");
  assert.equal(end.id, toHex(share.file.id));
  assert.ok(Number(end.toReceiver) > share.file.size);
});

Deno.test("sfs server --no-relay: a receiver is told RELAY_OFF", async () => {
  await using world = await startRelayServerProcess(["--no-relay"]);
  await using share = await shareRelayed(world, "alice");
  const bob = await testIdentity("bob");
  await assert.rejects(
    dialRelayTo(world, share.file.id, { identity: bob }),
    (err) => isSfsError(err, "RELAY_OFF"),
  );
});

Deno.test("sfs server refuses a relay limit that is not a positive count", async () => {
  await using dir = await tempDir();
  for (const flag of ["--relay-max-sessions", "--relay-max-per-user", "--relay-pairing-timeout"]) {
    const result = await runSfs(["server", "--listen", "127.0.0.1:0", flag, "0", "--json"], {
      home: dir.path,
    });
    assert.equal(result.code, 2, `${flag} 0`);
  }
});
