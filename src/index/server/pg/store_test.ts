/**
 * What only the PostgreSQL store has to get right, against a real cluster (`SFS_TEST_PG_URL`):
 * migrations when servers start together, and several stores (servers) on one database sharing
 * presence, attempt counts and quotas. The rules both stores share are in ../store_test.ts.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { type ErrorCode, isSfsError } from "../../../errors.ts";
import { freshDatabase, pgMissing } from "../../../../tests/store_backends.ts";
import type { Announcement } from "../store.ts";
import { MAX_NOTIFY_BYTES, PG_SCHEMA_VERSION, PgStore, type PgStoreOptions } from "./store.ts";

const T0 = Date.UTC(2025, 0, 1);
const TIMEOUT = 30_000;

function code(expected: ErrorCode): (err: unknown) => boolean {
  return (err) => isSfsError(err, expected);
}

/** Two stores (two servers) on one fresh database, on one manual clock. */
async function twoServers(): Promise<
  { a: PgStore; b: PgStore; clock: { ms: number }; url: string } & AsyncDisposable
> {
  const db = await freshDatabase();
  const clock = { ms: T0 };
  const options: PgStoreOptions = {
    now: () => clock.ms,
    presenceTimeoutMs: TIMEOUT,
    serverBeatMs: 0,
  };
  const a = await PgStore.connect(db.url, options);
  const b = await PgStore.connect(db.url, options);
  return {
    a,
    b,
    clock,
    url: db.url,
    async [Symbol.asyncDispose]() {
      await a.close();
      await b.close();
      await db[Symbol.asyncDispose]();
    },
  };
}

function announcement(ownerId: number, sessionId: string, n: number): Announcement {
  return {
    id: n.toString(16).padStart(32, "0"),
    ownerId,
    sessionId,
    name: `file ${n}.txt`,
    size: n,
    sha256: "ab".repeat(32),
    keywords: ["shared"],
    recipients: [],
    address: "127.0.0.1:4001",
    createdAt: T0 - 1000,
    announcement: Uint8Array.of(1, 2, 3),
    signature: Uint8Array.of(9, 9),
  };
}

async function user(store: PgStore, name: string): Promise<number> {
  return await store.createUser({
    username: name,
    passwordHash: "h",
    identity: new TextEncoder().encode(`identity-of-${name}`),
    fingerprint: `fp-${name}`,
  });
}

Deno.test({
  name: "PgStore.connect() migrates once when several servers start together",
  ignore: pgMissing(),
  async fn() {
    await using db = await freshDatabase();
    const stores = await Promise.all(
      Array.from({ length: 6 }, () => PgStore.connect(db.url, { serverBeatMs: 0 })),
    );
    try {
      for (const store of stores) assert.equal(await store.schemaVersion(), PG_SCHEMA_VERSION);
      const sql = postgres(db.url, { max: 1, onnotice: () => {} });
      try {
        const rows = await sql`SELECT version FROM sfs_schema`;
        assert.deepEqual(rows.map((r) => r.version), [PG_SCHEMA_VERSION]);
      } finally {
        await sql.end();
      }
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  },
});

Deno.test({
  name: "PgStore.connect() refuses a database from a newer sfs and reports bad URLs",
  ignore: pgMissing(),
  async fn() {
    await using db = await freshDatabase();
    await (await PgStore.connect(db.url, { serverBeatMs: 0 })).close();
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      await sql`UPDATE sfs_schema SET version = ${PG_SCHEMA_VERSION + 1}`;
    } finally {
      await sql.end();
    }
    await assert.rejects(PgStore.connect(db.url), code("VERSION_MISMATCH"));
    await assert.rejects(PgStore.connect("postgres://127.0.0.1:1/x"), code("USAGE"));
    // Nothing listens on port 1: the driver's connection failure is IO.
    await assert.rejects(PgStore.connect("postgres://u@127.0.0.1:1/x"), code("IO"));
  },
});

Deno.test({
  name: "a session held by server A shows online on server B until its heartbeats stop",
  ignore: pgMissing(),
  async fn() {
    await using s = await twoServers();
    const alice = await user(s.a, "alice");
    await s.a.setOnline(alice, "s-alice", "127.0.0.1:4001");
    const file = announcement(alice, "s-alice", 1);
    await s.a.announce(file);
    assert.equal((await s.b.get(file.id))?.online, true);
    assert.equal(await s.b.sessionServer("s-alice"), s.a.serverId);
    assert.equal(await s.b.listingServer(file.id), s.a.serverId);
    assert.equal(await s.b.listingServer("00".repeat(16)), undefined);

    // No heartbeat for the whole timeout: offline on B before any sweep ran.
    s.clock.ms += TIMEOUT + 1;
    assert.equal((await s.b.get(file.id))?.online, false);
    assert.equal((await s.b.search("shared"))[0]?.online, false);
    await s.a.heartbeat("s-alice");
    assert.equal((await s.b.get(file.id))?.online, true);
  },
});

Deno.test({
  name: "expireOrphans() on a starting server keeps live servers' sessions, drops dead ones'",
  ignore: pgMissing(),
  async fn() {
    await using s = await twoServers();
    const alice = await user(s.a, "alice");
    await s.a.setOnline(alice, "s-alice", "127.0.0.1:4001");
    await s.a.announce(announcement(alice, "s-alice", 2));
    // A beats (it connected at T0): B starting now must not take A's peers offline.
    assert.equal(await s.b.expireOrphans(), 0);
    assert.equal(await s.b.sessionServer("s-alice"), s.a.serverId);
    // A stops beating (as after SIGKILL): a server starting after the timeout drops its sessions.
    s.clock.ms += TIMEOUT + 1;
    assert.equal(await s.b.expireOrphans(), 1);
    assert.equal(await s.b.sessionServer("s-alice"), undefined);
    assert.equal((await s.b.list())[0]?.online, false);
  },
});

Deno.test({
  name: "notify() reaches the server that listen()s, by server id",
  ignore: pgMissing(),
  async fn() {
    await using s = await twoServers();
    const received = Promise.withResolvers<string>();
    const listener = await s.b.listen((payload) => received.resolve(payload));
    try {
      await s.a.notify(s.b.serverId, '{"ask":"dial"}');
      assert.equal(await received.promise, '{"ask":"dial"}');
      await assert.rejects(
        s.a.notify(s.b.serverId, "x".repeat(MAX_NOTIFY_BYTES + 1)),
        code("BAD_MESSAGE"),
      );
      await assert.rejects(s.a.notify("bad id; DROP", "x"), code("BAD_MESSAGE"));
    } finally {
      await listener.close();
    }
  },
});

Deno.test({
  name: "recordAttemptWithin() lets exactly max through when two servers race",
  ignore: pgMissing(),
  async fn() {
    await using s = await twoServers();
    const results = await Promise.all(
      Array.from(
        { length: 60 },
        (_, i) => (i % 2 ? s.a : s.b).recordAttemptWithin("register:192.0.2.1", T0 - 1000, 10),
      ),
    );
    assert.equal(results.filter((ok) => ok).length, 10);
    assert.equal(await s.b.attemptsSince("register:192.0.2.1", 0), 10);
  },
});

Deno.test({
  name: "announce() keeps the listing quota when two servers announce at once",
  ignore: pgMissing(),
  async fn() {
    await using s = await twoServers();
    const alice = await user(s.a, "alice");
    await s.a.setOnline(alice, "s-alice", "127.0.0.1:4001");
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2 ? s.a : s.b).announce({
          ...announcement(alice, "s-alice", 100 + i),
          maxOwnerListings: 5,
        })),
    );
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 5);
    for (const r of results) {
      if (r.status === "rejected") assert.ok(code("QUOTA_EXCEEDED")(r.reason), String(r.reason));
    }
    assert.equal((await s.b.list({ viewer: alice, mine: true })).length, 5);
  },
});

Deno.test({
  name: "announceMany() batches naming the same owners in opposite orders do not deadlock",
  ignore: pgMissing(),
  async fn() {
    // Group commit runs a new batch while the last one is still in its transaction; each batch
    // locked its owners in arrival order, so two batches could each hold the owner the other
    // waited for: PostgreSQL then aborted one after deadlock_timeout (1 s) with 40P01.
    await using s = await twoServers();
    const alice = await user(s.a, "alice");
    const bob = await user(s.a, "bob");
    await s.a.setOnline(alice, "s-alice", "127.0.0.1:4001");
    await s.a.setOnline(bob, "s-bob", "127.0.0.1:4002");
    let n = 0;
    const file = (owner: number) =>
      owner === alice ? announcement(alice, "s-alice", ++n) : announcement(bob, "s-bob", ++n);
    for (let round = 0; round < 15; round++) {
      await Promise.all([
        s.a.announceMany([file(alice), file(bob)]),
        s.b.announceMany([file(bob), file(alice)]),
        s.a.announceMany([file(bob), file(alice)]),
      ]);
    }
    assert.equal((await s.a.list({ viewer: alice, limit: 100 })).length, n);
  },
});
