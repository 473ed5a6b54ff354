import assert from "node:assert/strict";
import { isSfsError, SfsError } from "../errors.ts";
import { closeQuietly } from "../closable.ts";
import { type Candidate, raceConnections, tcpCandidate } from "./race.ts";
import { refusingPort } from "../../tests/unreachable.ts";

/**
 * A stand-in peer on 127.0.0.1: "good" answers the toy handshake below, "black hole" accepts and
 * never answers. Disposing closes the listener and every connection.
 */
function peer(kind: "good" | "black hole"): AsyncDisposable & { port: number; accepted: number } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const state = { port: listener.addr.port, accepted: 0 };
  const loop = (async () => {
    for await (const conn of listener) {
      state.accepted++;
      conns.add(conn);
      if (kind === "good") {
        void (async () => {
          const hello = new Uint8Array(2);
          if ((await conn.read(hello).catch(() => null)) === 2) {
            await conn.write(new TextEncoder().encode("ok")).catch(() => {});
          }
        })();
      }
    }
  })().catch(() => {});
  return Object.assign(state, {
    async [Symbol.asyncDispose]() {
      closeQuietly(listener);
      for (const conn of conns) closeQuietly(conn);
      await loop;
    },
  });
}

/** The toy handshake: send "hi", expect "ok"; the connection is the established value. */
async function establish(conn: Deno.Conn): Promise<Deno.Conn> {
  await conn.write(new TextEncoder().encode("hi"));
  const reply = new Uint8Array(2);
  let got = 0;
  while (got < 2) {
    const n = await conn.read(reply.subarray(got));
    if (n === null) throw new Error("closed before the handshake completed");
    got += n;
  }
  return conn;
}

const local = (port: number) => tcpCandidate({ host: "127.0.0.1", port });
/** A relay candidate that records whether it was dialled. */
function recordingRelay(port: number): Candidate & { dialled: number } {
  const inner = local(port);
  const relay = {
    label: "relay",
    dialled: 0,
    dial: (signal: AbortSignal) => {
      relay.dialled++;
      return inner.dial(signal);
    },
  };
  return relay;
}
const HOUR_MS = 3_600_000;

Deno.test("raceConnections() wins with the good candidate next to a refusing one", async () => {
  await using good = peer("good");
  const winner = await raceConnections({
    direct: [local(refusingPort()), local(good.port)],
    establish,
    discard: closeQuietly,
  });
  assert.equal(winner.route, "direct");
  assert.equal(winner.label, `127.0.0.1:${good.port}`);
  winner.value.close();
});

Deno.test("raceConnections() does not wait for a black hole that accepts and never answers", async () => {
  await using hole = peer("black hole");
  await using good = peer("good");
  await using relayPeer = peer("good");
  const relay = recordingRelay(relayPeer.port);
  // With an hour's relay delay, waiting for the black hole would hang this test; the relay timer
  // must also be cleared once the good candidate won (the sanitizers check that).
  const winner = await raceConnections({
    direct: [local(hole.port), local(good.port)],
    relay,
    relayDelayMs: HOUR_MS,
    establish,
    discard: closeQuietly,
  });
  assert.equal(winner.label, `127.0.0.1:${good.port}`);
  assert.equal(relay.dialled, 0);
  winner.value.close();
});

Deno.test("raceConnections() dials the relay at once when every direct attempt failed", async () => {
  await using relayPeer = peer("good");
  const relay = recordingRelay(relayPeer.port);
  const winner = await raceConnections({
    direct: [local(refusingPort()), local(refusingPort())],
    relay,
    relayDelayMs: HOUR_MS,
    establish,
    discard: closeQuietly,
  });
  assert.equal(winner.route, "relay");
  assert.equal(relay.dialled, 1);
  winner.value.close();
});

Deno.test("raceConnections() dials the relay after the delay while a black hole holds on", async () => {
  await using hole = peer("black hole");
  await using relayPeer = peer("good");
  const relay = recordingRelay(relayPeer.port);
  const winner = await raceConnections({
    direct: [local(hole.port)],
    relay,
    relayDelayMs: 50,
    establish,
    discard: closeQuietly,
  });
  assert.equal(winner.route, "relay");
  winner.value.close();
});

Deno.test("raceConnections() without a relay fails with the direct error when all fail", async () => {
  await assert.rejects(
    raceConnections({
      direct: [local(refusingPort()), local(refusingPort())],
      establish,
      discard: closeQuietly,
    }),
    (err) => isSfsError(err, "CONNECTION_FAILED"),
  );
});

Deno.test("raceConnections() prefers a peer's refusal to a refused connection", async () => {
  await using liar = peer("good");
  await assert.rejects(
    raceConnections({
      direct: [local(refusingPort()), local(liar.port)],
      establish: async (conn) => {
        await establish(conn);
        throw new SfsError("KEY_MISMATCH", "Not the expected key");
      },
      discard: closeQuietly,
    }),
    (err) => isSfsError(err, "KEY_MISMATCH"),
  );
});

Deno.test("raceConnections() stops with INTERRUPTED and leaves nothing open", async () => {
  await using hole = peer("black hole");
  const stop = new AbortController();
  const racing = raceConnections({
    direct: [local(hole.port)],
    relay: local(hole.port),
    relayDelayMs: HOUR_MS,
    establish,
    discard: closeQuietly,
    signal: stop.signal,
  });
  while (hole.accepted === 0) await new Promise((r) => setTimeout(r, 10));
  stop.abort();
  await assert.rejects(racing, (err) => isSfsError(err, "INTERRUPTED"));
});

Deno.test("raceConnections() closes a second connection that completes after the winner", async () => {
  await using first = peer("good");
  await using second = peer("good");
  const discarded: Deno.Conn[] = [];
  const winner = await raceConnections({
    direct: [local(first.port), local(second.port)],
    establish,
    discard: (conn) => {
      discarded.push(conn);
      conn.close();
    },
  });
  // The loser either was closed while its handshake ran or completed and was discarded; either
  // way nothing stays open (the resource sanitizer would fail this test).
  assert.ok(discarded.length <= 1);
  winner.value.close();
});

Deno.test("raceConnections() lets the first claim win and refuses a second claim", async () => {
  await using first = peer("good");
  await using second = peer("good");
  const claims: string[] = [];
  const winner = await raceConnections({
    direct: [local(first.port), local(second.port)],
    establish: async (conn, _route, claim) => {
      await establish(conn);
      try {
        claim();
        claims.push("won");
      } catch (err) {
        claims.push(isSfsError(err, "CONNECTION_CLOSED") ? "refused" : "other");
        throw err;
      }
      return conn;
    },
    discard: closeQuietly,
  });
  // The second attempt either was closed before it could claim or was refused when it tried.
  assert.equal(claims[0], "won");
  assert.ok(claims.slice(1).every((c) => c === "refused"));
  winner.value.close();
});

Deno.test("raceConnections() fails with the winner's error when it fails after its claim", async () => {
  await using good = peer("good");
  await using relayPeer = peer("good");
  const relay = recordingRelay(relayPeer.port);
  await assert.rejects(
    raceConnections({
      direct: [local(good.port)],
      relay,
      relayDelayMs: HOUR_MS,
      establish: async (conn, _route, claim) => {
        await establish(conn);
        claim();
        throw new SfsError("BAD_SIGNATURE", "Failed after the claim");
      },
      discard: closeQuietly,
    }),
    (err) => isSfsError(err, "BAD_SIGNATURE"),
  );
  assert.equal(relay.dialled, 0);
});
