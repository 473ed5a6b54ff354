/**
 * Quotas of a real `sfs server`: listings per account and registrations per address, so one
 * client cannot fill the disk or farm accounts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isSfsError } from "../src/errors.ts";
import type { Identity } from "../src/crypto/identity.ts";
import type { SignedAnnouncement } from "../src/index/protocol/announcement.ts";
import { tempDir } from "./harness.ts";
import { testHome, testIdentity } from "./identities.ts";
import {
  assertFails,
  connectClient,
  madeUpAnnouncement,
  PASSWORD,
  registeredHome,
  seedServerIdentity,
  sfs,
  startServer,
} from "./index_fixture.ts";

/** A signed announcement of a made-up file named `name` by `owner`, registered as `user`. */
async function made(owner: Identity, user: string, name: string): Promise<SignedAnnouncement> {
  return (await madeUpAnnouncement(owner, { user, name })).signed;
}

Deno.test("sfs server caps listings per account and registrations per address", async (t) => {
  await using dir = await tempDir();
  await using server = await startServer(await seedServerIdentity(join(dir.path, "server")), 0, [
    "--max-listings-per-user",
    "3",
    "--max-registrations-per-address",
    "2",
  ]);
  await registeredHome(dir.path, server, "alice");
  await registeredHome(dir.path, server, "bob");

  await t.step("a third registration from the address is RATE_LIMITED", async () => {
    const carol = await testHome(dir.path, "carol");
    const result = await sfs(carol, [
      "register",
      "--server",
      server.address,
      "--user",
      "carol",
      "--server-fingerprint",
      server.fingerprint,
      "--json",
    ]);
    assertFails(result, "RATE_LIMITED", 1);
  });

  await t.step(
    "a fourth listing is QUOTA_EXCEEDED; replacing or unsharing makes room",
    async () => {
      const alice = await testIdentity("alice");
      const client = await connectClient(server, "alice");
      try {
        await client.login("alice", PASSWORD);
        const files = [];
        for (let i = 0; i < 3; i++) {
          files.push(await made(alice, "alice", `file-${i}.txt`));
          await client.announce(files[i]);
        }
        const fourth = await made(alice, "alice", "file-3.txt");
        await assert.rejects(client.announce(fourth), (e) => isSfsError(e, "QUOTA_EXCEEDED"));
        // The same ids again are re-announcements, not new listings.
        for (const file of files) await client.announce(file);
        await client.unshare(files[0].bytes.subarray(1, 17));
        await client.announce(fourth);
        assert.equal((await client.list({ mine: true })).length, 3);
      } finally {
        client.close();
      }
    },
  );

  await t.step("bob's quota is his own", async () => {
    const bob = await testIdentity("bob");
    const client = await connectClient(server, "bob");
    try {
      await client.auth("bob");
      await client.announce(await made(bob, "bob", "bob.txt"));
    } finally {
      client.close();
    }
  });
});
