import assert from "node:assert/strict";
import { type ErrorCode, isSfsError } from "../../errors.ts";
import { constantTimeEqual } from "../../crypto/bytes.ts";
import type { Identity } from "../../crypto/identity.ts";
import { testIdentity } from "../../../tests/identities.ts";
import { fileIdOf } from "../../crypto/file_id.ts";
import { signAnnouncement, verifyListing } from "../protocol/announcement.ts";
import { IndexClient } from "../client/client.ts";
import { IndexServer, type IndexServerOptions } from "./server.ts";
import { SqliteStore } from "./store_sqlite.ts";

const PASSWORD = "correct horse battery";

function code(expected: ErrorCode): (err: unknown) => boolean {
  return (err) => isSfsError(err, expected);
}

/** An in-process server on a loopback port with its own database, shut down on dispose. */
async function startServer(options: Partial<IndexServerOptions> = {}) {
  const dir = await Deno.makeTempDir({ prefix: "sfs-server-test-" });
  const serverIdentity = await testIdentity("server");
  const store = SqliteStore.open(`${dir}/index.db`);
  const server = IndexServer.listen({
    identity: serverIdentity,
    store,
    hostname: "127.0.0.1",
    port: 0,
    passwordHash: { N: 2 ** 4 },
    ...options,
  });
  const clients: IndexClient[] = [];
  return {
    server,
    dir,
    async connect(identity: Identity): Promise<IndexClient> {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
      const client = await IndexClient.connect(conn, identity, {
        verifyServer: (s) => {
          assert.ok(constantTimeEqual(s.fingerprint, serverIdentity.public.fingerprint));
        },
      });
      clients.push(client);
      return client;
    },
    async [Symbol.asyncDispose]() {
      for (const client of clients) client.close();
      await server.shutdown(1000);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function announcement(identity: Identity, owner: string, name: string) {
  const sha256 = crypto.getRandomValues(new Uint8Array(32));
  return await signAnnouncement(identity, {
    fileId: await fileIdOf(identity.public.fingerprint, sha256, name),
    owner,
    ownerFingerprint: identity.public.fingerprint,
    name,
    size: 3,
    sha256,
    keywords: ["holiday"],
    recipients: [],
    address: "127.0.0.1:9",
    createdAt: Date.now(),
  });
}

Deno.test("IndexServer serves accounts, announcements and search over real sockets", async () => {
  await using s = await startServer();
  const alice = await testIdentity("alice");
  const bob = await testIdentity("bob");
  const a = await s.connect(alice);
  await a.register("alice", PASSWORD);
  await a.announce(await announcement(alice, "alice", "beach.jpg"));
  await a.heartbeat();

  const b = await s.connect(bob);
  // Anonymous: public listings and keys only.
  const found = await b.search("holiday");
  assert.equal(found.length, 1);
  assert.equal((await verifyListing(found[0])).announcement.name, "beach.jpg");
  const keys = await b.userKeys(["Alice", "nobody"]);
  assert.deepEqual([...keys.keys()], ["alice"]);
  await assert.rejects(b.heartbeat(), code("AUTH_FAILED"));
  // A refused request leaves the connection usable.
  assert.equal((await b.list()).length, 1);
});

Deno.test("IndexServer marks a session offline when its connection drops", async () => {
  await using s = await startServer();
  const alice = await testIdentity("alice");
  const a = await s.connect(alice);
  await a.register("alice", PASSWORD);
  await a.announce(await announcement(alice, "alice", "notes.txt"));
  const b = await s.connect(await testIdentity("bob"));
  assert.equal((await b.resolve("notes.txt"))[0].online, true);
  a.close();
  // The server notices the close on its own schedule; poll briefly.
  for (let i = 0; i < 50 && (await b.resolve("notes.txt"))[0].online; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal((await b.resolve("notes.txt"))[0].online, false);
});

Deno.test("IndexServer answers BUSY beyond maxConnections, leaving the others unaffected", async () => {
  await using s = await startServer({ maxConnections: 1 });
  const first = await s.connect(await testIdentity("alice"));
  // A connection takes its slot with its first request, the proof that it holds its keys.
  assert.deepEqual(await first.list(), []);
  await assert.rejects(s.connect(await testIdentity("bob")), code("BUSY"));
  assert.deepEqual(await first.list(), []);
});

Deno.test("IndexServer answers BUSY to a first request once the last slot went to a proven client", async () => {
  await using s = await startServer({ maxConnections: 1 });
  // Both finish their handshake: neither has proved its keys yet, so neither holds the slot.
  const first = await s.connect(await testIdentity("alice"));
  const second = await s.connect(await testIdentity("bob"));
  assert.deepEqual(await first.list(), []);
  await assert.rejects(second.list(), code("BUSY"));
  assert.deepEqual(await first.list(), []);
});

Deno.test("IndexServer serves a client while a flood of silent connections exceeds its limits", async () => {
  await using s = await startServer({ maxConnections: 8 });
  const flood: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < 100; i++) {
      flood.push(await Deno.connect({ hostname: "127.0.0.1", port: s.server.addr.port }));
    }
    // The oldest silent connections were dropped to make room; an honest client gets through.
    const client = await s.connect(await testIdentity("bob"));
    assert.deepEqual(await client.list(), []);
  } finally {
    for (const conn of flood) conn.close();
  }
});

Deno.test("IndexServer closes a connection that stays silent past the idle deadline", async () => {
  await using s = await startServer({ idleTimeoutMs: 200 });
  const client = await s.connect(await testIdentity("alice"));
  await new Promise((r) => setTimeout(r, 500));
  await assert.rejects(client.list(), code("CONNECTION_CLOSED"));
  assert.ok(client.closed);
});

Deno.test("IndexServer.shutdown() closes idle connections and the store", async () => {
  const s = await startServer();
  const client = await s.connect(await testIdentity("alice"));
  await s.server.shutdown(1000);
  await assert.rejects(client.list(), code("CONNECTION_CLOSED"));
  assert.equal(s.server.connectionCount, 0);
  await s[Symbol.asyncDispose]();
});
