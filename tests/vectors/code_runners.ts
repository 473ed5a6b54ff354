/**
 * Runners of the short-code kinds (docs/PROTOCOL.md §14.2–14.3): `code-exchange` replays a whole
 * exchange from the vector's scalars and sid and compares every payload, CI, the ISK and both
 * keys; `code-receive` and `code-confirm` feed one side a payload it must refuse.
 */
import assert from "node:assert/strict";
import { toHex } from "../../src/crypto/bytes.ts";
import { parseCode } from "../../src/peer/code.ts";
import {
  codeChannelId,
  codeKeys,
  receiverFinish,
  receiverStart,
  senderFinish,
  type SenderOffer,
  senderRespond,
} from "../../src/peer/code_pake.ts";
import { assertHex, type Runner, type Vector } from "./vector.ts";

/** A random source that hands out the vector's bytes, in order, exactly as asked. */
function fixed(...chunks: Uint8Array[]): (length: number) => Uint8Array {
  return (length) => {
    const next = chunks.shift();
    assert.ok(next !== undefined && next.length === length, `unexpected ${length}-byte draw`);
    return next;
  };
}

function offerOf(v: Vector): SenderOffer {
  const username = v.text("username");
  return {
    fingerprint: v.hex("sender_fingerprint"),
    ticket: v.text("ticket"),
    ...(username === "" ? {} : { username }),
  };
}

/** The sender's state after payload 1, from the vector. */
function respond(v: Vector) {
  return senderRespond(
    parseCode(v.text("code")),
    v.hex("server_fingerprint"),
    v.hex("msg1"),
    offerOf(v),
    {
      random: fixed(v.hex("sender_scalar")),
    },
  );
}

/** The receiver's state after payload 1, from the vector. */
function start(v: Vector) {
  return receiverStart(parseCode(v.text("code")), v.hex("server_fingerprint"), {
    random: fixed(v.hex("sid"), v.hex("receiver_scalar")),
  });
}

/** Runners by kind. */
export const CODE_RUNNERS: Record<string, Runner> = {
  "code-exchange": async (v) => {
    const code = parseCode(v.text("code"));
    assertHex(
      codeChannelId(v.hex("server_fingerprint"), code.nameplate),
      v.hex("channel_id"),
      "CI",
    );
    const a = start(v);
    assertHex(a.message, v.hex("msg1"), "payload 1");
    const b = await respond(v);
    assertHex(b.message, v.hex("msg2"), "payload 2");
    assertHex(b.pake.result.isk, v.hex("isk"), "ISK");
    const keys = await codeKeys(b.pake.result.isk, v.hex("sid"));
    assertHex(keys.receiverKey, v.hex("receiver_key"), "receiver key");
    assertHex(keys.senderKey, v.hex("sender_key"), "sender key");
    const done = await receiverFinish(a.pake, v.hex("msg2"), v.hex("receiver_fingerprint"));
    assertHex(done.message, v.hex("msg3"), "payload 3");
    assert.deepEqual(done.offer, offerOf(v));
    const receiver = await senderFinish(b.pake, v.hex("msg3"));
    assert.equal(toHex(receiver), toHex(v.hex("receiver_fingerprint")));
  },
  "code-receive": async (v) => {
    await receiverFinish(start(v).pake, v.hex("msg2"), v.hex("receiver_fingerprint"));
  },
  "code-confirm": async (v) => {
    await senderFinish((await respond(v)).pake, v.hex("msg3"));
  },
};
