/** `sfs server --listing-ttl` (issue 14): listings offline longer than the TTL are forgotten. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { randomFile, runSfs, startSfs, tempDir } from "./harness.ts";
import {
  eventually,
  registeredHome,
  seedServerIdentity,
  type ServerProcess,
  sfs,
  startSender,
} from "./index_fixture.ts";

/** `sfs server` with a listing TTL, as index_fixture's startServer starts it otherwise. */
async function startServerWithTtl(dir: string, ttl: string): Promise<ServerProcess> {
  const db = join(dir, "index.db");
  const proc = startSfs(
    ["server", "--listen", "127.0.0.1:0", "--db", db, "--json", "--listing-ttl", ttl],
    { home: dir },
  );
  const listening = await proc.nextEvent((e) => e.event === "listening", 30_000);
  return {
    proc,
    port: Number(listening.port),
    address: `127.0.0.1:${listening.port}`,
    fingerprint: String(listening.fingerprint),
    db,
    [Symbol.asyncDispose]: () => proc[Symbol.asyncDispose](),
  };
}

async function listed(home: string, id: string): Promise<boolean> {
  const found = await sfs(home, ["search", "ttl", "--json"]);
  assert.equal(found.code, 0, found.stderr);
  return found.stdout.includes(id);
}

Deno.test("sfs server --listing-ttl forgets offline listings, never online ones", async () => {
  await using dir = await tempDir();
  await seedServerIdentity(dir.path);
  await using server = await startServerWithTtl(dir.path, "2s");
  const alice = await registeredHome(dir.path, server, "alice");
  const bob = await registeredHome(dir.path, server, "bob");
  const file = join(dir.path, "ttl-report.bin");
  await randomFile(file, 100);
  const sender = await startSender(alice, [file], ["--keyword", "ttl"]);
  // Online for twice the TTL: still listed.
  await new Promise((resolve) => setTimeout(resolve, 4_000));
  assert.ok(await listed(bob, sender.id), "an online listing outlives the TTL");
  await sender[Symbol.asyncDispose]();
  await eventually(async () => !await listed(bob, sender.id), 20_000, "the listing expired");
});

Deno.test("sfs server refuses a malformed --listing-ttl with USAGE", async () => {
  for (const ttl of ["3", "0s", "2w", "-1d", "400d"]) {
    const result = await runSfs(["server", "--listing-ttl", ttl, "--json"]);
    assert.equal(result.code, 2, `${ttl}: ${result.stderr}`);
  }
});
