/**
 * The relay's directory in PostgreSQL (relay.ts, docs/PROTOCOL.md §13.7), against a real cluster
 * (`SFS_TEST_PG_URL`): a token registered through one server is found through another, stored
 * only as its hash, and counts only while its connection and its server live.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { freshDatabase, pgMissing } from "../../../../tests/store_backends.ts";
import { PgStore, type PgStoreOptions } from "./store.ts";

const T0 = Date.UTC(2025, 0, 1);
const TIMEOUT = 30_000;
const FILE = "0f".repeat(16);
const CONN_A = "a1".repeat(16);
const CONN_A2 = "a2".repeat(16);

Deno.test({
  name: "PgStore.relayDirectory() shares relay tokens between the servers of one database",
  ignore: pgMissing(),
  async fn(t) {
    await using db = await freshDatabase();
    const clock = { ms: T0 };
    const options: PgStoreOptions = {
      now: () => clock.ms,
      presenceTimeoutMs: TIMEOUT,
      serverBeatMs: 0,
    };
    const a = await PgStore.connect(db.url, { ...options, serverId: "server-a" });
    const b = await PgStore.connect(db.url, { ...options, serverId: "server-b" });
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      const alice = await a.createUser({
        username: "alice",
        passwordHash: "h",
        identity: new TextEncoder().encode("identity-of-alice"),
        fingerprint: "fp-alice",
      });
      const onA = a.relayDirectory();
      const onB = b.relayDirectory();
      const token = crypto.getRandomValues(new Uint8Array(16));
      await onA.register(CONN_A, alice, FILE, token);

      await t.step("a token registered through A is found through B, naming A", async () => {
        assert.deepEqual(await onB.byToken(FILE, token), {
          server: "server-a",
          connection: CONN_A,
          userId: alice,
        });
        const wrong = token.slice();
        wrong[15] ^= 1;
        assert.equal(await onB.byToken(FILE, wrong), undefined);
        assert.equal(await onB.byToken("1f".repeat(16), token), undefined);
      });

      await t.step("the database holds the token's hash, never the token", async () => {
        const rows = await sql<{ token_hash: Uint8Array }[]>`SELECT token_hash FROM relay_tokens`;
        assert.equal(rows.length, 1);
        assert.equal(rows[0].token_hash.length, 32);
        const hex = (b: Uint8Array) =>
          Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
        assert.ok(!hex(rows[0].token_hash).includes(hex(token)));
      });

      await t.step("the most recent registration wins; a replaced token is gone", async () => {
        await onA.register(CONN_A2, alice, FILE, crypto.getRandomValues(new Uint8Array(16)));
        assert.equal((await onB.latest(FILE))?.connection, CONN_A2);
        const renewed = crypto.getRandomValues(new Uint8Array(16));
        await onA.register(CONN_A, alice, FILE, renewed);
        assert.equal((await onB.latest(FILE))?.connection, CONN_A);
        assert.equal(await onB.byToken(FILE, token), undefined);
        assert.equal((await onB.byToken(FILE, renewed))?.connection, CONN_A);
      });

      await t.step("a connection that closed is forgotten", async () => {
        await onA.forget(CONN_A);
        assert.equal((await onB.latest(FILE))?.connection, CONN_A2);
      });

      await t.step("a server that stopped beating counts for nothing, then is swept", async () => {
        clock.ms += TIMEOUT + 1;
        assert.equal(await onB.latest(FILE), undefined);
        await b.expireOrphans();
        const [{ n }] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM relay_tokens`;
        assert.equal(n, 0);
      });

      await t.step("closing a server removes its tokens", async () => {
        clock.ms = T0;
        const c = await PgStore.connect(db.url, { ...options, serverId: "server-c" });
        await c.relayDirectory().register(CONN_A, alice, FILE, token);
        assert.equal((await onB.byToken(FILE, token))?.server, "server-c");
        await c.close();
        assert.equal(await onB.byToken(FILE, token), undefined);
      });
    } finally {
      await sql.end();
      await a.close();
      await b.close();
    }
  },
});
