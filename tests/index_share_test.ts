/** Sharing through a real index server: announce, search, get, presence, --once, --to. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { randomFile, sha256File, tempDir } from "./harness.ts";
import {
  assertFails,
  eventually,
  registeredHome,
  seedServerIdentity,
  sfs,
  startSender,
  startServer,
} from "./index_fixture.ts";

interface ListingJson {
  id: string;
  name: string;
  owner: string;
  online: boolean;
  keywords: string[];
}

/** The JSON array `sfs search|ls --json` printed. */
function listings(stdout: string): ListingJson[] {
  const line = stdout.split("\n").find((l) => l.startsWith("["));
  assert.ok(line !== undefined, `no JSON array in:\n${stdout}`);
  return JSON.parse(line);
}

Deno.test("announce, search and get through the index", async (t) => {
  await using dir = await tempDir();
  await using server = await startServer(join(dir.path, "server"));
  const alice = await registeredHome(dir.path, server, "alice");
  const bob = await registeredHome(dir.path, server, "bob");
  const file = join(dir.path, "q3-report.bin");
  await randomFile(file, 300_000);
  await using sender = await startSender(alice, [file], [
    "--keyword",
    "quarterly",
    "--keyword",
    "finance",
  ]);
  assert.deepEqual(sender.ready.ids, [sender.id]);
  assert.equal(sender.ready.server, server.address);
  const out = join(dir.path, "out");
  await Deno.mkdir(out);

  await t.step("search finds the file by keyword, online", async () => {
    const result = await sfs(bob, ["search", "quarterly", "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const found = listings(result.stdout);
    assert.equal(found.length, 1);
    assert.equal(found[0].id, sender.id);
    assert.equal(found[0].owner, "alice");
    assert.equal(found[0].online, true);
    assert.deepEqual(found[0].keywords, ["quarterly", "finance"]);
    // And by a prefix of its name, in the human table.
    const human = await sfs(bob, ["search", "q3-rep"]);
    assert.match(human.stdout, new RegExp(sender.id));
  });

  await t.step("get asks before trusting the owner's key for the first time", async () => {
    assertFails(await sfs(bob, ["get", sender.id, "--out", out, "--json"]), "USAGE", 2);
  });

  await t.step("get by id downloads the same bytes from the owner", async () => {
    const result = await sfs(bob, ["get", sender.id, "--out", out, "--yes", "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const done = result.events.find((e) => e.event === "done");
    assert.equal(done?.sha256, await sha256File(file));
    assert.equal(done?.owner, "alice");
    assert.equal(await sha256File(join(out, "q3-report.bin")), await sha256File(file));
  });

  await t.step("get by name works too (the owner key is pinned now)", async () => {
    const result = await sfs(bob, ["get", "Q3-REPORT.BIN", "--out", out, "--force", "--json"]);
    assert.equal(result.code, 0, result.stderr);
  });

  await t.step("the file goes offline when the sender stops", async () => {
    sender.proc.kill("SIGTERM");
    await sender.proc.status;
    await eventually(
      async () => {
        const result = await sfs(bob, ["ls", "--json"]);
        return listings(result.stdout)[0]?.online === false;
      },
      10_000,
      "the listing shows offline",
    );
    const result = await sfs(bob, ["get", sender.id, "--out", out, "--force", "--json"]);
    assertFails(result, "CONNECTION_FAILED", 4);
  });

  await t.step("sfs unshare removes the listing", async () => {
    assertFails(await sfs(bob, ["unshare", sender.id, "--json"]), "NOT_FOUND", 1);
    const result = await sfs(alice, ["unshare", sender.id, "--json"]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(listings((await sfs(bob, ["ls", "--json"])).stdout), []);
  });
});

Deno.test("a name shared twice asks for an id; --once unshares after its transfer", async () => {
  await using dir = await tempDir();
  await using server = await startServer(join(dir.path, "server"));
  const alice = await registeredHome(dir.path, server, "alice");
  const bob = await registeredHome(dir.path, server, "bob");
  await Deno.mkdir(join(dir.path, "a"));
  await Deno.mkdir(join(dir.path, "b"));
  await randomFile(join(dir.path, "a", "notes.txt"), 1000);
  await randomFile(join(dir.path, "b", "notes.txt"), 2000);
  const out = join(dir.path, "out");
  await Deno.mkdir(out);

  {
    // Two shares of one name (several paths make one share now, so two senders).
    await using one = await startSender(alice, [join(dir.path, "a", "notes.txt")]);
    await using two = await startSender(alice, [join(dir.path, "b", "notes.txt")]);
    assert.notEqual(one.id, two.id);
    const result = await sfs(bob, ["get", "notes.txt", "--out", out, "--yes", "--json"]);
    assertFails(result, "USAGE", 2);
    const ambiguous = result.events.find((e) => e.event === "ambiguous");
    assert.equal((ambiguous?.matches as unknown[]).length, 2);
  }

  await using once = await startSender(alice, [join(dir.path, "a", "notes.txt")], ["--once"]);
  const result = await sfs(bob, ["get", once.id, "--out", out, "--yes", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal((await once.proc.status).code, 0);
  const ls = await sfs(bob, ["ls", "--json"]);
  assert.ok(!listings(ls.stdout).some((l) => l.id === once.id), "--once must unshare");
});

Deno.test("--to limits who sees the file, and the sender refuses anyone else", async () => {
  await using dir = await tempDir();
  await using server = await startServer(join(dir.path, "server"));
  const alice = await registeredHome(dir.path, server, "alice");
  const bob = await registeredHome(dir.path, server, "bob");
  const carol = await registeredHome(dir.path, server, "carol");
  const file = join(dir.path, "for-bob.bin");
  await randomFile(file, 5000);
  const out = join(dir.path, "out");
  await Deno.mkdir(out);

  // A recipient is a first contact too: the sender must agree to bob's key.
  const refused = await sfs(alice, [
    "send",
    file,
    "--to",
    "bob",
    "--listen",
    "127.0.0.1:0",
    "--json",
  ]);
  assertFails(refused, "USAGE", 2);

  await using sender = await startSender(alice, [file], ["--to", "bob", "--yes"]);
  assert.deepEqual(sender.ready.to, ["bob"]);

  const carolSees = await sfs(carol, ["search", "for-bob", "--json"]);
  assert.deepEqual(listings(carolSees.stdout), []);
  assertFails(await sfs(carol, ["get", sender.id, "--out", out, "--json"]), "NOT_FOUND", 1);
  // Even with the ticket, which skips the index, the sender turns carol's key away.
  const ticket = String((sender.ready.files as { ticket: string }[])[0].ticket);
  assertFails(await sfs(carol, ["get", ticket, "--out", out, "--json"]), "REFUSED", 1);
  assert.deepEqual([...Deno.readDirSync(out)], []);

  const bobSees = await sfs(bob, ["search", "for-bob", "--json"]);
  assert.equal(listings(bobSees.stdout).length, 1);
  const got = await sfs(bob, ["get", sender.id, "--out", out, "--yes", "--json"]);
  assert.equal(got.code, 0, got.stderr);
  assert.equal(await sha256File(join(out, "for-bob.bin")), await sha256File(file));
});

Deno.test("a file unshared while sfs send shares it stays withdrawn; a new send shares it again", async (t) => {
  await using dir = await tempDir();
  const serverDir = join(dir.path, "server");
  await seedServerIdentity(serverDir);
  let server = await startServer(serverDir);
  try {
    const alice = await registeredHome(dir.path, server, "alice");
    const bob = await registeredHome(dir.path, server, "bob");
    const a = join(dir.path, "a.bin");
    const b = join(dir.path, "b.bin");
    await randomFile(a, 2000);
    await randomFile(b, 3000);
    const out = join(dir.path, "out");
    await Deno.mkdir(out);
    // One share per sfs send: a folder or several paths would be one tree.
    await using senderA = await startSender(alice, [a]);
    await using sender = await startSender(alice, [b]);
    const [idA, idB] = [senderA.id, sender.id];
    const visible = async () =>
      listings((await sfs(bob, ["ls", "--json"])).stdout).map((l) => l.id);

    await t.step(
      "unshared while connected: the sender hears at its heartbeat, stops serving",
      async () => {
        const result = await sfs(alice, ["unshare", idA, "--json"]);
        assert.equal(result.code, 0, result.stderr);
        const withdrawn = await senderA.proc.nextEvent((e) => e.event === "withdrawn", 25_000);
        assert.equal(withdrawn.id, idA);
        // Its one share withdrawn, the sender stops serving and exits.
        assert.equal((await senderA.proc.status).code, 0);
        assert.deepEqual(await visible(), [idB]);
      },
    );

    await t.step("unshared, then the server restarts: the re-announcement is refused", async () => {
      const result = await sfs(alice, ["unshare", idB, "--json"]);
      assert.equal(result.code, 0, result.stderr);
      // Restarted at once: the sender finds out when it reconnects and announces again (or, if
      // its heartbeat came first, from that).
      server.proc.kill("SIGTERM");
      assert.equal((await server.proc.status).code, 0);
      await server[Symbol.asyncDispose]();
      server = await startServer(serverDir, server.port);
      const withdrawn = await sender.proc.nextEvent((e) => e.event === "withdrawn", 40_000);
      assert.equal(withdrawn.id, idB);
      // Nothing is left to share, so the sender stops by itself.
      assert.equal((await sender.proc.status).code, 0);
      assert.deepEqual(await visible(), []);
    });

    await t.step("a new sfs send of the same file shares it again", async () => {
      await using again = await startSender(alice, [a]);
      assert.equal(again.id, idA);
      assert.deepEqual(await visible(), [idA]);
      const got = await sfs(bob, ["get", idA, "--out", out, "--yes", "--json"]);
      assert.equal(got.code, 0, got.stderr);
      assert.equal(await sha256File(join(out, "a.bin")), await sha256File(a));
    });
  } finally {
    await server[Symbol.asyncDispose]();
  }
});
