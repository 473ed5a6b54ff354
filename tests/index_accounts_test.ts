/** Accounts on a real index server: register, login, rate limits, key rotation, server pinning. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isSfsError } from "../src/errors.ts";
import { tempDir } from "./harness.ts";
import { identityText, testHome } from "./identities.ts";
import {
  assertFails,
  connectClient,
  jsonError,
  PASSWORD,
  registeredHome,
  sfs,
  startServer,
} from "./index_fixture.ts";

Deno.test("sfs register and sfs login manage accounts on the index", async (t) => {
  await using dir = await tempDir();
  await using server = await startServer(join(dir.path, "server"));
  const alice = await registeredHome(dir.path, server, "alice");

  await t.step("register saves the server and user and pins the server key", async () => {
    const config = JSON.parse(await Deno.readTextFile(join(alice, "config.json")));
    assert.deepEqual(config, { server: server.address, user: "alice" });
    const pins = JSON.parse(await Deno.readTextFile(join(alice, "known_servers.json")));
    assert.equal(pins.servers[server.address], server.fingerprint);
  });

  await t.step("a username taken in another case is refused", async () => {
    const bob = await testHome(dir.path, "bob");
    const result = await sfs(bob, [
      "register",
      "--server",
      server.address,
      "--user",
      "ALICE",
      "--yes",
      "--json",
    ]);
    assertFails(result, "EXISTS", 1);
  });

  await t.step("an invalid username is a usage error", async () => {
    const result = await sfs(alice, ["register", "--user", "no spaces", "--json"]);
    assertFails(result, "USAGE", 2);
  });

  await t.step("without SFS_PASSWORD and no terminal, register fails clearly", async () => {
    const carol = await testHome(dir.path, "carol");
    const result = await sfs(carol, [
      "register",
      "--server",
      server.address,
      "--user",
      "carol",
      "--yes",
      "--json",
    ], { SFS_PASSWORD: "" });
    assertFails(result, "USAGE", 2);
  });

  await t.step("login accepts the right password", async () => {
    const result = await sfs(alice, ["login", "--user", "alice", "--json"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.events.at(-1)?.event, "logged_in");
    assert.equal(result.events.at(-1)?.keysMatch, true);
  });

  await t.step("wrong password and unknown user fail alike", async () => {
    const wrong = await sfs(alice, ["login", "--user", "alice", "--json"], {
      SFS_PASSWORD: "not the password",
    });
    const unknown = await sfs(alice, ["login", "--user", "nobody", "--json"]);
    assertFails(wrong, "AUTH_FAILED", 1);
    assertFails(unknown, "AUTH_FAILED", 1);
    assert.equal(jsonError(wrong).message, jsonError(unknown).message);
  });

  await t.step("--rotate-keys registers a new identity", async () => {
    // alice gets new keys: until she rotates, the index does not recognise her.
    await Deno.writeTextFile(join(alice, "identity.json"), await identityText("alice2"));
    assertFails(await sfs(alice, ["ls", "--mine", "--json"]), "AUTH_FAILED", 1);
    const plain = await sfs(alice, ["login", "--json"]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.events.at(-1)?.keysMatch, false);
    const rotated = await sfs(alice, ["login", "--rotate-keys", "--json"]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.equal(rotated.events.at(-1)?.keysMatch, true);
    const ls = await sfs(alice, ["ls", "--mine", "--json"]);
    assert.equal(ls.code, 0, ls.stderr);
  });
});

Deno.test("failed logins are rate-limited per user", async () => {
  await using dir = await tempDir();
  await using server = await startServer(join(dir.path, "server"));
  await registeredHome(dir.path, server, "bob");
  // In-process clients keep this fast; the server is the real process.
  const client = await connectClient(server, "bob");
  try {
    for (let i = 0; i < 5; i++) {
      await assert.rejects(
        client.login("bob", `guess ${i}`),
        (err) => isSfsError(err, "AUTH_FAILED"),
      );
    }
    await assert.rejects(client.login("bob", PASSWORD), (err) => isSfsError(err, "RATE_LIMITED"));
  } finally {
    client.close();
  }
});

Deno.test("the index server's key is pinned on first use and a change is refused", async (t) => {
  await using dir = await tempDir();
  const first = await startServer(join(dir.path, "server-a"));
  const home = await testHome(dir.path, "dave");
  const register = (extra: string[]) =>
    sfs(home, ["register", "--server", first.address, "--user", "dave", "--json", ...extra]);

  await t.step("an unknown server is refused without --yes or its fingerprint", async () => {
    const result = await register([]);
    assertFails(result, "USAGE", 2);
    assert.match(result.stderr, new RegExp(first.fingerprint));
  });
  await t.step("a wrong --server-fingerprint is a key mismatch", async () => {
    const other = JSON.parse(await identityText("alice")).fingerprint;
    assertFails(await register(["--server-fingerprint", other]), "KEY_MISMATCH", 3);
  });
  await t.step("the right fingerprint is accepted and pinned", async () => {
    const result = await register(["--server-fingerprint", first.fingerprint]);
    assert.equal(result.code, 0, result.stderr);
  });

  await t.step("another server on the same address is refused, even with --yes", async () => {
    const port = first.port;
    first.proc.kill("SIGTERM");
    assert.equal((await first.proc.status).code, 0);
    await first[Symbol.asyncDispose]();
    // A different database folder means a different server identity.
    await using impostor = await startServer(join(dir.path, "server-b"), port);
    assert.notEqual(impostor.fingerprint, first.fingerprint);
    const result = await sfs(home, ["ls", "--yes", "--json"]);
    assertFails(result, "KEY_MISMATCH", 3);
    assert.match(result.stderr, /warning/);
    assert.match(result.stderr, new RegExp(first.fingerprint));
    assert.match(result.stderr, new RegExp(impostor.fingerprint));
  });
});
