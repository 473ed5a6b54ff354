/**
 * Short-code scenarios (docs/PROTOCOL.md §14.2–14.3): one exchange from fixed scalars and sid,
 * with the payloads, CI, ISK and both keys, and the failures each side must detect. The CPace
 * steps come from src/crypto/cpace.ts (checked byte for byte against the draft's own vectors in
 * testdata/cpace/); CI, the payload layouts, HKDF and the seals are written out here from the
 * spec with WebCrypto, not taken from src/peer/code_pake.ts, the code under test.
 */
import { type Bytes, concat, utf8 } from "../../src/crypto/bytes.ts";
import { cpaceFinish, cpaceStart } from "../../src/crypto/cpace.ts";
import { draw, formatFingerprint, type Scenario, seal, w } from "./common.ts";

const CODE = "7-crimson-tiger-lamp";
const OTHER_CODE = "7-crimson-tiger-lava";
const AD_RECEIVER = utf8("sfs/v1/code/receiver");
const AD_SENDER = utf8("sfs/v1/code/sender");
const ZERO_NONCE = new Uint8Array(12);

/** lv_cat of the draft, for lengths below 128 (one LEB128 byte). */
function lvCat(...parts: Uint8Array[]): Bytes {
  return concat(...parts.flatMap((p) => [Uint8Array.of(p.length), p]));
}

function channelId(server: Uint8Array, nameplate: number): Bytes {
  return lvCat(utf8("sfs/v1/code"), server, utf8(String(nameplate)));
}

async function hkdf(isk: Uint8Array, sid: Uint8Array, info: string): Promise<Bytes> {
  const key = await crypto.subtle.importKey("raw", new Uint8Array(isk), "HKDF", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(sid), info: utf8(info) },
    key,
    256,
  );
  return new Uint8Array(bits);
}

function once(bytes: Uint8Array): (length: number) => Uint8Array {
  return (length) => {
    if (length !== bytes.length) throw new Error(`Asked ${length} random bytes`);
    return bytes;
  };
}

interface Inputs {
  receiverCode: string;
  senderCode: string;
  receiverServer: Bytes;
  senderServer: Bytes;
  ticketFingerprint?: Bytes;
  username: string;
}

/** One exchange computed from the spec; `inputs` lets the two sides disagree. */
async function exchange(inputs: Inputs) {
  const sid = await draw("code sid", 16);
  const receiverScalar = await draw("code receiver scalar", 32);
  const senderScalar = await draw("code sender scalar", 32);
  const senderFingerprint = await draw("code sender fingerprint", 32);
  const receiverFingerprint = await draw("code receiver fingerprint", 32);
  const fileId = await draw("code file id", 16);
  const token = await draw("code relay token", 16);
  const ticketKey = inputs.ticketFingerprint ?? senderFingerprint;
  const ticket = `sfs://192.0.2.7:4500/${hex(fileId)}/relay/${hex(token)}@198.51.100.1:9999/` +
    `${formatFingerprint(inputs.senderServer)}#${formatFingerprint(ticketKey)}`;
  const a = cpaceStart({
    password: utf8(inputs.receiverCode),
    channelId: channelId(inputs.receiverServer, 7),
    sid,
    ad: AD_RECEIVER,
    role: "initiator",
    random: once(receiverScalar),
  });
  const b = cpaceStart({
    password: utf8(inputs.senderCode),
    channelId: channelId(inputs.senderServer, 7),
    sid,
    ad: AD_SENDER,
    role: "responder",
    random: once(senderScalar),
  });
  const senderResult = cpaceFinish(b.state, a.message, AD_RECEIVER);
  const receiverResult = cpaceFinish(a.state, b.message, AD_SENDER);
  const senderKey = await hkdf(senderResult.isk, sid, "sfs/v1/code/key/sender");
  const receiverKey = await hkdf(receiverResult.isk, sid, "sfs/v1/code/key/receiver");
  const offer = w().raw(senderFingerprint).text(ticket).text(inputs.username).finish();
  const sealedB = await seal(senderKey, ZERO_NONCE, offer);
  const sealedA = await seal(receiverKey, ZERO_NONCE, receiverFingerprint);
  return {
    sid,
    receiverScalar,
    senderScalar,
    senderFingerprint,
    receiverFingerprint,
    ticket,
    isk: senderResult.isk,
    senderKey,
    receiverKey,
    msg1: w().u8(1).raw(sid).raw(a.message).finish(),
    msg2: w().u8(1).raw(b.message).raw(senderResult.confirm.mine).bytes16(sealedB).finish(),
    msg3: w().u8(1).u8(0).raw(receiverResult.confirm.mine).bytes16(sealedA).finish(),
  };
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The `code-*` scenarios. */
export async function codeScenarios(): Promise<Scenario[]> {
  const server = await draw("code server fingerprint", 32);
  const otherServer = await draw("code other server fingerprint", 32);
  const same = {
    receiverCode: CODE,
    senderCode: CODE,
    receiverServer: server,
    senderServer: server,
  };
  const run = await exchange({ ...same, username: "alice" });
  const bare = await exchange({ ...same, username: "" });
  const full = (r: typeof run, username: string): Scenario["fields"] => [
    ["code", CODE],
    ["server_fingerprint", server],
    ["channel_id", channelId(server, 7)],
    ["sid", r.sid],
    ["receiver_scalar", r.receiverScalar],
    ["sender_scalar", r.senderScalar],
    ["sender_fingerprint", r.senderFingerprint],
    ["receiver_fingerprint", r.receiverFingerprint],
    ["ticket", r.ticket],
    ["username", username],
    ["isk", r.isk],
    ["receiver_key", r.receiverKey],
    ["sender_key", r.senderKey],
    ["msg1", r.msg1],
    ["msg2", r.msg2],
    ["msg3", r.msg3],
  ];
  /** What the receiver holds when payload 2 arrives. */
  const receiving = (r: typeof run, code: string, at: Bytes): Scenario["fields"] => [
    ["code", code],
    ["server_fingerprint", at],
    ["sid", r.sid],
    ["receiver_scalar", r.receiverScalar],
    ["receiver_fingerprint", r.receiverFingerprint],
    ["msg2", r.msg2],
  ];
  /** What the sender holds when payload 3 arrives. */
  const confirming = (r: typeof run, msg3: Uint8Array): Scenario["fields"] => [
    ["code", CODE],
    ["server_fingerprint", server],
    ["sender_scalar", r.senderScalar],
    ["sender_fingerprint", r.senderFingerprint],
    ["ticket", r.ticket],
    ["username", "alice"],
    ["msg1", r.msg1],
    ["msg3", msg3],
  ];
  const flipped = (bytes: Uint8Array, at: number) => {
    const copy = Uint8Array.from(bytes);
    copy[at] ^= 0x01;
    return copy;
  };
  const wrongCode = await exchange({ ...same, senderCode: OTHER_CODE, username: "alice" });
  const otherIndex = await exchange({ ...same, senderServer: otherServer, username: "alice" });
  const otherKey = await exchange({
    ...same,
    ticketFingerprint: await draw("code other sender", 32),
    username: "alice",
  });
  return [
    {
      name: "code-exchange",
      expect: "ok",
      kind: "code-exchange",
      note: "a whole exchange, sender username alice (§14.2–14.3)",
      fields: full(run, "alice"),
    },
    {
      name: "code-exchange-no-username",
      expect: "ok",
      kind: "code-exchange",
      note: "a sender without an index username: empty text in sealed_B",
      fields: full(bare, ""),
    },
    {
      name: "code-receive-error-wrong-code",
      expect: "error PAKE_FAILED",
      kind: "code-receive",
      note: "the sender used another last word: Tb does not verify",
      fields: receiving(wrongCode, CODE, server),
    },
    {
      name: "code-receive-error-other-index-key",
      expect: "error PAKE_FAILED",
      kind: "code-receive",
      note: "the index showed the sender another key: CI differs",
      fields: receiving(otherIndex, CODE, server),
    },
    {
      name: "code-receive-error-flipped-tag",
      expect: "error PAKE_FAILED",
      kind: "code-receive",
      note: "one bit of Tb changed on the way",
      fields: receiving({ ...run, msg2: flipped(run.msg2, 40) }, CODE, server),
    },
    {
      name: "code-receive-error-flipped-seal",
      expect: "error PAKE_FAILED",
      kind: "code-receive",
      note: "one bit of sealed_B changed on the way",
      fields: receiving({ ...run, msg2: flipped(run.msg2, 120) }, CODE, server),
    },
    {
      name: "code-receive-error-ticket-other-key",
      expect: "error KEY_MISMATCH",
      kind: "code-receive",
      note: "sealed_B's ticket names another key than its fingerprint field",
      fields: receiving(otherKey, CODE, server),
    },
    {
      name: "code-confirm-error-not-confirmed",
      expect: "error PAKE_FAILED",
      kind: "code-confirm",
      note: "payload 3 with status 1: the receiver could not confirm the sender",
      fields: confirming(run, Uint8Array.of(1, 1)),
    },
    {
      name: "code-confirm-error-flipped-tag",
      expect: "error PAKE_FAILED",
      kind: "code-confirm",
      note: "one bit of Ta changed on the way",
      fields: confirming(run, flipped(run.msg3, 10)),
    },
    {
      name: "code-confirm-error-flipped-seal",
      expect: "error PAKE_FAILED",
      kind: "code-confirm",
      note: "one bit of sealed_A changed on the way",
      fields: confirming(run, flipped(run.msg3, run.msg3.length - 1)),
    },
  ];
}
