/**
 * The relay across servers (docs/PROTOCOL.md §13.7): two real `sfs server` processes on one
 * PostgreSQL database; a sender shares through A, receivers ask B, and the sender's leg goes to
 * B, which splices. Needs the test cluster of scripts/pg_cluster.sh (`SFS_TEST_PG_URL`); skipped,
 * with the reason printed, without it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Bytes, toHex } from "../src/crypto/bytes.ts";
import { isSfsError } from "../src/errors.ts";
import { decodeAnnouncement } from "../src/index/protocol/announcement.ts";
import { splice } from "../src/net/splice.ts";
import { sha256File, tempDir } from "./harness.ts";
import { seedServerIdentity, type ServerProcess, startPgServer } from "./index_fixture.ts";
import {
  dialRelayTo,
  fetchRelayed,
  type RelayShare,
  shareRelayed,
  worldOfProcess,
} from "./relay_fixture.ts";
import { freshDatabase, pgMissing } from "./store_backends.ts";

/** B's pairing timeout, in seconds: short, so the failure cases end soon. */
const PAIRING_TIMEOUT_S = 2;

/**
 * A forwarder on 127.0.0.1 to a port known later: the "own address" a server behind a load
 * balancer is given with --relay-address. Counts the connections it forwarded.
 */
function forwarder(): { port: number; target: { port: number }; accepted: number } & Disposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const state = {
    port: listener.addr.port,
    target: { port: 0 },
    accepted: 0,
    [Symbol.dispose]: () => listener.close(),
  };
  (async () => {
    for await (const conn of listener) {
      state.accepted++;
      Deno.connect({ hostname: "127.0.0.1", port: state.target.port }).then(
        (upstream) => splice(conn, upstream).catch(() => {}),
        () => conn.close(),
      );
    }
  })().catch(() => {});
  return state;
}

/** The relay sessions a server process logged, by event name. */
function relayEvents(server: ServerProcess, event: string): Record<string, unknown>[] {
  return server.proc.events.filter((e) => e.event === event) as Record<string, unknown>[];
}

/** Checks that what a receiver saved is the shared file. */
async function assertSameContent(path: string, share: RelayShare): Promise<void> {
  assert.equal(await sha256File(path), toHex(share.file.sha256));
}

Deno.test({
  name: "a receiver on server B is relayed to a sender sharing through server A",
  ignore: pgMissing(),
  async fn(t) {
    await using db = await freshDatabase();
    await using dir = await tempDir();
    const serverHome = await seedServerIdentity(join(dir.path, "server"));
    await using a = await startPgServer(serverHome, db.url);
    // One relayed session at most on B: a pairing that failed must give its slot back.
    await using b = await startPgServer(serverHome, db.url, {
      extra: [
        "--relay-pairing-timeout",
        String(PAIRING_TIMEOUT_S),
        "--relay-max-sessions",
        "1",
      ],
    });
    await using onA = worldOfProcess(a, dir.path);
    await using onB = worldOfProcess(b, dir.path);
    const bob = await onA.account("bob");
    // Shared with bob only: only his account, or the ticket's token, reaches it.
    await using share = await shareRelayed(onA, "alice", { recipients: ["bob"], blocks: 64 });

    await t.step("by name, with an account: B pairs and splices, the leg goes to B", async () => {
      const client = await onB.client(bob, "bob");
      const [found] = await client.resolve(share.file.name);
      client.close();
      assert.ok(found?.online, "the listing A holds shows online on B");
      const fileId = decodeAnnouncement(found.announcement).fileId;
      const result = await fetchRelayed(onB, {
        file: { ...share.file, id: fileId },
        owner: share.owner,
      }, {
        identity: bob,
        auth: "bob",
      });
      await assertSameContent(result.path, share);
      assert.deepEqual(share.relayedTo, ["bob"], "A passed on B's word on the receiver");
      await b.proc.nextEvent((e) => e.event === "relay_end", 10_000);
      const [start] = relayEvents(b, "relay_start");
      assert.equal(start?.user, "alice");
      assert.deepEqual(relayEvents(a, "relay_start"), [], "A splices nothing");
      // The leg the sender opened went to B's port, not A's.
      assert.deepEqual(share.legs, [], "the sender did not dial its own index server");
    });

    const token = share.session.relayTokenFor(share.file.id)!;
    await t.step(
      "by the ticket's token, without an account: the token A took is valid on B",
      async () => {
        const result = await fetchRelayed(onB, share, { identity: bob, token });
        await assertSameContent(result.path, share);
        await b.proc.nextEvent((e) => e.event === "relay_end", 10_000);
        assert.equal(relayEvents(b, "relay_start").length, 2);
        assert.deepEqual(relayEvents(a, "relay_start"), []);
      },
    );

    await t.step(
      "without token or account the share is hidden; a wrong token is REFUSED",
      async () => {
        await assert.rejects(
          dialRelayTo(onB, share.file.id, { identity: bob }),
          (e) => isSfsError(e, "NOT_FOUND"),
        );
        const wrong = token.slice();
        wrong[0] ^= 1;
        await assert.rejects(
          dialRelayTo(onB, share.file.id, { identity: bob, token: wrong }),
          (e) => isSfsError(e, "REFUSED"),
        );
      },
    );

    await t.step("a share nobody offers → NOT_FOUND", async () => {
      const nobody = crypto.getRandomValues(new Uint8Array(16)) as Bytes;
      await assert.rejects(
        dialRelayTo(onB, nobody, { identity: bob, auth: "bob" }),
        (e) => isSfsError(e, "NOT_FOUND"),
      );
    });

    await t.step("a receiver on A itself: A pairs locally, the leg goes to A", async () => {
      const result = await fetchRelayed(onA, share, { identity: bob, auth: "bob" });
      await assertSameContent(result.path, share);
      await a.proc.nextEvent((e) => e.event === "relay_end", 10_000);
      // Without --relay-address, A's own sender dials the index address it uses (§13.7).
      assert.equal(share.legs.length, 1);
      assert.equal(relayEvents(b, "relay_start").length, 2, "B splices nothing more");
    });

    await t.step(
      "--relay-address: the sender's leg goes to the address the server names",
      async () => {
        using front = forwarder();
        await using c = await startPgServer(serverHome, db.url, {
          extra: [
            "--relay-address",
            `127.0.0.1:${front.port}`,
          ],
        });
        front.target.port = c.port;
        const onC = worldOfProcess(c, dir.path);
        try {
          const result = await fetchRelayed(onC, share, { identity: bob, token });
          await assertSameContent(result.path, share);
          await c.proc.nextEvent((e) => e.event === "relay_end", 10_000);
          assert.equal(front.accepted, 1, "the leg came through C's relay address");
        } finally {
          await onC[Symbol.asyncDispose]();
        }
      },
    );

    await t.step(
      "A killed: B's receiver gets CONNECTION_FAILED within the pairing timeout",
      async () => {
        a.proc.kill("SIGKILL");
        await a.proc.status;
        // A's beat is still fresh: B still finds the sharer there and asks A, which never answers.
        for (let attempt = 0; attempt < 2; attempt++) {
          const asked = Date.now();
          await assert.rejects(
            dialRelayTo(onB, share.file.id, { identity: bob, token }),
            (e) => isSfsError(e, "CONNECTION_FAILED"),
          );
          // Generous: the bound is the pairing timeout, plus a connect and a handshake.
          assert.ok(Date.now() - asked < (PAIRING_TIMEOUT_S + 5) * 1000);
          // The second attempt gets CONNECTION_FAILED, not BUSY: the failed pairing freed B's
          // only slot, so nothing of it is left behind.
        }
      },
    );
  },
});
