import assert from "node:assert/strict";
import { type ErrorCode, isSfsError } from "../../errors.ts";
import { toHex } from "../../crypto/bytes.ts";
import { formatFingerprint, type Identity } from "../../crypto/identity.ts";
import { testIdentity } from "../../../tests/identities.ts";
import { fileIdOf } from "../../crypto/file_id.ts";
import { type Message, MessageType } from "../../wire/messages.ts";
import { type WireListing } from "../../wire/index_messages.ts";
import {
  type FileAnnouncement,
  signAnnouncement,
  verifyListing,
} from "../protocol/announcement.ts";
import { type ConnectionState, type HandlerOptions, IndexHandlers } from "./handlers.ts";
import { signProof } from "../protocol/proof.ts";
import { SqliteStore } from "./store_sqlite.ts";
import { DatabaseSync } from "node:sqlite";

const PASSWORD = "correct horse battery";
// The cheapest scrypt the hasher accepts: these tests are about rules, not hashing cost.
const FAST_HASH = { N: 2 ** 4 };

function code(expected: ErrorCode): (err: unknown) => boolean {
  return (err) => isSfsError(err, expected);
}

/** A store in a temp dir, handlers on a manual clock, and helpers to act as a connection. */
class Fixture implements AsyncDisposable {
  ms = Date.UTC(2025, 0, 1);
  readonly store: SqliteStore;
  readonly handlers: IndexHandlers;
  readonly log: [string, Record<string, unknown>][] = [];
  /** The login delays the handlers asked for, in order (nothing really waits). */
  readonly delays: number[] = [];
  readonly #dir: string;

  private constructor(dir: string, options: HandlerOptions) {
    this.#dir = dir;
    const now = () => this.ms;
    this.store = SqliteStore.open(`${dir}/index.db`, { now });
    this.handlers = new IndexHandlers(this.store, {
      now,
      passwordHash: FAST_HASH,
      log: (event, fields) => this.log.push([event, fields]),
      sleep: (ms) => {
        this.delays.push(ms);
        return Promise.resolve();
      },
      ...options,
    });
  }

  /** The database file, for tests that damage rows behind the store's back. */
  get dbPath(): string {
    return `${this.#dir}/index.db`;
  }

  static async create(options: HandlerOptions = {}): Promise<Fixture> {
    return new Fixture(await Deno.makeTempDir({ prefix: "sfs-handlers-test-" }), options);
  }

  /** A new connection from `host` by `identity`, with its own random challenge. */
  connection(identity: Identity, host = "192.0.2.1"): ConnectionState {
    return {
      peer: identity.public,
      transcriptHash: crypto.getRandomValues(new Uint8Array(32)),
      address: `${host}:5000`,
      host,
    };
  }

  handle(state: ConnectionState, message: Message): Promise<Message> {
    return this.handlers.handle(state, message);
  }

  async register(identity: Identity, username: string, state = this.connection(identity)) {
    await this.handle(state, {
      type: MessageType.REGISTER,
      username,
      password: PASSWORD,
      proof: await signProof(identity, state.transcriptHash, username),
    });
    return state;
  }

  async login(
    identity: Identity,
    username: string,
    password: string,
    options: { rotateKeys?: boolean; state?: ConnectionState } = {},
  ) {
    const state = options.state ?? this.connection(identity);
    await this.handle(state, {
      type: MessageType.LOGIN,
      username,
      password,
      rotateKeys: options.rotateKeys ?? false,
      proof: await signProof(identity, state.transcriptHash, username),
    });
    return state;
  }

  async auth(identity: Identity, username: string, state = this.connection(identity)) {
    await this.handle(state, {
      type: MessageType.AUTH,
      username,
      proof: await signProof(identity, state.transcriptHash, username, "ed25519"),
    });
    return state;
  }

  async announce(
    state: ConnectionState,
    identity: Identity,
    fields: Partial<FileAnnouncement> & { owner: string },
  ) {
    const sha256 = crypto.getRandomValues(new Uint8Array(32));
    const name = fields.name ?? "report.pdf";
    const a: FileAnnouncement = {
      fileId: await fileIdOf(identity.public.fingerprint, sha256, name),
      ownerFingerprint: identity.public.fingerprint,
      name,
      size: 10,
      sha256,
      keywords: ["quarterly"],
      recipients: [],
      address: "192.0.2.1:4444",
      createdAt: this.ms,
      ...fields,
    };
    const signed = await signAnnouncement(identity, a);
    await this.handle(state, {
      type: MessageType.ANNOUNCE,
      announcement: signed.bytes,
      signatures: signed.signatures,
    });
    return { a, signed };
  }

  async search(state: ConnectionState, query: string): Promise<WireListing[]> {
    const reply = await this.handle(state, {
      type: MessageType.SEARCH,
      query,
      limit: 50,
      offset: 0,
    });
    assert.equal(reply.type, MessageType.LISTINGS);
    return reply.type === MessageType.LISTINGS ? reply.listings : [];
  }

  async [Symbol.asyncDispose]() {
    await this.store.close();
    await Deno.remove(this.#dir, { recursive: true });
  }
}

Deno.test("REGISTER creates an account and authenticates the connection", async () => {
  await using f = await Fixture.create();
  const alice = await testIdentity("alice");
  const state = await f.register(alice, "Alice");
  // Authenticated as the new account, stored under its canonical name with these keys.
  const account = await f.store.getUser("alice");
  assert.ok(account !== undefined);
  assert.equal(state.userId, account.id);
  assert.equal(account.fingerprint, formatFingerprint(alice.public.fingerprint));
  // Authenticated: a heartbeat is accepted.
  assert.equal((await f.handle(state, { type: MessageType.HEARTBEAT })).type, MessageType.OK);
});

Deno.test("REGISTER refuses taken names, bad names, short passwords and wrong proofs", async (t) => {
  await using f = await Fixture.create();
  const alice = await testIdentity("alice");
  const bob = await testIdentity("bob");
  await f.register(alice, "alice");

  await t.step("name taken in another case", async () => {
    await assert.rejects(f.register(bob, "ALICE"), code("EXISTS"));
  });
  await t.step("invalid name", async () => {
    await assert.rejects(f.register(bob, "no spaces"), code("USAGE"));
  });
  await t.step("short password", async () => {
    const state = f.connection(bob);
    await assert.rejects(
      f.handle(state, {
        type: MessageType.REGISTER,
        username: "bob",
        password: "short",
        proof: await signProof(bob, state.transcriptHash, "bob"),
      }),
      code("USAGE"),
    );
  });
  await t.step("proof made for another connection", async () => {
    const state = f.connection(bob);
    await assert.rejects(
      f.handle(state, {
        type: MessageType.REGISTER,
        username: "bob",
        password: PASSWORD,
        proof: await signProof(bob, new Uint8Array(32), "bob"),
      }),
      code("BAD_SIGNATURE"),
    );
  });
  await t.step("proof without the RSA-PSS signature", async () => {
    const state = f.connection(bob);
    await assert.rejects(
      f.handle(state, {
        type: MessageType.REGISTER,
        username: "bob",
        password: PASSWORD,
        proof: await signProof(bob, state.transcriptHash, "bob", "ed25519"),
      }),
      code("BAD_SIGNATURE"),
    );
  });
  assert.equal(await f.store.getUser("bob"), undefined);
});

Deno.test("LOGIN answers unknown user and wrong password alike", async () => {
  await using f = await Fixture.create();
  const alice = await testIdentity("alice");
  await f.register(alice, "alice");
  const wrong = await f.login(alice, "alice", "wrong password").catch((e) => e);
  const unknown = await f.login(alice, "nobody", PASSWORD).catch((e) => e);
  assert.ok(isSfsError(wrong, "AUTH_FAILED"));
  assert.ok(isSfsError(unknown, "AUTH_FAILED"));
  assert.equal(wrong.message, unknown.message);
  const state = await f.login(alice, "ALICE", PASSWORD);
  assert.equal(state.userId, (await f.store.getUser("alice"))!.id);
});

Deno.test("LOGIN throttles guesses per user and address, and only delays the others", async (t) => {
  await using f = await Fixture.create();
  const alice = await testIdentity("alice");
  const bob = await testIdentity("bob");
  await f.register(alice, "alice");
  await f.register(bob, "bob");
  const guess = (host: string, user = "alice") =>
    assert.rejects(
      f.login(alice, user, "wrong guess", { state: f.connection(alice, host) }),
      code("AUTH_FAILED"),
    );
  const login = (host: string, user = "alice", identity = alice) =>
    f.login(identity, user, PASSWORD, { state: f.connection(identity, host) });

  await t.step("five failures lock that user from that address only", async () => {
    for (let i = 0; i < 5; i++) await guess("198.51.100.7");
    await assert.rejects(login("198.51.100.7"), code("RATE_LIMITED"));
    // The same address as an IPv4-mapped IPv6 address is the same client.
    await assert.rejects(login("::ffff:198.51.100.7"), code("RATE_LIMITED"));
    await login("198.51.100.8");
    await login("198.51.100.7", "bob", bob);
    assert.deepEqual(f.delays, []);
  });
  await t.step("an IPv6 client is counted by its /64", async () => {
    for (let i = 0; i < 5; i++) await guess(`2001:db8::${i + 1}`);
    await assert.rejects(login("2001:db8::ffff"), code("RATE_LIMITED"));
    await login("2001:db8:0:1::1");
  });
  await t.step(
    "past the username's ceiling a right password is delayed, never refused",
    async () => {
      // Ten failures for alice so far (already a delay for the last login); each more doubles
      // the delay, up to 4 s.
      assert.deepEqual(f.delays, [250]);
      f.delays.length = 0;
      await login("203.0.113.1");
      for (let i = 0; i < 6; i++) await guess(`203.0.113.${10 + i}`);
      await login("203.0.113.2");
      assert.deepEqual(f.delays, [250, 250, 500, 1000, 2000, 4000, 4000, 4000]);
      // bob is not slowed by alice's trouble.
      await login("203.0.113.2", "bob", bob);
      assert.equal(f.delays.length, 8);
    },
  );
  await t.step("the limits lift when the window has passed", async () => {
    f.ms += 5 * 60 * 1000 + 1;
    await login("198.51.100.7");
    assert.equal(f.delays.length, 8);
  });
});

Deno.test("failed AUTHs lock nobody out and end their own connection", async () => {
  await using f = await Fixture.create();
  const alice = await testIdentity("alice");
  const mallory = await testIdentity("mallory");
  await f.register(alice, "alice");
  for (let i = 0; i < 10; i++) {
    await assert.rejects(f.auth(mallory, i % 2 ? "alice" : "nobody"), code("AUTH_FAILED"));
  }
  await f.auth(alice, "alice");
  await f.login(alice, "alice", PASSWORD);
  const state = f.connection(mallory);
  for (let i = 1; i <= 3; i++) {
    assert.ok(!state.closeAfterReply);
    await assert.rejects(f.auth(mallory, "alice", state), code("AUTH_FAILED"));
  }
  assert.ok(state.closeAfterReply);
});

Deno.test("LOGIN --rotate-keys replaces the keys and withdraws old announcements", async () => {
  await using f = await Fixture.create();
  const alice = await testIdentity("alice");
  const alice2 = await testIdentity("alice2");
  const first = await f.register(alice, "alice");
  await f.announce(first, alice, { owner: "alice" });
  assert.equal((await f.search(first, "quarterly")).length, 1);

  // Without --rotate-keys the password is right but a new identity is not authenticated.
  const plain = await f.login(alice2, "alice", PASSWORD);
  assert.equal(plain.userId, undefined);
  await assert.rejects(f.auth(alice2, "alice"), code("AUTH_FAILED"));

  const rotated = await f.login(alice2, "alice", PASSWORD, { rotateKeys: true });
  // Authenticated as the same account, whose keys are now alice2's.
  const account = (await f.store.getUser("alice"))!;
  assert.equal(rotated.userId, account.id);
  assert.equal(account.fingerprint, formatFingerprint(alice2.public.fingerprint));
  assert.equal((await f.search(rotated, "quarterly")).length, 0);
  await f.auth(alice2, "alice");
  await assert.rejects(f.auth(alice, "alice"), code("AUTH_FAILED"));
  // The connection that authenticated with the old keys has lost its rights too.
  await assert.rejects(f.handle(first, { type: MessageType.HEARTBEAT }), code("AUTH_FAILED"));
});

Deno.test("AUTH needs the registered key and a valid Ed25519 proof", async () => {
  await using f = await Fixture.create();
  const alice = await testIdentity("alice");
  const bob = await testIdentity("bob");
  await f.register(alice, "alice");
  await f.auth(alice, "alice");
  await assert.rejects(f.auth(bob, "alice"), code("AUTH_FAILED"));
  await assert.rejects(f.auth(alice, "nobody"), code("AUTH_FAILED"));
  const state = f.connection(alice);
  await assert.rejects(
    f.handle(state, {
      type: MessageType.AUTH,
      username: "alice",
      proof: await signProof(alice, state.transcriptHash, "alice", "rsa"),
    }),
    code("AUTH_FAILED"),
  );
  assert.equal(state.userId, undefined);
});

Deno.test("concurrent ANNOUNCEs of several connections are all stored", async () => {
  await using f = await Fixture.create();
  const alice = await testIdentity("alice");
  const bob = await testIdentity("bob");
  const aliceState = await f.register(alice, "alice");
  const bobState = await f.register(bob, "bob");
  // In flight together, so group commit stores them in shared transactions.
  await Promise.all([
    ...["a1", "a2", "a3"].map((name) => f.announce(aliceState, alice, { owner: "alice", name })),
    ...["b1", "b2"].map((name) => f.announce(bobState, bob, { owner: "bob", name })),
    assert.rejects(f.announce(bobState, bob, { owner: "alice", name: "b3" }), code("REFUSED")),
  ]);
  const found = await f.search(aliceState, "quarterly");
  const names = await Promise.all(found.map(async (l) => (await verifyListing(l)).announcement));
  assert.deepEqual(names.map((a) => a.name).sort(), ["a1", "a2", "a3", "b1", "b2"]);
});

Deno.test("ANNOUNCE stores verified announcements of the authenticated owner only", async (t) => {
  await using f = await Fixture.create();
  const alice = await testIdentity("alice");
  const bob = await testIdentity("bob");
  const aliceState = await f.register(alice, "alice");
  const bobState = await f.register(bob, "bob");

  await t.step("a valid announcement is found and verifies", async () => {
    const { a } = await f.announce(aliceState, alice, { owner: "alice", name: "plan.txt" });
    const found = await f.search(bobState, "plan");
    assert.equal(found.length, 1);
    const verified = await verifyListing(found[0]);
    assert.equal(toHex(verified.announcement.fileId), toHex(a.fileId));
    assert.equal(verified.online, true);
  });
  await t.step("an anonymous connection may not announce", async () => {
    await assert.rejects(
      f.announce(f.connection(alice), alice, { owner: "alice" }),
      code("AUTH_FAILED"),
    );
  });
  await t.step("an announcement naming another owner is refused", async () => {
    await assert.rejects(f.announce(aliceState, alice, { owner: "bob" }), code("REFUSED"));
  });
  await t.step("a bad signature is refused", async () => {
    const sha256 = new Uint8Array(32);
    const signed = await signAnnouncement(alice, {
      fileId: await fileIdOf(alice.public.fingerprint, sha256, "x"),
      owner: "alice",
      ownerFingerprint: alice.public.fingerprint,
      name: "x",
      size: 1,
      sha256,
      keywords: ["forged"],
      recipients: [],
      address: "192.0.2.1:1",
      createdAt: f.ms,
    });
    const ed25519 = signed.signatures.ed25519!.slice();
    ed25519[0] ^= 1;
    await assert.rejects(
      f.handle(aliceState, {
        type: MessageType.ANNOUNCE,
        announcement: signed.bytes,
        signatures: { rsa: signed.signatures.rsa, ed25519 },
      }),
      code("BAD_SIGNATURE"),
    );
    assert.equal((await f.search(bobState, "forged")).length, 0);
  });
  await t.step("an announcement dated far in the future is refused", async () => {
    await assert.rejects(
      f.announce(aliceState, alice, { owner: "alice", createdAt: f.ms + 2 * 86_400_000 }),
      code("BAD_MESSAGE"),
    );
  });
});

Deno.test("recipients limit who sees a listing", async () => {
  await using f = await Fixture.create();
  const alice = await testIdentity("alice");
  const bob = await testIdentity("bob");
  const carol = await testIdentity("carol");
  const aliceState = await f.register(alice, "alice");
  const bobState = await f.register(bob, "bob");
  const carolState = await f.register(carol, "carol");
  await f.announce(aliceState, alice, { owner: "alice", recipients: ["bob"], name: "secret.txt" });
  assert.equal((await f.search(bobState, "secret")).length, 1);
  assert.equal((await f.search(carolState, "secret")).length, 0);
  assert.equal((await f.search(f.connection(carol), "secret")).length, 0);
  assert.equal((await f.search(aliceState, "secret")).length, 1);
});

Deno.test("SEARCH leaves out rows whose stored signature set is damaged", async (t) => {
  const alice = await testIdentity("alice");
  const damaged: [string, (sig: Uint8Array) => Uint8Array][] = [
    ["empty", () => new Uint8Array()],
    ["truncated", (sig) => sig.subarray(0, sig.length - 1)],
    ["a trailing byte", (sig) => Uint8Array.of(...sig, 0)],
    ["an RSA length past the end", (sig) => Uint8Array.of(0xff, 0xff, ...sig.subarray(2))],
    ["a 63-byte Ed25519 signature", (sig) => {
      const out = sig.slice(0, sig.length - 1);
      out[out.length - 64] = 63;
      return out;
    }],
  ];
  for (const [name, damage] of damaged) {
    await t.step(name, async () => {
      await using f = await Fixture.create();
      const state = await f.register(alice, "alice");
      const good = await f.announce(state, alice, { owner: "alice", name: "good budget.txt" });
      const bad = await f.announce(state, alice, { owner: "alice", name: "bad budget.txt" });
      const db = new DatabaseSync(f.dbPath);
      try {
        const id = toHex(bad.a.fileId);
        const row = db.prepare("SELECT signature FROM announcements WHERE id = ?").get(id);
        const signature = damage(row?.signature as Uint8Array);
        db.prepare("UPDATE announcements SET signature = ? WHERE id = ?").run(signature, id);
      } finally {
        db.close();
      }
      const listings = await f.search(state, "budget");
      assert.equal(listings.length, 1);
      assert.deepEqual(listings[0].announcement, good.signed.bytes);
      await verifyListing(listings[0]);
      assert.deepEqual(f.log.filter(([event]) => event === "bad_row").length, 1);
    });
  }
});

Deno.test("RESOLVE finds by id or exact name; UNSHARE removes; closing goes offline", async () => {
  await using f = await Fixture.create();
  const alice = await testIdentity("alice");
  const bob = await testIdentity("bob");
  const aliceState = await f.register(alice, "alice");
  const bobState = await f.register(bob, "bob");
  const { a } = await f.announce(aliceState, alice, { owner: "alice", name: "Notes.md" });
  const resolve = async (query: string) => {
    const reply = await f.handle(bobState, { type: MessageType.RESOLVE, query });
    return reply.type === MessageType.LISTINGS ? reply.listings : [];
  };
  assert.equal((await resolve(toHex(a.fileId))).length, 1);
  assert.equal((await resolve(toHex(a.fileId).toUpperCase())).length, 1);
  assert.equal((await resolve("notes.md")).length, 1);
  assert.equal((await resolve("notes")).length, 0);

  f.handlers.closed(aliceState);
  assert.equal((await resolve("notes.md"))[0].online, false);

  await assert.rejects(
    f.handle(bobState, { type: MessageType.UNSHARE, fileId: a.fileId }),
    code("NOT_FOUND"),
  );
  const again = await f.auth(alice, "alice");
  await f.handle(again, { type: MessageType.UNSHARE, fileId: a.fileId });
  assert.equal((await resolve("notes.md")).length, 0);
});

Deno.test("USER_KEYS returns registered identities and skips unknown names", async () => {
  await using f = await Fixture.create();
  const alice = await testIdentity("alice");
  await f.register(alice, "alice");
  const reply = await f.handle(f.connection(alice), {
    type: MessageType.USER_KEYS,
    usernames: ["ALICE", "nobody", "not valid"],
  });
  assert.equal(reply.type, MessageType.USER_KEYS_REPLY);
  if (reply.type !== MessageType.USER_KEYS_REPLY) return;
  assert.deepEqual(reply.users.map((u) => u.username), ["alice"]);
  assert.deepEqual(reply.users[0].identity, alice.public.encoded);
});

Deno.test("handle() refuses replies and repeated authentication", async () => {
  await using f = await Fixture.create();
  const alice = await testIdentity("alice");
  const state = await f.register(alice, "alice");
  await assert.rejects(f.handle(state, { type: MessageType.OK }), code("UNEXPECTED_MESSAGE"));
  await assert.rejects(f.auth(alice, "alice", state), code("UNEXPECTED_MESSAGE"));
});

Deno.test("RELAY_TOKEN needs an authenticated connection", async () => {
  await using f = await Fixture.create();
  const mallory = await testIdentity("mallory");
  const request: Message = {
    type: MessageType.RELAY_TOKEN,
    fileId: crypto.getRandomValues(new Uint8Array(16)),
    token: crypto.getRandomValues(new Uint8Array(16)),
  };
  await assert.rejects(f.handle(f.connection(mallory), request), code("AUTH_FAILED"));
});
