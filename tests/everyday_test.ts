/**
 * Everyday use (issue 14): what a user sees when the other side refuses, when a connection is
 * lost or interrupted, and what `--json` prints for scripts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { formatTicket } from "../src/peer/ticket.ts";
import { randomFile, sha256File, tempDir } from "./harness.ts";
import { testIdentity } from "./identities.ts";
import { DEFAULT_CHUNK_SIZE as CHUNK } from "../src/crypto/stream.ts";
import { doneOf, errorOf, get, shareFile, type Sharing, startProxy, withPort } from "./peers.ts";
import {
  eventually,
  jsonError,
  registeredHome,
  sfs,
  startSender as startIndexSender,
  startServer,
} from "./index_fixture.ts";
import { stalledGet, startStallingProxy } from "./stall.ts";

Deno.test("sfs get says the sender refused, in its own words for the code", async () => {
  await using s = await shareFile("a.bin", 1000);
  const { dir, bob, ready } = s;
  const unknown = formatTicket({
    host: "127.0.0.1",
    port: ready.port,
    fileId: new Uint8Array(16).fill(0xab),
    fingerprint: (await testIdentity("alice")).public.fingerprint,
  });
  const missing = errorOf(await get(bob, unknown, join(dir.path, "out")));
  assert.equal(missing.code, "NOT_FOUND");
  // Who refused is the point of this message, so the test reads it.
  assert.match(missing.message, /^The sender refused: /);
});

Deno.test("sfs login says the index server refused", async () => {
  await using dir = await tempDir();
  await using server = await startServer(dir.path);
  const alice = await registeredHome(dir.path, server, "alice");
  const wrong = await sfs(alice, ["login", "--user", "alice", "--json"], {
    SFS_PASSWORD: "not the password",
  });
  const error = jsonError(wrong);
  assert.equal(error.code, "AUTH_FAILED");
  assert.match(error.message, /^The index server refused: /);
});

Deno.test("sfs get reports a connection lost mid-stream as a network failure it can resume", async () => {
  await using s = await shareFile("cut.bin", 4 * CHUNK);
  const out = join(s.dir.path, "out");
  {
    await using proxy = startProxy(s.ready.port, { cutAfterBytes: Math.floor(2.5 * CHUNK) });
    const cut = await get(s.bob, withPort(s.ready.ticket, proxy.port), out);
    // The connection ended: a network failure (exit 4), worth retrying, not a lying sender.
    assert.equal(cut.code, 4, cut.stderr);
    const error = errorOf(cut);
    assert.equal(error.code, "CONNECTION_CLOSED");
    assert.match(error.hint ?? "", /run the same command again to resume/i);
  }
  const again = await get(s.bob, s.ready.ticket, out);
  assert.ok(Number(doneOf(again).resumed_from) > 0, again.stderr);
  assert.match(again.stderr, /Resuming "cut\.bin" at \d+ of \d+ bytes/);
});

Deno.test("sfs get --json reports progress events, a few a second at most", async () => {
  await using s = await shareFile("events.bin", 16 * CHUNK);
  const started = performance.now();
  const result = await get(s.bob, s.ready.ticket, join(s.dir.path, "out"));
  const seconds = (performance.now() - started) / 1000;
  assert.equal(result.code, 0, result.stderr);
  const progress = result.events.filter((e) => e.event === "progress");
  assert.ok(progress.length >= 2, JSON.stringify(progress));
  for (const e of progress) assert.equal(e.total, 16 * CHUNK);
  assert.equal(progress.at(-1)!.bytes, 16 * CHUNK);
  // At most four a second, plus the first and the last.
  assert.ok(progress.length <= 4 * seconds + 2, `${progress.length} in ${seconds} s`);
});

/** A sender of a 64-chunk file with one receiver held mid-transfer by a stalling proxy. */
async function senderWithHeldReceiver(s: Sharing) {
  const proxy = startStallingProxy(s.ready.port, 4);
  const receiver = get(s.bob, withPort(s.ready.ticket, proxy.port), join(s.dir.path, "out"));
  await proxy.reached;
  return { proxy, receiver };
}

Deno.test("sfs send on Ctrl-C stops accepting, lets the transfer in flight finish, exits 0", async () => {
  await using s = await shareFile("held.bin", 64 * CHUNK);
  const { proxy, receiver } = await senderWithHeldReceiver(s);
  await using _proxy = proxy;
  Deno.kill(s.sender.pid, "SIGINT");
  await s.sender.nextEvent((e) => e.event === "stopping");
  // No new receivers: the port closes (the runtime releases it a moment after the close).
  await eventually(
    () =>
      Deno.connect({ hostname: "127.0.0.1", port: s.ready.port }).then((c) => {
        c.close();
        return false;
      }, () => true),
    5000,
    "the port is closed",
  );
  proxy.release();
  const done = await receiver;
  assert.equal(done.code, 0, done.stderr);
  assert.equal(await sha256File(join(s.dir.path, "out", "held.bin")), s.sha256);
  assert.equal((await s.sender.status).code, 0, s.sender.stderrText());
});

Deno.test("sfs send exits 130 at once on a second Ctrl-C", async () => {
  await using s = await shareFile("held.bin", 64 * CHUNK);
  const { proxy, receiver } = await senderWithHeldReceiver(s);
  await using _proxy = proxy;
  Deno.kill(s.sender.pid, "SIGINT");
  await s.sender.nextEvent((e) => e.event === "stopping");
  Deno.kill(s.sender.pid, "SIGINT");
  assert.equal((await s.sender.status).code, 130, s.sender.stderrText());
  proxy.release();
  // The receiver lost its sender: a network failure, with its verified part kept.
  assert.equal((await receiver).code, 4);
});

Deno.test("sfs send --once withdraws its listing on Ctrl-C", async () => {
  await using dir = await tempDir();
  await using server = await startServer(join(dir.path, "server"));
  const alice = await registeredHome(dir.path, server, "alice");
  const bob = await registeredHome(dir.path, server, "bob");
  const source = join(dir.path, "once.bin");
  await randomFile(source, 1000);
  await using sender = await startIndexSender(alice, [source], ["--once"]);
  const seen = await sfs(bob, ["ls", "--json"]);
  assert.equal(JSON.parse(seen.stdout.trim()).length, 1, seen.stdout);
  sender.proc.kill("SIGINT");
  assert.equal((await sender.proc.status).code, 0, sender.proc.stderrText());
  const after = await sfs(bob, ["ls", "--json"]);
  assert.deepEqual(JSON.parse(after.stdout.trim()), [], after.stdout);
});

Deno.test("sfs get on SIGTERM keeps what it verified, exits 130, and the rerun resumes", async () => {
  await using s = await shareFile("term.bin", 12 * CHUNK);
  const out = join(s.dir.path, "out");
  await using stalled = await stalledGet(s, "term.bin", out, 6);
  const { receiver } = stalled;
  receiver.kill("SIGTERM");
  assert.equal((await receiver.status).code, 130);
  await receiver.drained();
  const stderr = receiver.stderrText();
  const interrupted = errorOf({ code: 130, stdout: "", stderr, events: [] });
  assert.equal(interrupted.code, "INTERRUPTED");
  const kept = /\((\d+) of (\d+) bytes kept\)/.exec(interrupted.message);
  assert.ok(kept !== null && Number(kept[1]) > 0, interrupted.message);
  const again = await get(s.bob, s.ready.ticket, out);
  assert.equal(doneOf(again).resumed_from, Number(kept[1]));
  assert.match(again.stderr, new RegExp(`Resuming "term\\.bin" at ${kept[1]} of ${kept[2]} bytes`));
});
