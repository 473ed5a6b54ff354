import assert from "node:assert/strict";
import type { Bytes } from "../../crypto/bytes.ts";
import { SfsError } from "../../errors.ts";
import { Pairings } from "./relay_pairing.ts";

const connectionFailed = (err: unknown) =>
  err instanceof SfsError && err.code === "CONNECTION_FAILED";

Deno.test("Pairings.wait() gives up after the timeout even while the dial request hangs", async () => {
  const pairings = new Pairings();
  // A sharing connection that never takes the push, or a database that never answers NOTIFY.
  const hung = () => new Promise<void>(() => {});
  const stop = new AbortController();
  await assert.rejects(pairings.wait(hung, { timeoutMs: 20, stop: stop.signal }), connectionFailed);
});

Deno.test("Pairings.wait() ends with CONNECTION_FAILED when the dial request fails", async () => {
  const pairings = new Pairings();
  const stop = new AbortController();
  const broken = () =>
    Promise.reject(new SfsError("CONNECTION_FAILED", "The sharing connection closed"));
  await assert.rejects(
    pairings.wait(broken, { timeoutMs: 60_000, stop: stop.signal }),
    connectionFailed,
  );
});

Deno.test("Pairings.join() hands the leg to the wait for its token, once", async () => {
  const pairings = new Pairings();
  const stop = new AbortController();
  const leg = { read: () => Promise.resolve(null), write: () => Promise.resolve(0), close() {} };
  const dialed: Bytes[] = [];
  const waiting = pairings.wait((t) => {
    dialed.push(t);
    return Promise.resolve();
  }, { timeoutMs: 60_000, stop: stop.signal });
  const [token] = dialed;
  assert.equal(pairings.join(token, leg), true);
  assert.equal(await waiting, leg);
  assert.equal(pairings.join(token, leg), false);
});
