import assert from "node:assert/strict";
import { type Bytes, toHex } from "../crypto/bytes.ts";
import { type ErrorCode, isSfsError } from "../errors.ts";
import { parseCode, type ShortCode } from "./code.ts";
import {
  CODE_SID_BYTES,
  codeChannelId,
  decodeOffer,
  encodeOffer,
  notConfirmedMessage,
  receiverFinish,
  receiverStart,
  senderFinish,
  type SenderOffer,
  senderRespond,
} from "./code_pake.ts";
import { formatTicket } from "./ticket.ts";

const CODE = parseCode("7-crimson-tiger-lamp");
const SERVER = new Uint8Array(32).fill(0x5e);
const SENDER_FP = new Uint8Array(32).fill(0xb0);
const RECEIVER_FP = new Uint8Array(32).fill(0xa0);
const OFFER: SenderOffer = {
  fingerprint: SENDER_FP,
  ticket: formatTicket({
    host: "192.0.2.7",
    port: 4500,
    relay: { host: "198.51.100.1", port: 4600, token: new Uint8Array(16).fill(7) },
    fileId: new Uint8Array(16).fill(0x1d),
    fingerprint: SENDER_FP,
  }),
  username: "alice",
};

function code(expected: ErrorCode): (err: unknown) => boolean {
  return (err) => isSfsError(err, expected);
}

function flipped(bytes: Uint8Array, at: number): Bytes {
  const copy = Uint8Array.from(bytes);
  copy[at] ^= 0x01;
  return copy;
}

/** One exchange up to msg2, with each side's code and server key. */
async function runTo2(
  receiver: { code?: ShortCode; server?: Uint8Array } = {},
  sender: { code?: ShortCode; server?: Uint8Array; offer?: SenderOffer } = {},
) {
  const a = receiverStart(receiver.code ?? CODE, receiver.server ?? SERVER);
  const b = await senderRespond(
    sender.code ?? CODE,
    sender.server ?? SERVER,
    a.message,
    sender.offer ?? OFFER,
  );
  return { a, b };
}

Deno.test("receiverFinish() and senderFinish() complete an exchange with the same code", async () => {
  const { a, b } = await runTo2();
  const done = await receiverFinish(a.pake, b.message, RECEIVER_FP);
  assert.equal(toHex(done.offer.fingerprint), toHex(SENDER_FP));
  assert.equal(done.offer.ticket, OFFER.ticket);
  assert.equal(done.offer.username, "alice");
  assert.equal(toHex(done.ticket.fingerprint), toHex(SENDER_FP));
  assert.equal(toHex(await senderFinish(b.pake, done.message)), toHex(RECEIVER_FP));
});

Deno.test("receiverFinish() fails with PAKE_FAILED and the sender burns on a different code", async (t) => {
  const cases: [string, { code?: ShortCode; server?: Uint8Array }][] = [
    ["other words", { code: parseCode("7-crimson-tiger-lava") }],
    ["other nameplate", { code: parseCode("8-crimson-tiger-lamp") }],
    ["a fourth word", { code: parseCode("7-crimson-tiger-lamp-yak") }],
    ["another index server key (CI)", { server: new Uint8Array(32).fill(0x5f) }],
  ];
  for (const [name, receiver] of cases) {
    await t.step(name, async () => {
      const { a, b } = await runTo2(receiver);
      await assert.rejects(receiverFinish(a.pake, b.message, RECEIVER_FP), code("PAKE_FAILED"));
      await assert.rejects(senderFinish(b.pake, notConfirmedMessage()), code("PAKE_FAILED"));
    });
  }
});

Deno.test("receiverFinish() rejects every changed byte of msg1 and msg2", async (t) => {
  const base = receiverStart(CODE, SERVER);
  await t.step("msg1: version, sid and Ya", async () => {
    for (const at of [0, 1, CODE_SID_BYTES, CODE_SID_BYTES + 1, base.message.length - 1]) {
      const a = receiverStart(CODE, SERVER);
      const tampered = flipped(a.message, at);
      // A version the sender does not know, or an invalid Ya, fails at the sender already.
      const b = await senderRespond(CODE, SERVER, tampered, OFFER).catch((err) => err);
      if (b instanceof Error) {
        assert.ok(isSfsError(b, "PAKE_FAILED"), `byte ${at}: ${b}`);
        continue;
      }
      await assert.rejects(
        receiverFinish(a.pake, b.message, RECEIVER_FP),
        code("PAKE_FAILED"),
        `byte ${at}`,
      );
    }
  });
  await t.step("msg2: version, Yb, tag, length and sealed offer", async () => {
    const { b } = await runTo2();
    for (const at of [0, 1, 32, 33, 96, 97, 98, 99, b.message.length - 1]) {
      const { a, b } = await runTo2();
      await assert.rejects(
        receiverFinish(a.pake, flipped(b.message, at), RECEIVER_FP),
        code("PAKE_FAILED"),
        `byte ${at}`,
      );
    }
  });
});

Deno.test("senderFinish() rejects every changed byte of msg3", async () => {
  const probe = await runTo2();
  const length = (await receiverFinish(probe.a.pake, probe.b.message, RECEIVER_FP)).message.length;
  for (const at of [0, 1, 2, 65, 66, 67, 68, length - 1]) {
    const { a, b } = await runTo2();
    const { message } = await receiverFinish(a.pake, b.message, RECEIVER_FP);
    await assert.rejects(senderFinish(b.pake, flipped(message, at)), code("PAKE_FAILED"), `${at}`);
  }
});

Deno.test("receiverFinish() fails on messages an index swapped between two runs", async () => {
  // The index answers receiver 1 with the sender's reply to receiver 2's msg1 (same code).
  const one = receiverStart(CODE, SERVER);
  const two = receiverStart(CODE, SERVER);
  const b = await senderRespond(CODE, SERVER, two.message, OFFER);
  await assert.rejects(receiverFinish(one.pake, b.message, RECEIVER_FP), code("PAKE_FAILED"));
  // And msg3 of another run does not confirm to this sender.
  const other = await runTo2();
  const msg3 = (await receiverFinish(other.a.pake, other.b.message, RECEIVER_FP)).message;
  await assert.rejects(senderFinish(b.pake, msg3), code("PAKE_FAILED"));
});

Deno.test("receiverFinish() refuses a ticket naming another key than the sealed one", async () => {
  const offer = { ...OFFER, fingerprint: new Uint8Array(32).fill(0xee) };
  const { a, b } = await runTo2({}, { offer });
  await assert.rejects(receiverFinish(a.pake, b.message, RECEIVER_FP), code("KEY_MISMATCH"));
});

Deno.test("senderRespond() and senderFinish() reject malformed payloads", async (t) => {
  const cases: [string, Uint8Array][] = [
    ["empty", new Uint8Array()],
    ["version 2", Uint8Array.of(2, ...new Uint8Array(48))],
    ["one byte short", new Uint8Array(48).fill(1)],
    ["one byte long", new Uint8Array(50).fill(1)],
    ["Ya is the identity", Uint8Array.of(1, ...new Uint8Array(48))],
    ["over 2048 bytes", new Uint8Array(2049).fill(1)],
  ];
  for (const [name, msg1] of cases) {
    await t.step(`msg1 ${name}`, async () => {
      await assert.rejects(senderRespond(CODE, SERVER, msg1, OFFER), code("PAKE_FAILED"));
    });
  }
  const { b } = await runTo2();
  for (
    const [name, msg3] of [["unknown status", Uint8Array.of(1, 2)], [
      "truncated",
      Uint8Array.of(1, 0, 1),
    ]] as const
  ) {
    await t.step(`msg3 ${name}`, async () => {
      await assert.rejects(senderFinish(b.pake, msg3), code("PAKE_FAILED"));
    });
  }
});

Deno.test("decodeOffer() round-trips and refuses a bad ticket or username", async (t) => {
  await t.step("with and without a username", () => {
    assert.deepEqual(decodeOffer(encodeOffer(OFFER)), OFFER);
    const bare = { fingerprint: OFFER.fingerprint, ticket: OFFER.ticket };
    assert.deepEqual(decodeOffer(encodeOffer(bare)), bare);
  });
  await t.step("a ticket that does not parse", () => {
    assert.throws(
      () => decodeOffer(encodeOffer({ ...OFFER, ticket: "sfs://x" })),
      code("BAD_TICKET"),
    );
  });
  await t.step("a username not in canonical form", () => {
    assert.throws(
      () => decodeOffer(encodeOffer({ ...OFFER, username: "Alice" })),
      code("BAD_MESSAGE"),
    );
  });
});

Deno.test("codeChannelId() binds the server key and the nameplate", () => {
  const one = toHex(codeChannelId(SERVER, 7));
  assert.notEqual(one, toHex(codeChannelId(SERVER, 8)));
  assert.notEqual(one, toHex(codeChannelId(new Uint8Array(32), 7)));
  // lv_cat: "sfs/v1/code" (11 bytes), the 32-byte key, then "7".
  assert.equal(
    one,
    "0b" + toHex(new TextEncoder().encode("sfs/v1/code")) + "20" + "5e".repeat(32) + "0137",
  );
});

Deno.test("senderFinish() zeroes the ISK, whether the receiver confirmed or not", async (t) => {
  const zero = "00".repeat(64);
  await t.step("confirmed", async () => {
    const { a, b } = await runTo2();
    const { message } = await receiverFinish(a.pake, b.message, RECEIVER_FP);
    await senderFinish(b.pake, message);
    assert.equal(toHex(b.pake.result.isk), zero);
  });
  await t.step("not confirmed", async () => {
    const { b } = await runTo2();
    await assert.rejects(senderFinish(b.pake, notConfirmedMessage()), code("PAKE_FAILED"));
    assert.equal(toHex(b.pake.result.isk), zero);
  });
});

Deno.test("receiverFinish() reports a malformed sealed offer as PAKE_FAILED", async () => {
  // Sealed under the right key, so only a sender that knew the code can send it (§14.3).
  const { a, b } = await runTo2({}, { offer: { ...OFFER, username: "Alice" } });
  await assert.rejects(receiverFinish(a.pake, b.message, RECEIVER_FP), code("PAKE_FAILED"));
});
