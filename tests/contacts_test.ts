/**
 * Keys and listings (issue 14): `sfs trust`, `sfs forget` and `sfs contacts` replace editing
 * known_users.json / known_servers.json by hand; `sfs unshare NAME` works as `sfs get NAME`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { randomFile, tempDir } from "./harness.ts";
import { identityText, testHome } from "./identities.ts";
import {
  assertFails,
  jsonError,
  registeredHome,
  seedServerIdentity,
  sfs,
  startSender,
  startServer,
} from "./index_fixture.ts";

interface Contacts {
  servers: { server: string; fingerprint: string }[];
  users: { user: string; server: string; fingerprint: string }[];
}

async function contacts(home: string): Promise<Contacts> {
  const result = await sfs(home, ["contacts", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

async function fingerprintOf(home: string): Promise<string> {
  const result = await sfs(home, ["whoami", "--json"]);
  return String(result.events[0].fingerprint);
}

Deno.test("sfs trust, forget and contacts manage the pinned keys", async (t) => {
  await using dir = await tempDir();
  await seedServerIdentity(dir.path);
  let server = await startServer(dir.path);
  try {
    const alice = await registeredHome(dir.path, server, "alice");
    const bob = await registeredHome(dir.path, server, "bob");
    const file = join(dir.path, "plan.bin");
    await randomFile(file, 100);

    await t.step("contacts lists the server pinned at registration", async () => {
      const pins = await contacts(alice);
      assert.deepEqual(pins.servers, [{ server: server.address, fingerprint: server.fingerprint }]);
      assert.deepEqual(pins.users, []);
    });

    await t.step("trust USER pins a first contact (with --yes) and lists it", async () => {
      assertFails(await sfs(alice, ["trust", "bob", "--json"]), "USAGE", 2);
      const result = await sfs(alice, ["trust", "bob", "--yes", "--json"]);
      assert.equal(result.code, 0, result.stderr);
      const pins = await contacts(alice);
      assert.deepEqual(pins.users.map((u) => [u.user, u.fingerprint]), [
        ["bob", await fingerprintOf(bob)],
      ]);
    });

    await t.step("after bob's legitimate key change, trust replaces the pin", async () => {
      await Deno.writeTextFile(join(bob, "identity.json"), await identityText("carol"));
      const rotated = await sfs(bob, ["login", "--rotate-keys", "--json"]);
      assert.equal(rotated.code, 0, rotated.stderr);
      // The old pin refuses bob's new key until alice trusts it.
      await using refused = await startSender(alice, [file], ["--to", "bob"]).catch((err) => {
        assert.match(String(err), /KEY_MISMATCH/);
        return undefined;
      });
      assert.equal(refused, undefined, "sharing with a changed key must fail");
      assertFails(await sfs(alice, ["trust", "bob", "--json"]), "USAGE", 2); // no terminal
      const trusted = await sfs(alice, ["trust", "bob", "--yes", "--json"]);
      assert.equal(trusted.code, 0, trusted.stderr);
      const pins = await contacts(alice);
      assert.equal(pins.users[0].fingerprint, await fingerprintOf(bob));
      await using sharing = await startSender(alice, [file], ["--to", "bob"]);
      assert.ok(sharing.id);
    });

    await t.step("forget USER drops the pin (asking, or --yes)", async () => {
      assertFails(await sfs(alice, ["forget", "bob", "--json"]), "USAGE", 2);
      assert.equal((await contacts(alice)).users.length, 1, "kept without a yes");
      const result = await sfs(alice, ["forget", "bob", "--yes", "--json"]);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual((await contacts(alice)).users, []);
      assertFails(await sfs(alice, ["forget", "bob", "--yes", "--json"]), "NOT_FOUND", 1);
    });

    await t.step("trust FINGERPRINT accepts a server's new key only if it proves it", async () => {
      const port = server.port;
      await server[Symbol.asyncDispose]();
      await Deno.writeTextFile(
        join(dir.path, "server-identity.json"),
        await identityText("server-2"),
        { mode: 0o600 },
      );
      server = await startServer(dir.path, port);
      assertFails(await sfs(alice, ["search", "x", "--json"]), "KEY_MISMATCH", 3);
      const wrong = await sfs(alice, ["trust", await fingerprintOf(bob), "--yes", "--json"]);
      assert.equal(jsonError(wrong).code, "KEY_MISMATCH", wrong.stderr);
      const right = await sfs(alice, ["trust", server.fingerprint, "--yes", "--json"]);
      assert.equal(right.code, 0, right.stderr);
      assert.equal((await sfs(alice, ["search", "x", "--json"])).code, 0);
      assert.equal((await contacts(alice)).servers[0].fingerprint, server.fingerprint);
    });

    await t.step("forget HOST:PORT drops a server pin", async () => {
      const result = await sfs(alice, ["forget", server.address, "--yes", "--json"]);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual((await contacts(alice)).servers, []);
    });
  } finally {
    await server[Symbol.asyncDispose]();
  }
});

Deno.test("sfs unshare NAME withdraws your file by name, refusing an ambiguous one", async () => {
  await using dir = await tempDir();
  await seedServerIdentity(dir.path);
  await using server = await startServer(dir.path);
  const alice = await registeredHome(dir.path, server, "alice");
  const one = join(dir.path, "one");
  const two = join(dir.path, "two");
  await Deno.mkdir(one);
  await Deno.mkdir(two);
  await randomFile(join(one, "same.bin"), 100);
  await randomFile(join(two, "same.bin"), 200);
  await randomFile(join(one, "unique.bin"), 300);
  // One share per sfs send (several paths would make one tree): three senders.
  await using first = await startSender(alice, [join(one, "same.bin")]);
  await using second = await startSender(alice, [join(two, "same.bin")]);
  await using third = await startSender(alice, [join(one, "unique.bin")]);
  const ids = [first.id, second.id, third.id];
  assertFails(await sfs(alice, ["unshare", "same.bin", "--json"]), "USAGE", 2);
  const result = await sfs(alice, ["unshare", "unique.bin", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.events[0].id, ids[2]);
  const mine = await sfs(alice, ["ls", "--mine", "--json"]);
  const listed = JSON.parse(mine.stdout.split("\n").find((l) => l.startsWith("[")) ?? "[]");
  assert.deepEqual(listed.map((l: { id: string }) => l.id).sort(), ids.slice(0, 2).sort());
  assertFails(await sfs(alice, ["unshare", "nothing-like-it", "--json"]), "NOT_FOUND", 1);
});

Deno.test("sfs forget NAME forgets a contact pinned by a code (--as), with no index needed", async () => {
  await using dir = await tempDir();
  const home = await testHome(dir.path, "alice");
  const fingerprint = await fingerprintOf(home);
  // What `sfs get CODE --as carol` leaves (settings/contacts.ts).
  await Deno.writeTextFile(
    join(home, "contacts.json"),
    JSON.stringify({
      version: 1,
      contacts: { carol: { fingerprint, server: "127.0.0.1:7000" } },
    }),
  );
  const listed = JSON.parse((await sfs(home, ["contacts", "--json"])).stdout);
  assert.deepEqual(listed.contacts.map((c: { name: string }) => c.name), ["carol"]);
  // Asked first: without a terminal or --yes it keeps the contact.
  assertFails(await sfs(home, ["forget", "carol", "--json"]), "USAGE", 2);
  const result = await sfs(home, ["forget", "Carol", "--yes", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.events.find((e) => e.event === "forgotten"), {
    event: "forgotten",
    contact: "carol",
    fingerprint,
  });
  const after = JSON.parse((await sfs(home, ["contacts", "--json"])).stdout);
  assert.deepEqual(after.contacts, []);
  assertFails(await sfs(home, ["forget", "carol", "--yes", "--json"]), "USAGE", 2);
});
