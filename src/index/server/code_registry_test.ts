import assert from "node:assert/strict";
import type { Bytes } from "../../crypto/bytes.ts";
import { isSfsError } from "../../errors.ts";
import { CodeRegistry, type CodeRegistryOptions } from "./code_registry.ts";
import type { LogFields } from "./handlers_context.ts";

/** A registry on a clock the test moves, with what it pushed and logged. */
function registry(options: CodeRegistryOptions = {}) {
  let time = 1_790_000_000_000;
  const pushed: [number, Bytes][] = [];
  const log: [string, LogFields][] = [];
  const codes = new CodeRegistry({
    now: () => time,
    log: (event, fields) => log.push([event, fields]),
    ...options,
  });
  const push = (nameplate: number, payload: Bytes) => {
    pushed.push([nameplate, payload]);
    return Promise.resolve();
  };
  return {
    codes,
    pushed,
    log,
    push,
    advance: (ms: number) => time += ms,
    now: () => time,
  };
}

function code(name: string): (err: unknown) => boolean {
  return (err) => isSfsError(err) && err.code === name;
}

const PAYLOAD = Uint8Array.of(1, 2, 3);

Deno.test("CodeRegistry.open() hands out the smallest free nameplate and caps the ttl", () => {
  const { codes, push, now } = registry({ limits: { ttlMs: 60_000 } });
  const sender = {};
  const open = (ttlSeconds = 0) => codes.open(sender, push, { owner: "user:1", ttlSeconds });
  assert.deepEqual(open(), { nameplate: 1, expiresAt: now() + 60_000, ttlSeconds: 60 });
  assert.deepEqual(open(30), { nameplate: 2, expiresAt: now() + 30_000, ttlSeconds: 30 });
  assert.deepEqual(open(3600), { nameplate: 3, expiresAt: now() + 60_000, ttlSeconds: 60 });
  codes.close(sender, 2, "done");
  assert.equal(open().nameplate, 2);
  assert.equal(open().nameplate, 4);
});

Deno.test("CodeRegistry.open() refuses beyond the owner's and the server's limits", () => {
  const { codes, push } = registry({ limits: { maxPerOwner: 2, maxTotal: 3 } });
  const sender = {};
  codes.open(sender, push, { owner: "user:1", ttlSeconds: 0 });
  codes.open(sender, push, { owner: "user:1", ttlSeconds: 0 });
  assert.throws(
    () => codes.open(sender, push, { owner: "user:1", ttlSeconds: 0 }),
    code("QUOTA_EXCEEDED"),
  );
  codes.open({}, push, { owner: "address:192.0.2.7", ttlSeconds: 0 });
  assert.throws(
    () => codes.open({}, push, { owner: "user:2", ttlSeconds: 0 }),
    code("BUSY"),
  );
});

Deno.test("CodeRegistry forgets an unclaimed nameplate at its expiry", () => {
  const { codes, push, advance, log } = registry({ limits: { ttlMs: 60_000 } });
  const { nameplate } = codes.open({}, push, { owner: "user:1", ttlSeconds: 0 });
  advance(59_999);
  assert.equal(codes.size, 1);
  advance(1);
  assert.throws(() => codes.claim({}, nameplate, PAYLOAD), code("CODE_UNKNOWN"));
  assert.deepEqual(log.at(-1), ["code_end", { nameplate, reason: "expired" }]);
});

Deno.test("CodeRegistry ends an exchange at its deadline", async () => {
  const { codes, push, advance, pushed } = registry({ limits: { exchangeMs: 60_000 } });
  const sender = {};
  const receiver = {};
  const { nameplate } = codes.open(sender, push, { owner: "user:1", ttlSeconds: 0 });
  const claimed = codes.claim(receiver, nameplate, PAYLOAD);
  assert.deepEqual(pushed, [[nameplate, PAYLOAD]]);
  codes.senderMail(sender, nameplate, Uint8Array.of(9));
  assert.deepEqual(await claimed, Uint8Array.of(9));
  advance(60_000);
  await assert.rejects(codes.receiverMail(receiver, nameplate, PAYLOAD), code("CODE_UNKNOWN"));
  assert.throws(() => codes.close(sender, nameplate, "done"), code("CODE_UNKNOWN"));
});

Deno.test("CodeRegistry.claim() answers TIMEOUT when the sender is silent, and the code ends", async () => {
  const { codes, push, log } = registry({ limits: { claimHoldMs: 10 } });
  const sender = {};
  const { nameplate } = codes.open(sender, push, { owner: "user:1", ttlSeconds: 0 });
  await assert.rejects(codes.claim({}, nameplate, PAYLOAD), code("TIMEOUT"));
  assert.deepEqual(log.at(-1), ["code_end", { nameplate, reason: "claim_timeout" }]);
  assert.throws(() => codes.senderMail(sender, nameplate, PAYLOAD), code("CODE_UNKNOWN"));
});

Deno.test("CodeRegistry.claim() is CODE_UNKNOWN when the push to the sender fails", async () => {
  const { codes } = registry();
  const broken = () => Promise.reject(new Error("connection reset"));
  const { nameplate } = codes.open({}, broken, { owner: "user:1", ttlSeconds: 0 });
  await assert.rejects(codes.claim({}, nameplate, PAYLOAD), code("CODE_UNKNOWN"));
  assert.equal(codes.size, 0);
});

Deno.test("CodeRegistry.closed() ends the sender's codes, not the receiver's", async () => {
  const { codes, push } = registry();
  const sender = {};
  const receiver = {};
  const a = codes.open(sender, push, { owner: "user:1", ttlSeconds: 0 }).nameplate;
  const b = codes.open(sender, push, { owner: "user:1", ttlSeconds: 0 }).nameplate;
  const claimed = codes.claim(receiver, a, PAYLOAD);
  codes.senderMail(sender, a, PAYLOAD);
  await claimed;
  codes.closed(receiver);
  assert.equal(codes.size, 2, "a receiver leaving ends nothing");
  codes.close(sender, a, "done");
  const held = codes.claim({}, b, PAYLOAD);
  codes.closed(sender);
  await assert.rejects(held, code("CODE_UNKNOWN"));
  assert.equal(codes.size, 0);
});

Deno.test("CodeRegistry.stop() answers a held claim with CONNECTION_CLOSED", async () => {
  const { codes, push } = registry();
  const { nameplate } = codes.open({}, push, { owner: "user:1", ttlSeconds: 0 });
  const held = codes.claim({}, nameplate, PAYLOAD);
  codes.stop();
  await assert.rejects(held, code("CONNECTION_CLOSED"));
  assert.equal(codes.size, 0);
});

Deno.test("CodeRegistry.isSender() is true only for the live nameplate's sender", () => {
  const { codes, push } = registry();
  const sender = {};
  const { nameplate } = codes.open(sender, push, { owner: "user:1", ttlSeconds: 0 });
  assert.equal(codes.isSender(sender, nameplate), true);
  assert.equal(codes.isSender({}, nameplate), false);
  assert.equal(codes.isSender(sender, nameplate + 1), false);
  codes.close(sender, nameplate, "failed");
  assert.equal(codes.isSender(sender, nameplate), false);
});

Deno.test("CodeRegistry.senderMail() ends the nameplate on a second mail from the sender", async () => {
  const { codes, push, log } = registry();
  const sender = {};
  const { nameplate } = codes.open(sender, push, { owner: "user:1", ttlSeconds: 0 });
  const claimed = codes.claim({}, nameplate, PAYLOAD);
  codes.senderMail(sender, nameplate, PAYLOAD);
  await claimed;
  assert.throws(() => codes.senderMail(sender, nameplate, PAYLOAD), code("CODE_UNKNOWN"));
  assert.deepEqual(log.at(-1), ["code_end", { nameplate, reason: "broken_flow" }]);
  assert.equal(codes.size, 0);
});
