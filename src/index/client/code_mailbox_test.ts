import assert from "node:assert/strict";
import { toHex } from "../../crypto/bytes.ts";
import { isSfsError, SfsError } from "../../errors.ts";
import { MessageType } from "../../wire/messages.ts";
import { CodeMailbox } from "./code_mailbox.ts";

function mail(nameplate: number, byte: number) {
  return { type: MessageType.CODE_MAIL, nameplate, payload: Uint8Array.of(byte) } as const;
}

Deno.test("CodeMailbox.next() gets payloads pushed before and after it waits, in order", async () => {
  const box = new CodeMailbox();
  box.expect(7);
  box.put(mail(7, 1));
  const never = new AbortController().signal;
  assert.equal(toHex(await box.next(7, never)), "01");
  const waiting = box.next(7, never);
  box.put(mail(7, 2));
  assert.equal(toHex(await waiting), "02");
});

Deno.test("CodeMailbox.put() drops pushes for other nameplates and beyond the flow", async () => {
  const box = new CodeMailbox();
  box.expect(7);
  box.put(mail(8, 9));
  for (const byte of [1, 2, 3]) box.put(mail(7, byte));
  const never = new AbortController().signal;
  assert.equal(toHex(await box.next(7, never)), "01");
  assert.equal(toHex(await box.next(7, never)), "02");
  const stop = new AbortController();
  const third = box.next(7, stop.signal);
  stop.abort(new SfsError("CODE_EXPIRED", "expired"));
  await assert.rejects(third, (err) => isSfsError(err, "CODE_EXPIRED"));
  box.forget(7);
  box.put(mail(7, 4));
  const after = new AbortController();
  const late = box.next(7, after.signal);
  after.abort(new SfsError("TIMEOUT", "late"));
  await assert.rejects(late, (err) => isSfsError(err, "TIMEOUT"));
});

Deno.test("CodeMailbox.forget() rejects a next() that waits for the nameplate", async () => {
  const box = new CodeMailbox();
  box.expect(7);
  const waiting = box.next(7, new AbortController().signal);
  box.forget(7);
  await assert.rejects(waiting, (err) => isSfsError(err, "CODE_UNKNOWN"));
});

Deno.test("CodeMailbox.fail() rejects the wait in progress and every later one", async () => {
  const box = new CodeMailbox();
  box.expect(7);
  const never = new AbortController().signal;
  const waiting = box.next(7, never);
  box.fail(new SfsError("CONNECTION_CLOSED", "Lost"));
  const closed = (err: unknown) => isSfsError(err, "CONNECTION_CLOSED");
  await assert.rejects(waiting, closed);
  box.put(mail(7, 1));
  await assert.rejects(box.next(7, never), closed);
});
