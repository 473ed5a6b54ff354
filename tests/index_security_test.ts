/**
 * A lying index or a lying peer: forged announcements are refused by the server, listings altered
 * in its database are refused by the receiver, and a peer without the owner's key gets nothing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { isSfsError } from "../src/errors.ts";
import { toHex } from "../src/crypto/bytes.ts";
import { formatFingerprint } from "../src/crypto/identity.ts";
import {
  decodeAnnouncement,
  encodeAnnouncement,
  encodeSignatureSet,
  signAnnouncement,
} from "../src/index/protocol/announcement.ts";
import { fileIdOf } from "../src/crypto/file_id.ts";
import { randomFile, sha256File, startSfs, tempDir } from "./harness.ts";
import { testHome, testIdentity } from "./identities.ts";
import {
  assertFails,
  connectClient,
  registeredHome,
  sfs,
  startSender,
  startServer,
} from "./index_fixture.ts";

Deno.test("the server refuses announcements with a bad signature or another owner", async () => {
  await using dir = await tempDir();
  await using server = await startServer(join(dir.path, "server"));
  await registeredHome(dir.path, server, "alice");
  await registeredHome(dir.path, server, "bob");
  const alice = await testIdentity("alice");
  const client = await connectClient(server, "alice");
  try {
    await client.auth("alice");
    const sha256 = new Uint8Array(32).fill(1);
    const fields = {
      fileId: await fileIdOf(alice.public.fingerprint, sha256, "forged.txt"),
      owner: "alice",
      ownerFingerprint: alice.public.fingerprint,
      name: "forged.txt",
      size: 1,
      sha256,
      keywords: ["forged"],
      recipients: [],
      address: "127.0.0.1:1",
      createdAt: Date.now(),
    };
    const signed = await signAnnouncement(alice, fields);
    const rsa = signed.signatures.rsa!.slice();
    rsa[10] ^= 0x40;
    await assert.rejects(
      client.announce({ bytes: signed.bytes, signatures: { ...signed.signatures, rsa } }),
      (err) => isSfsError(err, "BAD_SIGNATURE"),
    );
    // Signed by alice, claiming to be bob's.
    const asBob = await signAnnouncement(alice, { ...fields, owner: "bob" });
    await assert.rejects(client.announce(asBob), (err) => isSfsError(err, "REFUSED"));
    assert.deepEqual(await client.search("forged"), []);
  } finally {
    client.close();
  }
});

Deno.test("a listing altered in the index database is refused by the receiver", async (t) => {
  await using dir = await tempDir();
  await using server = await startServer(join(dir.path, "server"));
  const alice = await registeredHome(dir.path, server, "alice");
  const bob = await registeredHome(dir.path, server, "bob");
  const file = join(dir.path, "doc.bin");
  await randomFile(file, 4000);
  await using sender = await startSender(alice, [file]);
  const out = join(dir.path, "out");
  await Deno.mkdir(out);
  // bob fetches once, which pins alice's key.
  const first = await sfs(bob, ["get", sender.id, "--out", out, "--yes", "--json"]);
  assert.equal(first.code, 0, first.stderr);
  await Deno.remove(join(out, "doc.bin"));
  await Deno.remove(join(out, "doc.bin.sfs-proof"));

  // The attacker has the database: writes go in while the server runs (WAL, busy timeout).
  const db = new DatabaseSync(server.db);
  try {
    await t.step("an altered announcement fails its signature check", async () => {
      const row = db.prepare("SELECT announcement FROM announcements WHERE id = ?")
        .get(sender.id) as { announcement: Uint8Array };
      const a = decodeAnnouncement(row.announcement);
      const altered = encodeAnnouncement({ ...a, address: "127.0.0.1:1" });
      db.prepare("UPDATE announcements SET announcement = ?, address = ? WHERE id = ?")
        .run(altered, "127.0.0.1:1", sender.id);
      const result = await sfs(bob, ["get", sender.id, "--out", out, "--json"]);
      assertFails(result, "BAD_SIGNATURE", 3);
      const search = await sfs(bob, ["search", "doc", "--json"]);
      assert.equal(search.code, 0, search.stderr);
      assert.match(search.stderr, /failed signature verification/);
      assert.ok(!search.stdout.includes(sender.id));
      db.prepare("UPDATE announcements SET announcement = ? WHERE id = ?")
        .run(row.announcement, sender.id);
    });

    await t.step("a listing re-signed with a key swapped in for alice's is refused", async () => {
      const mallory = await testIdentity("mallory");
      const row = db.prepare("SELECT announcement FROM announcements WHERE id = ?")
        .get(sender.id) as { announcement: Uint8Array };
      const a = decodeAnnouncement(row.announcement);
      const forged = await signAnnouncement(mallory, {
        ...a,
        fileId: await fileIdOf(mallory.public.fingerprint, a.sha256, a.name),
        ownerFingerprint: mallory.public.fingerprint,
      });
      db.prepare("UPDATE users SET identity = ?, fingerprint = ? WHERE username_key = 'alice'")
        .run(mallory.public.encoded, formatFingerprint(mallory.public.fingerprint));
      db.prepare("UPDATE announcements SET id = ?, announcement = ?, signature = ? WHERE id = ?")
        .run(
          toHex(forged.bytes.subarray(1, 17)),
          forged.bytes,
          encodeSignatureSet(forged.signatures),
          sender.id,
        );
      const result = await sfs(bob, ["get", "doc.bin", "--out", out, "--yes", "--json"]);
      assertFails(result, "KEY_MISMATCH", 3);
      assert.match(result.stderr, /warning/);
    });
  } finally {
    db.close();
  }
  assert.deepEqual([...Deno.readDirSync(out)], []);
});

Deno.test("a peer presenting a key other than the owner's is refused", async () => {
  await using dir = await tempDir();
  await using server = await startServer(join(dir.path, "server"));
  const alice = await registeredHome(dir.path, server, "alice");
  const bob = await registeredHome(dir.path, server, "bob");
  const mallory = await testHome(dir.path, "mallory");
  const file = join(dir.path, "same.bin");
  await randomFile(file, 3000);
  // mallory serves the very same file in direct mode, with her own key...
  await using impostor = startSfs(["send", file, "--listen", "127.0.0.1:0", "--json"], {
    home: mallory,
  });
  const port = (await impostor.nextEvent((e) => e.event === "ready")).port;
  // ...and alice's listing points at mallory's address.
  await using sender = await startSender(alice, [file], ["--advertise", `127.0.0.1:${port}`]);
  const out = join(dir.path, "out");
  await Deno.mkdir(out);
  // Only the direct route: mallory's key is refused and nothing is written.
  const result = await sfs(bob, ["get", sender.id, "--out", out, "--yes", "--json", "--direct"]);
  assertFails(result, "KEY_MISMATCH", 3);
  assert.deepEqual([...Deno.readDirSync(out)], []);
  // With the relay allowed, the refused address is one failed candidate: the file comes from
  // alice herself, through the index's relay, checked against her key.
  const relayed = await sfs(bob, ["get", sender.id, "--out", out, "--yes", "--json"]);
  assert.equal(relayed.code, 0, relayed.stderr);
  const done = relayed.events.find((e) => e.event === "done");
  assert.equal(done?.route, "relay");
  assert.equal(done?.sha256, await sha256File(file));
});
