import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { type ErrorCode, isSfsError } from "../../errors.ts";
import { type Announcement, type IndexStore } from "./store.ts";
import { SCHEMA_VERSION } from "./database.ts";
import { SqliteStore } from "./store_sqlite.ts";
import {
  type Backend,
  type BackendOptions,
  type StoreLocation,
  storeTest,
} from "../../../tests/store_backends.ts";
import { MIGRATIONS } from "./schema.ts";
import { SEARCH_RANK_WINDOW } from "./statements.ts";
import {
  MAX_KEYWORD_BYTES,
  MAX_KEYWORDS,
  MAX_LIST_OFFSET,
  MAX_LISTINGS,
  MAX_NAME_BYTES,
  MAX_RECIPIENTS,
} from "../protocol/limits.ts";

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2025, 0, 1);

/** A manual clock: tests move time with `advance`, never by waiting. */
class Clock {
  ms = T0;
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A temp directory holding one database file, removed on dispose. */
async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "sfs-store-test-" });
  return {
    path: `${dir}/index.db`,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

function code(expected: ErrorCode): (err: unknown) => boolean {
  return (err) => isSfsError(err, expected);
}

let nextFileId = 1;
function fileId(): string {
  return (nextFileId++).toString(16).padStart(64, "0");
}

/** Three users with one online session each, and helpers to announce files. */
class Fixture implements AsyncDisposable {
  readonly clock: Clock;
  readonly location: StoreLocation;
  readonly store: IndexStore;
  alice = 0;
  bob = 0;
  carol = 0;

  private constructor(location: StoreLocation, store: IndexStore, clock: Clock) {
    this.location = location;
    this.store = store;
    this.clock = clock;
  }

  /**
   * A fresh store of `backend`. PostgreSQL computes presence when read; a day of grace keeps
   * the tests that move the clock by hours about the rows, as with SQLite (presence has its own).
   */
  static async open(backend: Backend, options: BackendOptions = {}): Promise<Fixture> {
    const clock = new Clock();
    const location = await backend.create();
    const store = await location.open({ now: clock.now, presenceTimeoutMs: DAY, ...options });
    const f = new Fixture(location, store, clock);
    f.alice = await f.#user("Alice");
    f.bob = await f.#user("bob");
    f.carol = await f.#user("carol");
    await store.setOnline(f.alice, "s-alice", "127.0.0.1:4001");
    await store.setOnline(f.bob, "s-bob", "127.0.0.1:4002");
    await store.setOnline(f.carol, "s-carol", "[::1]:4003");
    return f;
  }

  #user(name: string): Promise<number> {
    return this.store.createUser({
      username: name,
      passwordHash: `hash-of-${name}`,
      identity: new TextEncoder().encode(`identity-of-${name}`),
      fingerprint: `fp-${name.toLowerCase()}`,
    });
  }

  /** The backend's consistency check. */
  integrityCheck(): Promise<string> {
    return this.location.integrityCheck(this.store);
  }

  /** A valid announcement by alice unless overridden. */
  file(fields: Partial<Announcement> = {}): Announcement {
    return {
      id: fileId(),
      ownerId: this.alice,
      sessionId: "s-alice",
      name: "report.pdf",
      size: 1234,
      sha256: "ab".repeat(32),
      keywords: [],
      recipients: [],
      address: "127.0.0.1:4001",
      createdAt: T0 - 1000,
      announcement: Uint8Array.of(1, 2, 3),
      signature: Uint8Array.of(9, 9),
      ...fields,
    };
  }

  /** Announces and returns the file. */
  async share(fields: Partial<Announcement> = {}): Promise<Announcement> {
    const file = this.file(fields);
    await this.store.announce(file);
    return file;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.store.close();
    } finally {
      await this.location[Symbol.asyncDispose]();
    }
  }
}

function ids(rows: { id: string }[]): string[] {
  return rows.map((row) => row.id).sort();
}

Deno.test({
  name: "SqliteStore.open() creates the database 0600 and narrows one readable by others",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    await using dir = await tempDir();
    const modes = () =>
      ["", "-wal", "-shm"].map((suffix) => (Deno.statSync(dir.path + suffix).mode! & 0o777));
    const store = SqliteStore.open(dir.path);
    await store.createUser({
      username: "alice",
      passwordHash: "h",
      identity: Uint8Array.of(1),
      fingerprint: "fp",
    });
    assert.deepEqual(modes(), [0o600, 0o600, 0o600]);
    await store.close();
    // As an older sfs left it: readable by everyone.
    Deno.chmodSync(dir.path, 0o644);
    await SqliteStore.open(dir.path).close();
    assert.equal(Deno.statSync(dir.path).mode! & 0o777, 0o600);
  },
});

Deno.test("SqliteStore.open() migrates once and reopens without migrating again", async () => {
  await using dir = await tempDir();
  const first = SqliteStore.open(dir.path);
  assert.equal(await first.schemaVersion(), SCHEMA_VERSION);
  await first.createUser({
    username: "alice",
    passwordHash: "h",
    identity: Uint8Array.of(1),
    fingerprint: "fp",
  });
  await first.close();
  for (let i = 0; i < 2; i++) {
    // A second run of migration 1 would fail on CREATE TABLE, so success means it was skipped.
    const again = SqliteStore.open(dir.path);
    assert.equal(await again.schemaVersion(), SCHEMA_VERSION);
    assert.equal((await again.getUser("alice"))?.fingerprint, "fp");
    assert.equal(await again.integrityCheck(), "ok");
    await again.close();
  }
});

Deno.test("SqliteStore.open() puts the database in WAL mode", async () => {
  await using dir = await tempDir();
  await SqliteStore.open(dir.path).close();
  const raw = new DatabaseSync(dir.path);
  try {
    // WAL is recorded in the file; foreign_keys is per connection and the cascade tests show it.
    assert.equal(raw.prepare("PRAGMA journal_mode").get()?.journal_mode, "wal");
  } finally {
    raw.close();
  }
});

Deno.test("SqliteStore.open() upgrades a version 2 database to the 2 3 4 prefix index", async () => {
  await using dir = await tempDir();
  const raw = new DatabaseSync(dir.path);
  raw.exec(MIGRATIONS[0]);
  raw.exec(MIGRATIONS[1]);
  raw.exec("PRAGMA user_version = 2");
  raw.exec(`
    INSERT INTO users VALUES (1, 'alice', 'alice', 'h', x'01', 'fp', 0, 0);
    INSERT INTO sessions VALUES ('s', 1, '127.0.0.1:1', 1, 0, 0);
    INSERT INTO announcements (seq, id, owner_id, session_id, name, name_key, size, sha256,
      keywords, public, address, created_at, updated_at, announcement, signature)
    VALUES (7, 'f1', 1, 's', 'Budget 2025.xlsx', 'budget 2025.xlsx', 1, 'ab', 'finance', 1,
      '127.0.0.1:1', 0, 0, x'01', x'02')`);
  raw.close();
  const store = SqliteStore.open(dir.path);
  try {
    assert.equal(await store.schemaVersion(), SCHEMA_VERSION);
    // The rebuilt index holds the listing stored before the upgrade.
    assert.deepEqual(ids(await store.search("budg")), ["f1"]);
    assert.deepEqual(ids(await store.search("finance")), ["f1"]);
    assert.equal(await store.integrityCheck(), "ok");
  } finally {
    await store.close();
  }
  const check = new DatabaseSync(dir.path);
  try {
    const sql = check.prepare("SELECT sql FROM sqlite_schema WHERE name = 'announcements_fts'")
      .get()?.sql;
    assert.match(String(sql), /prefix = '2 3 4'/);
  } finally {
    check.close();
  }
});

Deno.test("SqliteStore.open() refuses a database from a newer sfs", async () => {
  await using dir = await tempDir();
  const raw = new DatabaseSync(dir.path);
  raw.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
  raw.close();
  assert.throws(() => SqliteStore.open(dir.path), code("VERSION_MISMATCH"));
});

Deno.test("SqliteStore.open() reports an unusable path as IO", () => {
  assert.throws(() => SqliteStore.open("/nonexistent-dir/sub/index.db"), code("IO"));
});

storeTest("createUser() refuses a taken username in any case with EXISTS", async (b) => {
  await using f = await Fixture.open(b);
  const user = { passwordHash: "h", identity: Uint8Array.of(1), fingerprint: "fp" };
  await assert.rejects(() => f.store.createUser({ username: "ALICE", ...user }), code("EXISTS"));
  await assert.rejects(() => f.store.createUser({ username: "alice", ...user }), code("EXISTS"));
  await assert.rejects(() => f.store.createUser({ username: "no", ...user }), code("USAGE"));
  const dave = await f.store.createUser({ username: "Dave", ...user });
  assert.ok(dave > f.carol);
});

storeTest("getUser() finds a user ignoring case and keeps the typed spelling", async (b) => {
  await using f = await Fixture.open(b);
  const user = await f.store.getUser("aLiCe");
  assert.deepEqual(user, {
    id: f.alice,
    username: "Alice",
    passwordHash: "hash-of-Alice",
    identity: new TextEncoder().encode("identity-of-Alice"),
    fingerprint: "fp-alice",
    createdAt: T0,
    keysUpdatedAt: T0,
  });
  assert.deepEqual(await f.store.getUserById(f.alice), user);
  assert.equal(await f.store.getUser("nobody"), undefined);
  assert.equal(await f.store.getUser("not a valid name!"), undefined);
  assert.equal(await f.store.getUserById(9999), undefined);
});

storeTest("updateUserKeys() replaces the identity and stamps the time", async (b) => {
  await using f = await Fixture.open(b);
  f.clock.advance(HOUR);
  await f.store.updateUserKeys(f.bob, Uint8Array.of(7, 7), "fp-new");
  const bob = await f.store.getUser("bob");
  assert.deepEqual(bob?.identity, Uint8Array.of(7, 7));
  assert.equal(bob?.fingerprint, "fp-new");
  assert.equal(bob?.keysUpdatedAt, T0 + HOUR);
  assert.equal(bob?.createdAt, T0);
  await assert.rejects(
    () => f.store.updateUserKeys(9999, Uint8Array.of(1), "x"),
    code("NOT_FOUND"),
  );
});

storeTest("updatePasswordHash() replaces the stored hash", async (b) => {
  await using f = await Fixture.open(b);
  await f.store.updatePasswordHash(f.carol, "scrypt$new");
  assert.equal((await f.store.getUser("carol"))?.passwordHash, "scrypt$new");
  await assert.rejects(() => f.store.updatePasswordHash(9999, "x"), code("NOT_FOUND"));
});

storeTest("recordAttempt() counts per key and time, and clearAttempts() resets", async (b) => {
  await using f = await Fixture.open(b);
  await f.store.recordAttempt("user:alice");
  f.clock.advance(1000);
  await f.store.recordAttempt("user:alice");
  await f.store.recordAttempt("addr:127.0.0.1");
  assert.equal(await f.store.attemptsSince("user:alice", T0), 2);
  assert.equal(await f.store.attemptsSince("user:alice", T0 + 1), 1);
  assert.equal(await f.store.attemptsSince("addr:127.0.0.1", T0), 1);
  assert.equal(await f.store.attemptsSince("user:bob", T0), 0);
  await f.store.clearAttempts("user:alice");
  assert.equal(await f.store.attemptsSince("user:alice", 0), 0);
  assert.equal(await f.store.attemptsSince("addr:127.0.0.1", 0), 1);
});

storeTest("recordAttempt() prunes rows older than the retention", async (b) => {
  await using f = await Fixture.open(b, { failedLoginRetentionMs: HOUR });
  await f.store.recordAttempt("user:alice");
  await f.store.recordAttempt("user:alice");
  f.clock.advance(HOUR + 1);
  await f.store.recordAttempt("user:alice");
  // Counting from 0 would still see pruned rows if they were kept.
  assert.equal(await f.store.attemptsSince("user:alice", 0), 1);
});

storeTest(
  "setOnline() creates a session; heartbeat() and setOffline() track presence",
  async (b) => {
    await using f = await Fixture.open(b);
    const file = await f.share({ name: "presence.txt" });
    const row = async () => await f.store.get(file.id);
    assert.equal((await row())?.online, true);
    assert.equal((await row())?.lastSeen, T0);

    f.clock.advance(5000);
    assert.equal(await f.store.heartbeat("s-alice"), true);
    assert.equal((await row())?.lastSeen, T0 + 5000);

    f.clock.advance(1000);
    assert.equal(await f.store.setOffline("s-alice"), true);
    assert.equal((await row())?.online, false);
    assert.equal((await row())?.lastSeen, T0 + 6000);

    await f.store.setOnline(f.alice, "s-alice", "127.0.0.1:5001");
    assert.equal((await row())?.online, true);

    assert.equal(await f.store.heartbeat("no-such-session"), false);
    assert.equal(await f.store.setOffline("no-such-session"), false);
  },
);

storeTest("setOnline() refuses another user's session id and unknown users", async (b) => {
  await using f = await Fixture.open(b);
  await assert.rejects(() => f.store.setOnline(f.bob, "s-alice", "127.0.0.1:1"), code("EXISTS"));
  await assert.rejects(() => f.store.setOnline(9999, "s-new", "127.0.0.1:1"), code("NOT_FOUND"));
  await assert.rejects(() => f.store.setOnline(f.bob, "", "127.0.0.1:1"), code("BAD_MESSAGE"));
  await assert.rejects(() => f.store.setOnline(f.bob, "s2", "no-port"), code("BAD_MESSAGE"));
  await assert.rejects(() => f.store.setOnline(f.bob, "s2", "host:70000"), code("BAD_MESSAGE"));
});

storeTest("expireStale() marks silent sessions offline and heartbeat() revives them", async (b) => {
  await using f = await Fixture.open(b);
  const aliceFile = await f.share();
  const bobFile = await f.share({ ownerId: f.bob, sessionId: "s-bob" });
  f.clock.advance(60_000);
  await f.store.heartbeat("s-bob");
  f.clock.advance(30_000);
  // alice was last heard 90 s ago, bob 30 s ago, carol 90 s ago.
  assert.equal(await f.store.expireStale(60_000), 2);
  assert.equal((await f.store.get(aliceFile.id))?.online, false);
  assert.equal((await f.store.get(bobFile.id))?.online, true);
  assert.equal(await f.store.expireStale(60_000), 0);
  await f.store.heartbeat("s-alice");
  assert.equal((await f.store.get(aliceFile.id))?.online, true);
});

storeTest(
  "pruneOfflineSessions() deletes long-gone sessions with their announcements",
  async (b) => {
    await using f = await Fixture.open(b);
    const file = await f.share({ name: "gone.bin", keywords: ["vanishing"] });
    await f.store.setOffline("s-alice");
    f.clock.advance(HOUR);
    assert.equal(await f.store.pruneOfflineSessions(2 * HOUR), 0);
    assert.equal(await f.store.pruneOfflineSessions(HOUR - 1), 1);
    assert.equal(await f.store.heartbeat("s-alice"), false);
    // Reviving the session id must not bring back the listing: the cascade really deleted it.
    await f.store.setOnline(f.alice, "s-alice", "127.0.0.1:4001");
    assert.equal(await f.store.get(file.id, f.alice), undefined);
    // The next listing may reuse the deleted rowid; a stale FTS entry would then match it.
    const next = await f.share({ name: "fresh.bin" });
    assert.deepEqual(await f.store.search("vanishing"), []);
    assert.deepEqual(ids(await f.store.search("fresh")), [next.id]);
    assert.equal(await f.integrityCheck(), "ok");
  },
);

storeTest("announce() stores a file that search() returns with every field", async (b) => {
  await using f = await Fixture.open(b);
  const file = await f.share({ name: "Quarterly Report.pdf", keywords: ["finance", "Q3 2025"] });
  const rows = await f.store.search("quarterly");
  assert.deepEqual(rows, [{
    id: file.id,
    ownerFingerprint: "fp-alice",
    ownerIdentity: new TextEncoder().encode("identity-of-Alice"),
    online: true,
    lastSeen: T0,
    announcement: Uint8Array.of(1, 2, 3),
    signature: Uint8Array.of(9, 9),
  }]);
  // Name and keywords are what search and RESOLVE match on.
  assert.deepEqual(await f.store.search("Q3 2025"), rows);
  assert.deepEqual(await f.store.findByName("quarterly report.pdf"), rows);
});

storeTest("the record queries return what a LISTINGS reply carries", async (b, t) => {
  await using f = await Fixture.open(b);
  const file = await f.share({ name: "Quarterly Report.pdf", keywords: ["finance"] });
  const record = {
    id: file.id,
    ownerFingerprint: "fp-alice",
    ownerIdentity: new TextEncoder().encode("identity-of-Alice"),
    online: true,
    lastSeen: T0,
    announcement: Uint8Array.of(1, 2, 3),
    signature: Uint8Array.of(9, 9),
  };
  await t.step("each query returns the record", async () => {
    assert.deepEqual(await f.store.search("quarterly"), [record]);
    assert.deepEqual(await f.store.list(), [record]);
    assert.deepEqual(await f.store.list({ viewer: f.alice, mine: true }), [record]);
    assert.deepEqual(await f.store.get(file.id), record);
    assert.deepEqual(await f.store.findByName("quarterly report.PDF"), [record]);
    assert.deepEqual(await f.store.search("finance"), [record], "a second read, from the cache");
  });
  await t.step("hidden and missing look the same", async () => {
    const secret = await f.share({ name: "secret.txt", recipients: ["bob"] });
    assert.equal(await f.store.get(secret.id, f.carol), undefined);
    assert.equal(await f.store.get("00".repeat(16)), undefined);
    assert.deepEqual(await f.store.search("secret", { viewer: f.carol }), []);
    assert.equal((await f.store.search("secret", { viewer: f.bob })).length, 1);
  });
  await t.step("a key change shows the new identity, never a cached old one", async () => {
    await f.store.updateUserKeys(f.alice, Uint8Array.of(7, 7), "fp-alice-2");
    const [after] = await f.store.search("quarterly");
    assert.equal(after.ownerFingerprint, "fp-alice-2");
    assert.deepEqual(after.ownerIdentity, Uint8Array.of(7, 7));
  });
});

storeTest(
  "announce() refuses a row verified with keys that are no longer registered",
  async (b) => {
    await using f = await Fixture.open(b);
    const current = f.file({ name: "current.txt", ownerFingerprint: "fp-alice" });
    await f.store.announce(current);
    assert.equal((await f.store.search("current")).length, 1);
    // As if the keys rotated while the request's signatures were being checked.
    await f.store.updateUserKeys(f.alice, Uint8Array.of(7, 7), "fp-alice-2");
    const stale = f.file({ name: "stale.txt", ownerFingerprint: "fp-alice" });
    await assert.rejects(
      () => f.store.announceMany([f.file({ name: "ok.txt" }), stale]),
      code("AUTH_FAILED"),
    );
    assert.deepEqual(await f.store.search("stale"), []);
    assert.deepEqual(await f.store.search("ok"), [], "all or nothing");
  },
);

storeTest("announce() replaces an announcement with the same id", async (b) => {
  await using f = await Fixture.open(b);
  const file = await f.share({ name: "draft.txt", keywords: ["old"] });
  await f.store.setOnline(f.alice, "s-alice-2", "127.0.0.1:4999");
  await f.store.announce({
    ...file,
    name: "final.txt",
    keywords: ["new"],
    sessionId: "s-alice-2",
    address: "127.0.0.1:4999",
    // The address a receiver uses is in the signed bytes, which are replaced with the row.
    announcement: Uint8Array.of(4, 5, 6),
  });
  assert.deepEqual(await f.store.search("draft"), []);
  assert.deepEqual(await f.store.search("old"), []);
  assert.deepEqual(ids(await f.store.search("final new")), [file.id]);
  const row = await f.store.get(file.id);
  assert.deepEqual(row?.announcement, Uint8Array.of(4, 5, 6));
  assert.equal((await f.store.list({ viewer: f.alice, mine: true })).length, 1);
  // The listing moved to the new session, so dropping the old one leaves it alone.
  assert.equal(await f.store.removeSessionAnnouncements("s-alice"), 0);
  assert.equal(await f.integrityCheck(), "ok");
});

storeTest("announce() refuses a file id owned by another user with EXISTS", async (b) => {
  await using f = await Fixture.open(b);
  const file = await f.share({ name: "mine.txt" });
  await assert.rejects(
    () => f.store.announce({ ...file, ownerId: f.bob, sessionId: "s-bob", name: "stolen.txt" }),
    code("EXISTS"),
  );
  assert.deepEqual(ids(await f.store.findByName("mine.txt")), [file.id]);
  assert.deepEqual(await f.store.findByName("stolen.txt"), []);
});

storeTest("announce() refuses a session that is not the owner's with NOT_FOUND", async (b) => {
  await using f = await Fixture.open(b);
  await assert.rejects(() => f.store.announce(f.file({ sessionId: "s-bob" })), code("NOT_FOUND"));
  await assert.rejects(() => f.store.announce(f.file({ sessionId: "s-none" })), code("NOT_FOUND"));
  assert.deepEqual(await f.store.list(), []);
});

storeTest("announce() enforces the limits with BAD_MESSAGE", async (b, t) => {
  await using f = await Fixture.open(b);
  const at = (n: number) => "k".repeat(n);
  const users = Array.from({ length: MAX_RECIPIENTS + 1 }, (_, i) => `user${i}`);
  const ok: [string, Partial<Announcement>][] = [
    [`${MAX_KEYWORDS} keywords`, {
      keywords: Array.from({ length: MAX_KEYWORDS }, (_, i) => at(i + 1)),
    }],
    [`keyword of ${MAX_KEYWORD_BYTES} bytes`, { keywords: [at(MAX_KEYWORD_BYTES)] }],
    [`name of ${MAX_NAME_BYTES} bytes`, { name: "é".repeat(127) + "x" }],
    [`${MAX_RECIPIENTS} recipients`, { recipients: users.slice(0, MAX_RECIPIENTS) }],
    ["empty file", { size: 0 }],
    ["IPv6 address", { address: "[::1]:1" }],
  ];
  for (const [name, fields] of ok) {
    await t.step(`accepts ${name}`, () => f.store.announce(f.file(fields)));
  }
  const bad: [string, Partial<Announcement>][] = [
    [`${MAX_KEYWORDS + 1} keywords`, {
      keywords: Array.from({ length: MAX_KEYWORDS + 1 }, (_, i) => at(i + 1)),
    }],
    [`keyword of ${MAX_KEYWORD_BYTES + 1} bytes`, { keywords: [at(MAX_KEYWORD_BYTES + 1)] }],
    ["multi-byte keyword over the limit", { keywords: ["é".repeat(33)] }],
    ["empty keyword", { keywords: [""] }],
    ["keyword with newline", { keywords: ["a\nb"] }],
    [`name of ${MAX_NAME_BYTES + 1} bytes`, { name: "é".repeat(128) }],
    ["empty name", { name: "" }],
    ["name with NUL", { name: "a\u0000b" }],
    ["name with C1 control", { name: "a\u0085b" }],
    ["name with lone surrogate", { name: "a\ud800b" }],
    [`${MAX_RECIPIENTS + 1} recipients`, { recipients: users }],
    ["invalid recipient", { recipients: ["not valid!"] }],
    ["upper-case hex id", { id: "AB".repeat(32) }],
    ["short id", { id: "ab".repeat(7) }],
    ["odd-length id", { id: "a".repeat(33) }],
    ["bad sha256", { sha256: "ab".repeat(31) }],
    ["negative size", { size: -1 }],
    ["fractional size", { size: 1.5 }],
    ["unsafe size", { size: 2 ** 53 }],
    ["address without port", { address: "example.org" }],
    ["port zero", { address: "example.org:0" }],
    ["empty signed bytes", { announcement: new Uint8Array(0) }],
    ["oversized signature", { signature: new Uint8Array(2000) }],
    ["negative creation time", { createdAt: -1 }],
  ];
  for (const [name, fields] of bad) {
    await t.step(`rejects ${name}`, async () => {
      await assert.rejects(() => f.store.announce(f.file(fields)), code("BAD_MESSAGE"));
    });
  }
  await t.step("stored only the accepted ones", async () => {
    assert.equal((await f.store.list({ viewer: f.alice, mine: true })).length, ok.length);
  });
});

storeTest("announceMany() stores all or nothing", async (b) => {
  await using f = await Fixture.open(b);
  const good = [f.file({ name: "one.txt" }), f.file({ name: "two.txt" })];
  await assert.rejects(
    () => f.store.announceMany([...good, f.file({ sessionId: "s-bob" })]),
    code("NOT_FOUND"),
  );
  assert.deepEqual(await f.store.list(), []);
  await f.store.announceMany(good);
  assert.deepEqual(ids(await f.store.list()), ids(good));
  await f.store.announceMany([]);
});

storeTest("search(), list(), get() and findByName() apply visibility", async (b, t) => {
  await using f = await Fixture.open(b);
  const pub = await f.share({ name: "shared notes.txt" });
  const forBob = await f.share({ name: "secret notes.txt", recipients: ["BOB"] });
  const carols = await f.share({
    ownerId: f.carol,
    sessionId: "s-carol",
    name: "carol notes.txt",
    recipients: ["alice"],
  });
  const cases: [string, number | undefined, string[]][] = [
    ["anonymous", undefined, [pub.id]],
    ["alice (owner of two, recipient of one)", f.alice, [pub.id, forBob.id, carols.id]],
    ["bob (recipient)", f.bob, [pub.id, forBob.id]],
    ["carol (owner of one)", f.carol, [pub.id, carols.id]],
    ["unknown user id", 9999, [pub.id]],
  ];
  for (const [who, viewer, expected] of cases) {
    await t.step(who, async () => {
      const sorted = [...expected].sort();
      assert.deepEqual(ids(await f.store.search("notes", { viewer })), sorted);
      assert.deepEqual(ids(await f.store.list({ viewer })), sorted);
      assert.deepEqual(
        ids(await f.store.findByName("SECRET NOTES.TXT", viewer)),
        ids(
          expected.includes(forBob.id) ? [forBob] : [],
        ),
      );
      for (const file of [pub, forBob, carols]) {
        assert.equal(
          (await f.store.get(file.id, viewer))?.id,
          expected.find((id) => id === file.id),
        );
      }
    });
  }
  await t.step("mine lists only the viewer's own", async () => {
    assert.deepEqual(ids(await f.store.list({ viewer: f.alice, mine: true })), ids([pub, forBob]));
    assert.deepEqual(ids(await f.store.list({ viewer: f.bob, mine: true })), []);
    assert.deepEqual(await f.store.list({ mine: true }), []);
  });
});

storeTest("a recipient who registers later sees files addressed to the name", async (b) => {
  await using f = await Fixture.open(b);
  const file = await f.share({ recipients: ["dave"] });
  const dave = await f.store.createUser({
    username: "Dave",
    passwordHash: "h",
    identity: Uint8Array.of(1),
    fingerprint: "fp",
  });
  assert.equal((await f.store.get(file.id, dave))?.id, file.id);
});

storeTest("search() matches name tokens, keywords, prefixes, case and accents", async (b, t) => {
  await using f = await Fixture.open(b);
  const report = await f.share({ name: "Quarterly_Report-2025.final.PDF", keywords: ["finance"] });
  const photos = await f.share({ name: "holiday photos.tar.gz", keywords: ["Beach", "été"] });
  const cafe = await f.share({ name: "Café Menu.txt", keywords: ["日本語のファイル"] });
  // Decomposed accents, as macOS file names have them.
  const resume = await f.share({ name: "Re\u0301sume\u0301 2024.pdf", keywords: ["cv"] });
  const cases: [string, Announcement[]][] = [
    ["report", [report]],
    ["REPORT", [report]],
    ["2025", [report]],
    ["pdf", [report, resume]],
    ["résumé", [resume]],
    ["resume", [resume]],
    ["RÉSUMÉ 2024", [resume]],
    ["finance", [report]],
    ["fin", [report]],
    ["quart rep", [report]],
    ["Quarterly_Report-2025", [report]],
    ["beach", [photos]],
    ["ete", [photos]],
    ["été", [photos]],
    ["cafe", [cafe]],
    ["CAFÉ", [cafe]],
    ["cafe\u0301", [cafe]],
    ["日本語", [cafe]],
    ["photos beach", [photos]],
    ["photos finance", []],
    ["ho", [photos]],
    ["txt", [cafe]],
    ["t", []],
    ["nothing-matches", []],
  ];
  for (const [query, expected] of cases) {
    await t.step(JSON.stringify(query), async () => {
      assert.deepEqual(ids(await f.store.search(query)), ids(expected));
    });
  }
});

storeTest("search() never throws on hostile query text", async (b, t) => {
  await using f = await Fixture.open(b);
  const file = await f.share({ name: "near or not.txt", keywords: ["and"] });
  const hostile = [
    '"',
    '""',
    '"unterminated',
    "*",
    "**",
    "a*",
    "*a",
    "NEAR(",
    "NEAR(a b, 2)",
    "OR",
    "AND",
    "NOT",
    "a OR b",
    "-",
    "-near",
    "+",
    "^near",
    "name:near",
    "{name keywords}: near",
    "(",
    ")",
    "near)",
    "\u0000",
    "\u202e",
    "🙂",
    "Ω≈ç√∫",
    "\ud800",
    "'; DROP TABLE users; --",
    "x".repeat(100_000),
    Array.from({ length: 200 }, (_, i) => `w${i}`).join(" "),
  ];
  for (const query of hostile) {
    await t.step(JSON.stringify(query.slice(0, 40)), async () => {
      const rows = await f.store.search(query);
      assert.ok(Array.isArray(rows));
    });
  }
  await t.step("operator words are searched as words", async () => {
    assert.deepEqual(ids(await f.store.search("NEAR(")), [file.id]);
    assert.deepEqual(ids(await f.store.search("OR")), [file.id]);
    assert.deepEqual(ids(await f.store.search("and")), [file.id]);
    assert.deepEqual(ids(await f.store.search("-near")), [file.id]);
  });
  await t.step("queries without letters or digits find nothing", async () => {
    for (const query of ["", "   ", '"', "*", "-", "()", "🙂", "..."]) {
      assert.deepEqual(await f.store.search(query), []);
    }
  });
  assert.equal(await f.integrityCheck(), "ok");
});

storeTest("search() and list() page through results newest first", async (b) => {
  await using f = await Fixture.open(b);
  const files = Array.from({ length: 7 }, (_, i) => f.file({ name: `page ${i}.txt` }));
  await f.store.announceMany(files);
  const newestFirst = files.map((file) => file.id).reverse();
  const pages = async (query: (offset: number) => Promise<{ id: string }[]>) =>
    (await Promise.all([0, 3, 6].map(query))).flat().map((r) => r.id);
  assert.deepEqual(
    await pages((offset) => f.store.search("page", { limit: 3, offset })),
    newestFirst,
  );
  assert.deepEqual(await pages((offset) => f.store.list({ limit: 3, offset })), newestFirst);
});

storeTest("search() ranks the best match first, ties newest first, across pages", async (b) => {
  await using f = await Fixture.open(b);
  // Announced best match first, so newest first would return them in reverse.
  const best = f.file({ name: "budget.xlsx", keywords: ["budget"] });
  const good = f.file({ name: "budget.xlsx" });
  const weak = f.file({ name: "minutes of the meeting about the new budget and the old one.txt" });
  const tieOld = f.file({ name: "notes budget draft 1.txt" });
  const tieNew = f.file({ name: "notes budget draft 2.txt" });
  await f.store.announceMany([best, good, weak, tieOld, tieNew]);
  const expected = [best, good, tieNew, tieOld, weak].map((file) => file.id);
  assert.deepEqual((await f.store.search("budget")).map((r) => r.id), expected);
  assert.deepEqual((await f.store.search("budg")).map((r) => r.id), expected);
  const paged: string[] = [];
  for (const offset of [0, 2, 4]) {
    paged.push(...(await f.store.search("budget", { limit: 2, offset })).map((r) => r.id));
  }
  assert.deepEqual(paged, expected);
  // LIST has nothing to rank by: it stays newest first.
  const newestFirst = [tieNew, tieOld, weak, good, best].map((file) => file.id);
  assert.deepEqual((await f.store.list()).map((r) => r.id), newestFirst);
});

storeTest(
  "search() ranks the newest matches, then pages on to older ones newest first",
  async (b) => {
    await using f = await Fixture.open(b);
    const total = SEARCH_RANK_WINDOW + 5;
    // Every tenth is addressed to bob, so the viewer's pages skip them.
    const files = Array.from({ length: total }, (_, i) =>
      f.file({
        name: i === 100 ? "report.txt" : `report ${i}.txt`,
        keywords: i === 100 ? ["report"] : [],
        recipients: i % 10 === 3 ? ["bob"] : [],
      }));
    await f.store.announceMany(files);
    const visible = (i: number) => i % 10 !== 3;
    const windowed = files.slice(total - SEARCH_RANK_WINDOW).filter((_, j) =>
      visible(total - SEARCH_RANK_WINDOW + j)
    );
    const older = files.slice(0, total - SEARCH_RANK_WINDOW).filter((_, i) => visible(i));
    const expected = [
      files[100],
      ...windowed.filter((file) => file !== files[100]).reverse(),
      ...older.reverse(),
    ].map((file) => file.id);
    for (const limit of [50, 7]) {
      const paged: string[] = [];
      for (let offset = 0; offset < total + limit; offset += limit) {
        paged.push(
          ...(await f.store.search("report", { limit, offset, viewer: f.carol })).map((r) => r.id),
        );
      }
      assert.deepEqual(paged, expected);
    }
  },
);

storeTest("search() and list() reject out-of-range pages with BAD_MESSAGE", async (b) => {
  await using f = await Fixture.open(b);
  for (
    const options of [
      { limit: 0 },
      { limit: MAX_LISTINGS + 1 },
      { limit: 1.5 },
      { offset: -1 },
      { offset: MAX_LIST_OFFSET + 1 },
    ]
  ) {
    await assert.rejects(() => f.store.search("x", options), code("BAD_MESSAGE"));
    await assert.rejects(() => f.store.list(options), code("BAD_MESSAGE"));
  }
  assert.deepEqual(await f.store.search("x", { limit: MAX_LISTINGS, offset: MAX_LIST_OFFSET }), []);
});

storeTest("findByName() matches the exact name ignoring case and may return several", async (b) => {
  await using f = await Fixture.open(b);
  const a = await f.share({ name: "Notes.txt" });
  const b2 = await f.share({ ownerId: f.bob, sessionId: "s-bob", name: "NOTES.TXT" });
  await f.share({ name: "Notes.txt.bak" });
  await f.store.setOffline("s-alice");
  const rows = await f.store.findByName("notes.txt");
  // Online first: bob's copy can be fetched right now.
  assert.deepEqual(rows.map((r) => r.id), [b2.id, a.id]);
  assert.deepEqual(await f.store.findByName("notes"), []);
});

storeTest("unshare() removes only the owner's announcement", async (b) => {
  await using f = await Fixture.open(b);
  const file = await f.share({ name: "temporary.txt", recipients: ["bob"] });
  assert.equal(await f.store.unshare(f.bob, file.id), false);
  assert.equal((await f.store.get(file.id, f.bob))?.id, file.id);
  assert.equal(await f.store.unshare(f.alice, file.id), true);
  assert.equal(await f.store.get(file.id, f.alice), undefined);
  assert.deepEqual(await f.store.search("temporary", { viewer: f.alice }), []);
  assert.equal(await f.store.unshare(f.alice, file.id), false);
  assert.equal(await f.integrityCheck(), "ok");
});

storeTest(
  "unshare() remembers the withdrawal: the same announcement is refused, a newer one not",
  async (b) => {
    await using f = await Fixture.open(b);
    const file = await f.share({ createdAt: T0 - 1000 });
    f.clock.advance(10);
    assert.equal(await f.store.unshare(f.alice, file.id), true);
    assert.deepEqual(await f.store.withdrawalsSince(f.alice, T0 + 10), [{
      id: file.id,
      createdAt: T0 - 1000,
    }]);
    assert.deepEqual(await f.store.withdrawalsSince(f.alice, T0 + 11), []);
    assert.deepEqual(await f.store.withdrawalsSince(f.bob, 0), []);
    // A running sender announcing again what it signed before: refused, and nothing stored.
    await assert.rejects(() => f.store.announce(file), code("WITHDRAWN"));
    await assert.rejects(
      () => f.store.announce({ ...file, createdAt: T0 - 5000 }),
      code("WITHDRAWN"),
    );
    assert.equal(await f.store.get(file.id, f.alice), undefined);
    // A new send signs anew: accepted, and the withdrawal forgotten.
    await f.store.announce({ ...file, createdAt: T0 + 5 });
    assert.equal((await f.store.get(file.id, f.alice))?.id, file.id);
    assert.deepEqual(await f.store.withdrawalsSince(f.alice, 0), []);
    await f.store.announce({ ...file, createdAt: T0 - 1000 });
    f.clock.advance(31 * 24 * 60 * 60 * 1000);
    await f.store.unshare(f.alice, file.id);
    assert.equal(await f.store.pruneWithdrawals(1), 0);
    f.clock.advance(2);
    assert.equal(await f.store.pruneWithdrawals(1), 1);
  },
);

storeTest(
  "announce() with maxOwnerListings refuses a new id past the quota, not a replacement",
  async (b) => {
    await using f = await Fixture.open(b);
    const first = await f.share({ maxOwnerListings: 2 });
    await f.share({ maxOwnerListings: 2 });
    await assert.rejects(() => f.share({ maxOwnerListings: 2 }), code("QUOTA_EXCEEDED"));
    await f.store.announce({ ...first, name: "renamed.pdf", maxOwnerListings: 2 });
    await f.share({ ownerId: f.bob, sessionId: "s-bob", maxOwnerListings: 2 });
    assert.equal((await f.store.list({ viewer: f.alice, mine: true })).length, 2);
  },
);

storeTest("unshareAll() removes every announcement of one owner", async (b) => {
  await using f = await Fixture.open(b);
  await f.store.setOnline(f.alice, "s-alice-2", "127.0.0.1:4999");
  await f.share({ name: "a1.txt" });
  await f.share({ name: "a2.txt", sessionId: "s-alice-2", recipients: ["bob"] });
  const kept = await f.share({ ownerId: f.bob, sessionId: "s-bob", name: "b1.txt" });
  assert.equal(await f.store.unshareAll(f.alice), 2);
  assert.deepEqual(ids(await f.store.list({ viewer: f.bob })), [kept.id]);
  assert.deepEqual(await f.store.search("a2", { viewer: f.bob }), []);
  assert.equal(await f.store.unshareAll(f.alice), 0);
  assert.equal(await f.integrityCheck(), "ok");
});

storeTest("removeSessionAnnouncements() removes that session's files only", async (b) => {
  await using f = await Fixture.open(b);
  await f.share({ name: "a1.txt" });
  await f.share({ name: "a2.txt" });
  const kept = await f.share({ ownerId: f.bob, sessionId: "s-bob", name: "b1.txt" });
  assert.equal(await f.store.removeSessionAnnouncements("s-alice"), 2);
  assert.deepEqual(ids(await f.store.list()), [kept.id]);
  assert.deepEqual(await f.store.search("a1"), []);
  assert.equal(await f.store.removeSessionAnnouncements("s-alice"), 0);
});

storeTest(
  "the store keeps users, sessions and announcements across close and reopen",
  async (b) => {
    let file: Announcement;
    const f = await Fixture.open(b);
    try {
      file = await f.share({ name: "durable.bin", keywords: ["persist"], recipients: ["bob"] });
      await f.store.recordAttempt("addr:127.0.0.1");
    } finally {
      await f.store.close();
    }
    const store = await f.location.open({ now: () => T0 });
    try {
      const bob = await store.getUser("bob");
      assert.ok(bob);
      assert.deepEqual(ids(await store.search("persist", { viewer: bob.id })), [file.id]);
      assert.deepEqual(await store.search("persist"), []);
      assert.equal((await store.get(file.id, bob.id))?.online, true);
      assert.equal(await store.attemptsSince("addr:127.0.0.1", 0), 1);
      assert.equal(await f.location.integrityCheck(store), "ok");
    } finally {
      await store.close();
      await f.location[Symbol.asyncDispose]();
    }
  },
);
