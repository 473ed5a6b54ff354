/**
 * Everyday use (issue 14): what a user sees when the other side refuses, when a connection is
 * lost or interrupted, and what `--json` prints for scripts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { formatTicket } from "../src/peer/ticket.ts";
import { randomFile, tempDir } from "./harness.ts";
import { testHome, testIdentity } from "./identities.ts";
import { DEFAULT_CHUNK_SIZE as CHUNK } from "../src/crypto/stream.ts";
import {
  doneOf,
  errorOf,
  get,
  readyOf,
  shareFile,
  startProxy,
  startSender,
  withPort,
} from "./peers.ts";
import { jsonError, registeredHome, sfs, startServer } from "./index_fixture.ts";

Deno.test("sfs get says the sender refused, in its own words for the code", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testHome(dir.path, "bob");
  const source = join(dir.path, "a.bin");
  await randomFile(source, 1000);
  await using sender = startSender(alice, source);
  const ready = await readyOf(sender);
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
