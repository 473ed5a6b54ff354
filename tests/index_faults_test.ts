/**
 * The index server killed with SIGKILL in the middle of a burst of registrations and
 * announcements: after a restart on the same port and database, the database is intact, every
 * write a client saw acknowledged is there, and a sharing `sfs send` comes back online by
 * itself. (index_server_test.ts covers a kill while the server is idle.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { toHex } from "../src/crypto/bytes.ts";
import type { Identity } from "../src/crypto/identity.ts";
import { verifyListing } from "../src/index/protocol/announcement.ts";
import type { IndexClient } from "../src/index/client/client.ts";
import { SqliteStore } from "../src/index/server/store_sqlite.ts";
import { randomFile, runSfs, tempDir } from "./harness.ts";
import { identityText, testIdentity } from "./identities.ts";
import {
  connectClient,
  madeUpAnnouncement,
  PASSWORD,
  registeredHome,
  seedServerIdentity,
  type ServerProcess,
  sfs,
  startSender,
  startServer,
} from "./index_fixture.ts";

/** In-process clients writing at once. */
const WORKERS = 6;
/** Acknowledged writes to wait for before the kill. */
const ACKED_BEFORE_KILL = 15;
/** Identities the burst accounts share (an identity may hold several accounts). */
const BURST_IDENTITIES = ["alice", "bob", "carol", "mallory"] as const;

/** One write a client sent, and what became of it. */
interface Write {
  readonly kind: "register" | "announce";
  readonly user: string;
  /** The file id, for an announcement. */
  readonly id?: string;
  state: "sent" | "acked" | "failed";
}

/** Records writes, and wakes the test once enough were acknowledged. */
class Ledger {
  readonly writes: Write[] = [];
  readonly #enough = Promise.withResolvers<void>();

  /** Resolves once `ACKED_BEFORE_KILL` writes are acknowledged. */
  get enough(): Promise<void> {
    return this.#enough.promise;
  }

  /** Runs one write, recording it as sent, then acked or failed. */
  async track(write: Omit<Write, "state">, run: () => Promise<void>): Promise<void> {
    const entry: Write = { ...write, state: "sent" };
    this.writes.push(entry);
    try {
      await run();
      entry.state = "acked";
    } catch (err) {
      entry.state = "failed";
      throw err;
    }
    if (this.acked().length >= ACKED_BEFORE_KILL) this.#enough.resolve();
  }

  acked(kind?: Write["kind"]): Write[] {
    return this.writes.filter((w) => w.state === "acked" && (kind ?? w.kind) === w.kind);
  }
}

/**
 * One client's loop until the server goes away: register a fresh account on a new connection,
 * announce two files as it, and again.
 */
async function burst(
  server: ServerProcess,
  worker: number,
  ledger: Ledger,
  clients: Set<IndexClient>,
): Promise<void> {
  for (let round = 0;; round++) {
    const name = BURST_IDENTITIES[(worker + round) % BURST_IDENTITIES.length];
    const identity: Identity = await testIdentity(name);
    const user = `burst-${worker}-${round}`;
    const client = await connectClient(server, name);
    clients.add(client);
    try {
      await ledger.track({ kind: "register", user }, () => client.register(user, PASSWORD));
      for (let i = 0; i < 2; i++) {
        const { signed, fileId } = await madeUpAnnouncement(identity, {
          user,
          name: `${user}-${i}.dat`,
          size: i,
          keywords: ["burst"],
        });
        await ledger.track(
          { kind: "announce", user, id: toHex(fileId) },
          () => client.announce(signed),
        );
      }
    } finally {
      client.close();
      clients.delete(client);
    }
  }
}

/**
 * `sfs register` processes in a row, each in a fresh home, until one fails: the CLI's own
 * writes, acknowledged when it exits 0.
 */
async function cliBurst(parent: string, server: ServerProcess, ledger: Ledger): Promise<void> {
  for (let round = 0;; round++) {
    const user = `cli-${round}`;
    const home = join(parent, `home-${user}`);
    await Deno.mkdir(home, { recursive: true });
    await Deno.writeTextFile(join(home, "identity.json"), await identityText("carol"));
    await ledger.track({ kind: "register", user }, async () => {
      const result = await runSfs([
        "register",
        "--server",
        server.address,
        "--user",
        user,
        "--server-fingerprint",
        server.fingerprint,
        "--json",
      ], { home, env: { SFS_PASSWORD: PASSWORD } });
      if (result.code !== 0) throw new Error(result.stderr);
    });
  }
}

function sqliteRows(path: string, sql: string): Record<string, unknown>[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}

Deno.test("an index server killed mid-burst keeps every acknowledged write, and sharing resumes", async () => {
  await using dir = await tempDir();
  const serverDir = join(dir.path, "server");
  await seedServerIdentity(serverDir);
  const first = await startServer(serverDir);
  const [aliceHome, bobHome] = await Promise.all([
    registeredHome(dir.path, first, "alice"),
    registeredHome(dir.path, first, "bob"),
  ]);
  const file = join(dir.path, "shared.bin");
  await randomFile(file, 3000);
  await using sharing = await startSender(aliceHome, [file], ["--keyword", "survivor"]);

  // Keys ready before the burst, so it is all network and database work.
  await Promise.all(BURST_IDENTITIES.map((name) => testIdentity(name)));
  const ledger = new Ledger();
  const clients = new Set<IndexClient>();
  const bursts = [
    ...Array.from({ length: WORKERS }, (_, w) => burst(first, w, ledger, clients)),
    cliBurst(dir.path, first, ledger),
  ];
  // Every loop ends on its first failure (connection closed or refused), only after the kill.
  const ended = Promise.allSettled(bursts);
  let inFlight: number;
  try {
    const early = await Promise.race([ledger.enough, ended]);
    assert.equal(early, undefined, `a burst ended before the kill: ${JSON.stringify(early)}`);
    first.proc.kill("SIGKILL");
    // What was sent and not yet answered when the signal went out.
    inFlight = ledger.writes.filter((w) => w.state === "sent").length;
    await first.proc.status;
    assert.ok((await ended).every((o) => o.status === "rejected"));
  } finally {
    for (const client of clients) client.close();
    await first[Symbol.asyncDispose]();
  }
  assert.ok(inFlight >= 1, "the kill must land in the middle of writes");
  const acked = ledger.acked();
  assert.ok(acked.length >= ACKED_BEFORE_KILL);

  await using second = await startServer(serverDir, first.port);
  assert.equal(second.fingerprint, first.fingerprint);

  // The database survived the kill: SQLite's checks, foreign keys included.
  const integrity = sqliteRows(second.db, "PRAGMA integrity_check");
  assert.deepEqual(integrity.map((row) => row.integrity_check), ["ok"]);
  assert.deepEqual(sqliteRows(second.db, "PRAGMA foreign_key_check"), []);

  // Every acknowledged write is there, as the server serves it.
  const reader = await connectClient(second, "bob");
  try {
    const users = ledger.acked("register").map((w) => w.user);
    for (let i = 0; i < users.length; i += 32) {
      const keys = await reader.userKeys(users.slice(i, i + 32));
      assert.deepEqual([...keys.keys()].sort(), users.slice(i, i + 32).sort());
    }
    for (const write of ledger.acked("announce")) {
      const id = String(write.id);
      const [listing, ...more] = await reader.resolve(id);
      assert.deepEqual(more, [], id);
      const verified = await verifyListing(listing);
      assert.equal(verified.announcement.owner, write.user);
      assert.equal(toHex(verified.announcement.fileId), id);
    }
  } finally {
    reader.close();
  }

  // The sharing peer notices at its next heartbeat, reconnects and announces again.
  await sharing.proc.nextEvent((e) => e.event === "index" && e.status === "online", 30_000);
  const found = await sfs(bobHome, ["search", "survivor", "--json"]);
  assert.equal(found.code, 0, found.stderr);
  const listings = JSON.parse(found.stdout.split("\n").find((l) => l.startsWith("[")) ?? "[]");
  assert.deepEqual(listings.map((l: { id: string; online: boolean }) => [l.id, l.online]), [
    [sharing.id, true],
  ]);

  // A clean stop, then the store's own check, which covers the full-text index too.
  second.proc.kill("SIGTERM");
  assert.equal((await second.proc.status).code, 0);
  const store = SqliteStore.open(second.db);
  try {
    assert.equal(await store.integrityCheck(), "ok");
  } finally {
    await store.close();
  }
});
