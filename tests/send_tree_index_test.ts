/**
 * A tree share on the index and through its relay (docs/PROTOCOL.md §7.7, §12.5, §13): one
 * listing whose id is the share id, `sha256` the manifest hash and `size` the total; and the
 * relay route serves the tree exactly like a direct connection. Real `sfs server` and `sfs send`
 * processes; the receiver is the codec-built one of tests/send_tree_peer.ts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fromHex, toHex } from "../src/crypto/bytes.ts";
import { parseFingerprint } from "../src/crypto/identity.ts";
import { constantTimeEqual } from "../src/crypto/bytes.ts";
import { dialRelay } from "../src/index/client/relay_dial.ts";
import { parseTicket } from "../src/peer/ticket.ts";
import { tempDir } from "./harness.ts";
import { testIdentity } from "./identities.ts";
import { registeredHome, sfs, startSender, startServer } from "./index_fixture.ts";
import { fetchTree } from "./send_tree_peer.ts";

Deno.test("a folder is one listing on the index and is served through the relay", async () => {
  await using dir = await tempDir();
  await using server = await startServer(join(dir.path, "server"));
  const alice = await registeredHome(dir.path, server, "alice");
  const bobHome = await registeredHome(dir.path, server, "bob");
  const bob = await testIdentity("bob");
  const root = join(dir.path, "album");
  await Deno.mkdir(join(root, "2025"), { recursive: true });
  await Deno.writeTextFile(join(root, "2025", "a.jpg"), "a".repeat(1000));
  await Deno.writeTextFile(join(root, "b.jpg"), "b".repeat(2000));
  await using sender = await startSender(alice, [root]);
  assert.equal(sender.ready.kind, "tree");

  const ls = await sfs(bobHome, ["ls", "--json"]);
  const line = ls.stdout.split("\n").find((l) => l.startsWith("["));
  const listed = JSON.parse(line ?? "[]") as { id: string; name: string; size: number }[];
  assert.deepEqual(listed.map((l) => [l.id, l.name, l.size]), [[sender.id, "album", 3000]]);

  const ticket = parseTicket(String(sender.ready.ticket));
  assert.ok(ticket.relay, "the ticket carries the relay hint");
  const conn = await dialRelay({
    host: "127.0.0.1",
    port: server.port,
    fileId: fromHex(sender.id)!,
    token: ticket.relay.token,
  }, {
    identity: bob,
    verifyServer: (s) => {
      if (!constantTimeEqual(s.fingerprint, parseFingerprint(server.fingerprint))) {
        throw new Error("Unexpected server key");
      }
    },
  });
  const got = await fetchTree(bob, {
    port: 0,
    conn,
    shareId: fromHex(sender.id)!,
    senderFingerprint: parseFingerprint(String(sender.ready.fingerprint)),
  });
  assert.equal(toHex(got.manifestHash), sender.ready.manifest_hash);
  assert.equal(toHex(got.manifestHash), sender.ready.sha256, "the listing commits to it");
  assert.deepEqual([...got.files.keys()], ["2025/a.jpg", "b.jpg"]);
  const sent = await sender.proc.nextEvent((e) => e.event === "sent");
  assert.equal(sent.route, "relay");
  assert.ok(String(sent.receipt).length > 0);
});
