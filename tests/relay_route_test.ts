/**
 * The relay wired into `sfs send` and `sfs get` (docs/PROTOCOL.md §10, §10.1, §13), with real
 * `sfs server`, `sfs send` and `sfs get` processes on 127.0.0.1: a sender whose announced address
 * refuses connections, or black-holes them, is still reached through the index server's relay,
 * by name, by id, and by a ticket whose holder has no account.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { formatTicket, parseTicket } from "../src/peer/ticket.ts";
import { DEFAULT_CHUNK_SIZE } from "../src/crypto/stream.ts";
import { randomFile, type SfsEvent, sha256File, startSfs, tempDir } from "./harness.ts";
import { doneOf, errorOf, get, listTree } from "./peers.ts";
import {
  registeredHome,
  type Sender,
  type ServerProcess,
  sfs,
  startSender,
  startServer,
} from "./index_fixture.ts";
import { partHolds, stalledOrExited, startStallingProxy } from "./stall.ts";
import { blackHole, refusingPort } from "./unreachable.ts";

/** An index server, alice sharing one file from an address nobody reaches, and bob. */
interface World extends AsyncDisposable {
  readonly dir: string;
  readonly server: ServerProcess;
  readonly bob: string;
  readonly file: string;
  readonly sender: Sender;
  /** A new, empty output folder. */
  out(): Promise<string>;
}

async function world(advertise: string, size = 300_000, extra: string[] = []): Promise<World> {
  const dir = await tempDir();
  const server = await startServer(join(dir.path, "server"));
  const alice = await registeredHome(dir.path, server, "alice");
  const bob = await registeredHome(dir.path, server, "bob");
  const file = join(dir.path, "plan.bin");
  await randomFile(file, size);
  const sender = await startSender(alice, [file], ["--advertise", advertise, ...extra]);
  let outs = 0;
  return {
    dir: dir.path,
    server,
    bob,
    file,
    sender,
    async out() {
      const out = join(dir.path, `out${++outs}`);
      await Deno.mkdir(out);
      return out;
    },
    async [Symbol.asyncDispose]() {
      await sender[Symbol.asyncDispose]();
      await server[Symbol.asyncDispose]();
      await dir[Symbol.asyncDispose]();
    },
  };
}

/** A fresh SFS_HOME: no identity, no account, no pins. */
async function freshHome(w: World): Promise<string> {
  const home = join(w.dir, `stranger-${crypto.randomUUID().slice(0, 8)}`);
  await Deno.mkdir(home);
  return home;
}

/** The sender's next `sent` event (events are read in order, each once). */
function sent(w: World): Promise<SfsEvent> {
  return w.sender.proc.nextEvent((e) => e.event === "sent");
}

/** Fetches by name, by id, and by ticket with no account: all through the relay. */
async function reachedThroughRelay(t: Deno.TestContext, w: World): Promise<void> {
  const sha256 = await sha256File(w.file);
  await t.step("by name, with bob's account", async () => {
    const result = await sfs(w.bob, ["get", "plan.bin", "--out", await w.out(), "--json", "--yes"]);
    const done = doneOf(result);
    assert.equal(done.route, "relay");
    assert.equal(done.sha256, sha256);
    const event = await sent(w);
    assert.equal(event.route, "relay");
    assert.equal(event.user, "bob", "the sender names the receiver the relay named");
    assert.match(String(event.peer), /^relay#\d+$/);
  });
  await t.step("by id", async () => {
    const result = await sfs(w.bob, [
      "get",
      w.sender.id,
      "--out",
      await w.out(),
      "--json",
      "--yes",
    ]);
    assert.equal(doneOf(result).route, "relay");
    assert.equal((await sent(w)).user, "bob");
  });
  await t.step("by ticket, by a receiver with no account", async () => {
    const ticket = parseTicket(String(w.sender.ready.ticket));
    assert.ok(ticket.relay?.fingerprint, "the ticket names the relay and its key");
    assert.equal(ticket.relay.port, w.server.port);
    const home = await freshHome(w);
    const done = doneOf(await get(home, String(w.sender.ready.ticket), await w.out()));
    assert.equal(done.route, "relay");
    assert.equal(done.sha256, sha256);
    const event = await sent(w);
    assert.equal(event.route, "relay");
    assert.equal(event.user, undefined, "no account, no name");
  });
}

Deno.test("a sender whose announced address refuses is reached through the relay", async (t) => {
  await using w = await world(`127.0.0.1:${refusingPort()}`);
  await reachedThroughRelay(t, w);

  await t.step("--direct never relays: it fails with the network's code", async () => {
    const result = await get(w.bob, String(w.sender.ready.ticket), await w.out(), ["--direct"]);
    assert.equal(errorOf(result).code, "CONNECTION_FAILED");
    assert.equal(result.code, 4);
    const byName = await sfs(w.bob, [
      "get",
      "plan.bin",
      "--out",
      await w.out(),
      "--direct",
      "--yes",
    ]);
    assert.equal(byName.code, 4, byName.stderr);
  });

  await t.step("a relay that is not the server the ticket names is KEY_MISMATCH", async () => {
    const ticket = parseTicket(String(w.sender.ready.ticket));
    const forged = formatTicket({
      ...ticket,
      relay: { ...ticket.relay!, fingerprint: new Uint8Array(32).fill(7) },
    });
    const out = await w.out();
    const result = await get(await freshHome(w), forged, out);
    assert.equal(errorOf(result).code, "KEY_MISMATCH");
    assert.equal(result.code, 3);
    assert.deepEqual(await listTree(out), []);
  });

  await t.step(
    "a hint of the first form, without the server's key, needs the pin or --yes",
    async () => {
      const ticket = parseTicket(String(w.sender.ready.ticket));
      const old = formatTicket({ ...ticket, relay: { ...ticket.relay!, fingerprint: undefined } });
      const home = await freshHome(w);
      const unconfirmed = await get(home, old, await w.out());
      assert.equal(errorOf(unconfirmed).code, "USAGE");
      assert.equal(doneOf(await get(home, old, await w.out(), ["--yes"])).route, "relay");
      await sent(w);
      // Now pinned: no --yes needed.
      assert.equal(doneOf(await get(home, old, await w.out())).route, "relay");
      await sent(w);
    },
  );

  await t.step("a ticket of a sender that stopped fails as unreachable, not refused", async () => {
    w.sender.proc.kill("SIGTERM");
    await w.sender.proc.status;
    const result = await get(await freshHome(w), String(w.sender.ready.ticket), await w.out());
    assert.equal(errorOf(result).code, "CONNECTION_FAILED");
    assert.equal(result.code, 4);
  });
});

Deno.test("a sender whose announced address black-holes is reached through the relay", async (t) => {
  await using hole = blackHole();
  await using w = await world(`127.0.0.1:${hole.port}`);
  await reachedThroughRelay(t, w);
  assert.ok(hole.accepted >= 3, "every get tried the direct address first");
});

Deno.test("a relayed receiver passes the same --to check as a direct one", async () => {
  await using w = await world(`127.0.0.1:${refusingPort()}`, 100_000, ["--to", "bob", "--yes"]);
  const done = doneOf(
    await sfs(w.bob, ["get", w.sender.id, "--out", await w.out(), "--json", "--yes"]),
  );
  assert.equal(done.route, "relay");
  assert.equal((await sent(w)).user, "bob");
  // The ticket lets a stranger through the relay, not past the sender's list.
  const out = await w.out();
  const result = await get(await freshHome(w), String(w.sender.ready.ticket), out);
  assert.equal(errorOf(result).code, "REFUSED");
  const failed = await w.sender.proc.nextEvent((e) => e.event === "transfer_failed");
  assert.equal(failed.route, "relay");
  assert.equal(failed.code, "REFUSED");
  assert.deepEqual(await listTree(out), []);
});

Deno.test("sfs get --relay goes through the relay even when the sender is reachable", async () => {
  // The sender's own port is advertised: a direct connection would work.
  const listen = refusingPort();
  await using w = await world(`127.0.0.1:${listen}`, 100_000, ["--listen", `127.0.0.1:${listen}`]);
  const direct = doneOf(await get(w.bob, String(w.sender.ready.ticket), await w.out()));
  assert.equal(direct.route, "direct");
  assert.equal((await sent(w)).route, "direct");
  const relayed = doneOf(
    await get(w.bob, String(w.sender.ready.ticket), await w.out(), [
      "--relay",
    ]),
  );
  assert.equal(relayed.route, "relay");
  assert.equal((await sent(w)).route, "relay");
});

Deno.test("sfs get resumes through the relay what it began directly", async () => {
  const CHUNK = DEFAULT_CHUNK_SIZE;
  const listen = refusingPort();
  await using w = await world(`127.0.0.1:${listen}`, 12 * CHUNK, [
    "--listen",
    `127.0.0.1:${listen}`,
  ]);
  const out = await w.out();
  // A proxy in front of the sender holds the stream after a few chunks: stop the receiver there.
  await using stalled = startStallingProxy(listen, 5);
  const ticket = parseTicket(String(w.sender.ready.ticket));
  const viaProxy = formatTicket({ ...ticket, port: stalled.port, relay: undefined });
  await using receiver = startSfs(["get", viaProxy, "--out", out, "--json"], { home: w.bob });
  await stalledOrExited(stalled, receiver);
  // The GET rides in the handshake (§6.1): chunks may still be on their way when the proxy
  // stalls, so wait until one is stored before interrupting.
  await partHolds(join(out, "plan.bin.sfs-part"), CHUNK);
  Deno.kill(receiver.pid, "SIGINT");
  assert.equal((await receiver.status).code, 130);
  const state = JSON.parse(await Deno.readTextFile(join(out, "plan.bin.sfs-state")));
  assert.ok(state.verified > 0, "some chunks were kept");
  const done = doneOf(await get(w.bob, String(w.sender.ready.ticket), out, ["--relay"]));
  assert.equal(done.route, "relay");
  assert.equal(done.resumed_from, state.verified);
  assert.equal(done.sha256, await sha256File(w.file));
});
