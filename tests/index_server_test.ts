/** The index server process: crash safety, graceful shutdown and many clients at once. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { verifyListing } from "../src/index/protocol/announcement.ts";
import type { IndexClient } from "../src/index/client/client.ts";
import { randomFile, tempDir } from "./harness.ts";
import { testIdentity } from "./identities.ts";
import {
  connectClient,
  eventually,
  madeUpAnnouncement,
  registeredHome,
  sfs,
  startSender,
  startServer,
} from "./index_fixture.ts";

interface ListingJson {
  id: string;
  online: boolean;
}

async function visible(home: string): Promise<ListingJson[]> {
  const result = await sfs(home, ["ls", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout.split("\n").find((l) => l.startsWith("[")) ?? "[]");
}

Deno.test("a server killed with SIGKILL restarts with its accounts and listings", async () => {
  await using dir = await tempDir();
  const serverDir = join(dir.path, "server");
  const first = await startServer(serverDir);
  const alice = await registeredHome(dir.path, first, "alice");
  const bob = await registeredHome(dir.path, first, "bob");
  const file = join(dir.path, "kept.bin");
  await randomFile(file, 2000);
  await using sender = await startSender(alice, [file], ["--keyword", "durable"]);
  assert.equal((await visible(bob))[0]?.id, sender.id);

  first.proc.kill("SIGKILL");
  await first.proc.status;
  await first[Symbol.asyncDispose]();
  await using second = await startServer(serverDir, first.port);
  assert.equal(second.fingerprint, first.fingerprint, "the server identity must persist");

  // Accounts survived (bob authenticates), and so did the listing.
  const after = await visible(bob);
  assert.equal(after.length, 1);
  assert.equal(after[0].id, sender.id);
  // The sender notices at its next heartbeat (10 s), reconnects and announces again.
  await eventually(async () => (await visible(bob))[0]?.online === true, 20_000, "back online");

  second.proc.kill("SIGTERM");
  assert.equal((await second.proc.status).code, 0);
  await second.proc.drained();
  assert.ok(second.proc.stdoutText().includes('"event":"stopped"'), second.proc.stdoutText());
  const db = new DatabaseSync(second.db, { readOnly: true });
  try {
    const rows = db.prepare("PRAGMA integrity_check").all();
    assert.deepEqual(rows.map((r) => r.integrity_check), ["ok"]);
  } finally {
    db.close();
  }
});

Deno.test("50 clients announcing and searching at once all succeed", async () => {
  await using dir = await tempDir();
  await using server = await startServer(join(dir.path, "server"));
  await registeredHome(dir.path, server, "alice");
  await registeredHome(dir.path, server, "bob");
  const identities = { alice: await testIdentity("alice"), bob: await testIdentity("bob") };
  const clients: IndexClient[] = [];
  try {
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, async (_, i) => {
        const owner = i % 2 === 0 ? "alice" : "bob";
        const identity = identities[owner];
        const client = await connectClient(server, owner);
        clients.push(client);
        await client.auth(owner);
        const name = `load-${i}.dat`;
        const made = await madeUpAnnouncement(identity, {
          user: owner,
          name,
          size: i,
          keywords: ["load", `kw${i}z`],
        });
        await client.announce(made.signed);
        const found = await client.search(`kw${i}z`);
        assert.equal(found.length, 1);
        assert.equal((await verifyListing(found[0])).announcement.name, name);
        await client.search("load", { limit: 100 });
        await client.heartbeat();
      }),
    );
    const failures = results.filter((r) => r.status === "rejected");
    assert.deepEqual(failures, []);
    assert.equal((await clients[0].search("load", { limit: 100 })).length, 50);
  } finally {
    for (const client of clients) client.close();
  }
});
