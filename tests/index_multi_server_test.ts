/**
 * Two real `sfs server` processes on one PostgreSQL database act as one index: one identity,
 * shared accounts, listings, lockouts and presence, and a server killed with SIGKILL leaves no
 * peer shown online past the presence timeout. Needs the test cluster of scripts/pg_cluster.sh
 * (`SFS_TEST_PG_URL`); skipped, with the reason printed, without it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isSfsError } from "../src/errors.ts";
import { PRESENCE_TIMEOUT_MS } from "../src/index/protocol/limits.ts";
import { tempDir } from "./harness.ts";
import {
  connectClient,
  eventually,
  PASSWORD,
  registeredHome,
  seedServerIdentity,
  sfs,
  startPgServer,
  startSender,
} from "./index_fixture.ts";
import { freshDatabase, pgMissing } from "./store_backends.ts";

Deno.test({
  name: "two sfs servers on one PostgreSQL database act as one index",
  ignore: pgMissing(),
  async fn(t) {
    await using db = await freshDatabase();
    await using dir = await tempDir();
    // One sfs home for both servers: the identity file they share.
    const serverHome = join(dir.path, "server");
    await seedServerIdentity(serverHome);
    await using a = await startPgServer(serverHome, db.url);
    // The test cluster trusts loopback, so any password gets in: B's must never be printed.
    const withPassword = new URL(db.url);
    withPassword.password = "pw-never-printed";
    await using b = await startPgServer(serverHome, withPassword.toString());

    await t.step("they present one identity and print no password", () => {
      assert.equal(a.fingerprint, b.fingerprint);
      assert.ok(b.db.startsWith("postgres://"), b.db);
      assert.ok(!b.proc.stdoutText().includes("pw-never-printed"), b.proc.stdoutText());
      assert.ok(!b.proc.stderrText().includes("pw-never-printed"), b.proc.stderrText());
    });

    const aliceHome = await registeredHome(dir.path, a, "alice");
    await t.step("an account registered on A logs in on B", async () => {
      const login = await sfs(aliceHome, [
        "login",
        "--server",
        b.address,
        "--user",
        "alice",
        "--server-fingerprint",
        b.fingerprint,
      ]);
      assert.equal(login.code, 0, login.stderr);
    });

    // alice's config now names B; she shares through A.
    const file = join(dir.path, "multi-server-report.txt");
    await Deno.writeTextFile(file, "shared across servers\n");
    await using sender = await startSender(aliceHome, [file], [
      "--server",
      a.address,
      "--keyword",
      "crossover",
    ]);

    await t.step("a listing announced on A is found on B, online", async () => {
      const client = await connectClient(b, "bob");
      try {
        const found = await client.search("crossover");
        assert.equal(found.length, 1);
        assert.equal(found[0].online, true);
      } finally {
        client.close();
      }
    });

    await t.step("a lockout earned on A applies on B", async () => {
      await registeredHome(dir.path, a, "carol");
      const onA = await connectClient(a, "carol");
      try {
        for (let i = 0; i < 5; i++) {
          await assert.rejects(
            onA.login("carol", `wrong guess ${i}`),
            (e) => isSfsError(e, "AUTH_FAILED"),
          );
        }
      } finally {
        onA.close();
      }
      const onB = await connectClient(b, "carol");
      try {
        // The right password, refused: B counts the failures A recorded.
        await assert.rejects(onB.login("carol", PASSWORD), (e) => isSfsError(e, "RATE_LIMITED"));
      } finally {
        onB.close();
      }
    });

    await t.step("SIGKILL of A: the sender shows offline on B within the timeout", async () => {
      a.proc.kill("SIGKILL");
      await a.proc.status;
      const killedAt = Date.now();
      const client = await connectClient(b, "bob");
      try {
        await eventually(
          async () => (await client.search("crossover"))[0]?.online === false,
          PRESENCE_TIMEOUT_MS + 5_000,
          "the sender shows offline",
        );
      } finally {
        client.close();
      }
      // The sender's last heartbeat to A was at most 10 s before the kill.
      assert.ok(Date.now() - killedAt <= PRESENCE_TIMEOUT_MS + 5_000);
    });
    sender.proc.kill("SIGTERM");
    assert.ok(!b.proc.stdoutText().includes("pw-never-printed"), "nor in B's log");
  },
});

Deno.test({
  name: "servers started together on an empty home make one identity; --identity shares it",
  ignore: pgMissing(),
  async fn() {
    await using db = await freshDatabase();
    await using dir = await tempDir();
    const home = join(dir.path, "fresh-home");
    await Deno.mkdir(home);
    // Both generate a key at once (SFS_DB names the database); one file wins, both load it.
    const starting = [1, 2].map(() => startPgServer(home, undefined, { env: { SFS_DB: db.url } }));
    await using a = await starting[0];
    await using b = await starting[1];
    assert.equal(a.fingerprint, b.fingerprint);
    const names = [];
    for await (const entry of Deno.readDir(home)) names.push(entry.name);
    assert.deepEqual(names.filter((n) => n.startsWith("server-identity")), [
      "server-identity.json",
    ]);
    // A server elsewhere, given that file, presents the same key.
    const other = join(dir.path, "other-home");
    await Deno.mkdir(other);
    await using c = await startPgServer(other, db.url, {
      extra: ["--identity", join(home, "server-identity.json")],
    });
    assert.equal(c.fingerprint, a.fingerprint);
  },
});
