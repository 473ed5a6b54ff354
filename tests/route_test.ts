/**
 * Direct first, relay when needed (docs/PROTOCOL.md §10.1), with real `sfs` processes on
 * 127.0.0.1: several candidates in tickets and announcements, racing past a refusing and a
 * black-holed address, `--direct` / `--relay`, and the route in the `done` event.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { formatTicket, parseTicket, ticketCandidates } from "../src/peer/ticket.ts";
import { formatHostPort } from "../src/net/address.ts";
import { randomFile, sha256File, startSfs, tempDir } from "./harness.ts";
import { testHome } from "./identities.ts";
import { doneOf, errorOf, get, readyOf, startSender } from "./peers.ts";
import {
  assertFails,
  eventually,
  registeredHome,
  sfs,
  startSender as startIndexSender,
  startServer,
} from "./index_fixture.ts";
import { blackHole, refusingPort } from "./unreachable.ts";

/** Alice's and bob's homes and a random file, in a temp folder. */
async function setup(size = 200_000) {
  const dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testHome(dir.path, "bob");
  const file = join(dir.path, "data.bin");
  await randomFile(file, size);
  const out = join(dir.path, "out");
  await Deno.mkdir(out);
  return { dir, alice, bob, file, out };
}

Deno.test("sfs get races past a refusing candidate to the sender's own address", async () => {
  const { dir, alice, bob, file, out } = await setup();
  await using _dir = dir;
  const port = refusingPort();
  const listen = refusingPort();
  await using sender = startSender(alice, file, [
    "--listen",
    `127.0.0.1:${listen}`,
    "--advertise",
    `127.0.0.1:${port}`,
    "--advertise",
    `127.0.0.1:${listen}`,
  ]);
  const ready = await readyOf(sender);
  const ticket = parseTicket(ready.ticket);
  // --advertise replaces the interface addresses, in the order given.
  assert.deepEqual(ticketCandidates(ticket).map(formatHostPort), [
    `127.0.0.1:${port}`,
    `127.0.0.1:${listen}`,
  ]);
  const done = doneOf(await get(bob, ready.ticket, out));
  assert.equal(done.route, "direct");
  assert.equal(done.sha256, await sha256File(file));
  const sent = await sender.nextEvent((e) => e.event === "sent");
  assert.equal(sent.route, "direct");
});

Deno.test("sfs get is not held up by a black hole that accepts and never answers", async () => {
  const { dir, alice, bob, file, out } = await setup();
  await using _dir = dir;
  await using hole = blackHole();
  const listen = refusingPort();
  await using sender = startSender(alice, file, [
    "--listen",
    `127.0.0.1:${listen}`,
    "--advertise",
    `127.0.0.1:${hole.port}`,
    "--advertise",
    `127.0.0.1:${listen}`,
  ]);
  const ready = await readyOf(sender);
  const started = Date.now();
  const result = await get(bob, ready.ticket, out);
  const elapsed = Date.now() - started;
  assert.equal(doneOf(result).route, "direct");
  // The black hole was dialled too (the race ran both at once)...
  assert.ok(hole.accepted >= 1);
  // ...and it cost nothing like a handshake deadline (10 s or more): the user waits for the
  // good address only. Generous, as the machine is shared.
  assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
});

Deno.test("sfs get --direct never dials the ticket's relay; --relay needs one", async (t) => {
  const { dir, bob, out } = await setup(1);
  await using _dir = dir;
  await using relay = blackHole();
  const fingerprint = new Uint8Array(32).fill(7);
  const ticket = formatTicket({
    host: "127.0.0.1",
    port: refusingPort(),
    fileId: new Uint8Array(16).fill(1),
    fingerprint,
    relay: { host: "127.0.0.1", port: relay.port, token: new Uint8Array(16).fill(9) },
  });

  await t.step("--direct fails with the direct error and leaves the relay alone", async () => {
    const result = await get(bob, ticket, out, ["--direct"]);
    assert.equal(errorOf(result).code, "CONNECTION_FAILED");
    assert.equal(result.code, 4);
    assert.equal(relay.accepted, 0);
  });

  await t.step(
    "without --direct the relay is dialled at once when the direct address refuses",
    async () => {
      await using proc = startSfs(["get", ticket, "--out", out, "--json"], { home: bob });
      await eventually(() => Promise.resolve(relay.accepted >= 1), 5_000, "the relay is dialled");
      proc.kill("SIGTERM");
    },
  );

  await t.step("--relay with a ticket that names no relay is a usage error", async () => {
    const plain = formatTicket({ ...parseTicket(ticket), relay: undefined });
    const result = await get(bob, plain, out, ["--relay"]);
    assert.equal(errorOf(result).code, "USAGE");
    assert.equal(result.code, 2);
  });

  await t.step("--direct and --relay together are a usage error", async () => {
    const result = await get(bob, ticket, out, ["--direct", "--relay"]);
    assert.equal(errorOf(result).code, "USAGE");
  });
});

Deno.test("an announcement with several addresses is fetched past a refusing one; the sender names bob", async () => {
  await using dir = await tempDir();
  await using server = await startServer(join(dir.path, "server"));
  const alice = await registeredHome(dir.path, server, "alice");
  const bob = await registeredHome(dir.path, server, "bob");
  const file = join(dir.path, "plan.bin");
  await randomFile(file, 100_000);
  const out = join(dir.path, "out");
  await Deno.mkdir(out);
  const listen = refusingPort();
  await using sender = await startIndexSender(alice, [file], [
    "--listen",
    `127.0.0.1:${listen}`,
    "--advertise",
    `127.0.0.1:${refusingPort()}`,
    "--advertise",
    `127.0.0.1:${listen}`,
    "--to",
    "bob",
    "--yes",
  ]);
  const result = await sfs(bob, ["get", sender.id, "--out", out, "--yes", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  const done = result.events.find((e) => e.event === "done");
  assert.equal(done?.route, "direct");
  assert.equal(done?.sha256, await sha256File(file));
  const sent = await sender.proc.nextEvent((e) => e.event === "sent");
  assert.equal(sent.user, "bob");
  assert.equal(sent.route, "direct");
});

Deno.test("sfs send refuses more than 8 --advertise addresses", async () => {
  const { dir, alice, file } = await setup(1);
  await using _dir = dir;
  const advertise = Array.from({ length: 9 }, (_, i) => ["--advertise", `192.0.2.${i + 1}:1`])
    .flat();
  const result = await sfs(alice, ["send", file, "--json", ...advertise]);
  assertFails(result, "USAGE", 2);
});
