/**
 * The short-code exchange (docs/PROTOCOL.md §14.2–14.3): three opaque payloads the index server
 * forwards between a receiver (A, `sfs get CODE`, the CPace initiator) and a sender (B, `sfs send
 * --code`, the responder), carrying a CPace run (src/crypto/cpace.ts) keyed by the code, explicit
 * key confirmation, and two AEAD-sealed payloads: the sender's fingerprint, ticket and username;
 * the receiver's fingerprint. The payloads' byte layouts are in code_payloads.ts.
 *
 * Why B may send its sealed ticket before it has seen Ta: sealed_B is under a key derived from the
 * ISK, which only a party that used the right code holds. A receiver (or the index) that guessed
 * committed to one guess with its Ya and learns only whether that guess was right; every other
 * code stays untestable offline (the generator depends on the code). And the ticket alone fetches
 * nothing: B serves the share only to the fingerprint inside sealed_A, which B accepts only after
 * Ta verified.
 *
 * Every label binds a value to one use: CI binds the run to the index server's key and the
 * nameplate (a code read out at another index, or for another nameplate, gives an unrelated
 * generator), the ADs fix the roles (a message reflected to its author fails), and each direction
 * has its own HKDF key that seals exactly one record, so the all-zero nonce never repeats.
 *
 * Pure: no I/O. Vectors: testdata/vectors/code-*.txt.
 */
import { isSfsError, SfsError } from "../errors.ts";
import { type Bytes, constantTimeEqual, utf8 } from "../crypto/bytes.ts";
import {
  checkConfirmation,
  CPACE_ISK_BYTES,
  cpaceFinish,
  type CpaceResult,
  cpaceStart,
  type CpaceState,
  lvCat,
} from "../crypto/cpace.ts";
import { aesKey, hkdfEach } from "../crypto/kdf.ts";
import { LABEL } from "../crypto/labels.ts";
import { formatCode, type ShortCode } from "./code.ts";
import {
  CODE_SID_BYTES,
  decodeMsg1,
  decodeMsg2,
  decodeMsg3,
  decodeReceiver,
  encodeMsg1,
  encodeMsg2,
  encodeMsg3,
  encodeOffer,
  encodeReceiver,
  readOffer,
  type SenderOffer,
} from "./code_payloads.ts";
import type { Ticket } from "./ticket.ts";

export {
  CODE_SID_BYTES,
  decodeOffer,
  encodeOffer,
  notConfirmedMessage,
  type SenderOffer,
} from "./code_payloads.ts";

/** The labels of §14.2, from PROTOCOL §3.1's one table (crypto/labels.ts). */
export const CODE_LABEL = {
  /** First part of CI. */
  CHANNEL: LABEL.CODE_CHANNEL,
  /** ADa: the receiver's associated data. */
  AD_RECEIVER: LABEL.CODE_AD_RECEIVER,
  /** ADb: the sender's associated data. */
  AD_SENDER: LABEL.CODE_AD_SENDER,
  /** HKDF info of the key sealing sealed_A. */
  KEY_RECEIVER: LABEL.CODE_KEY_RECEIVER,
  /** HKDF info of the key sealing sealed_B. */
  KEY_SENDER: LABEL.CODE_KEY_SENDER,
} as const;

const AD_RECEIVER = utf8(CODE_LABEL.AD_RECEIVER);
const AD_SENDER = utf8(CODE_LABEL.AD_SENDER);
/** Each direction's key seals one record: sequence 0 of PROTOCOL §9.2. */
const ZERO_NONCE = new Uint8Array(12);

/** CI: `lv_cat("sfs/v1/code", server fingerprint, nameplate in decimal ASCII)`. */
export function codeChannelId(serverFingerprint: Uint8Array, nameplate: number): Bytes {
  return lvCat(utf8(CODE_LABEL.CHANNEL), serverFingerprint, utf8(String(nameplate)));
}

/** The receiver's half of a run, between msg1 and msg2. */
export interface ReceiverPake {
  readonly state: CpaceState;
  readonly sid: Bytes;
}

/** The sender's half of a run, between msg2 and msg3. */
export interface SenderPake {
  readonly result: CpaceResult;
  readonly sid: Bytes;
}

/** Options of the starting steps; tests inject randomness. */
export interface PakeOptions {
  /** Source of the sid's and the scalar's bytes. @default crypto.getRandomValues */
  random?: (length: number) => Uint8Array;
}

/** Step 1 (receiver): a fresh sid and Ya for `code` at this index; msg1 goes in CODE_CLAIM. */
export function receiverStart(
  code: ShortCode,
  serverFingerprint: Uint8Array,
  options: PakeOptions = {},
): { message: Bytes; pake: ReceiverPake } {
  const random = options.random ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)));
  const sid = Uint8Array.from(random(CODE_SID_BYTES));
  if (sid.length !== CODE_SID_BYTES) {
    throw new SfsError("INTERNAL", "Random source returned a short read");
  }
  const { message, state } = cpaceStart({
    ...cpaceInputs(code, serverFingerprint, sid),
    ad: AD_RECEIVER,
    role: "initiator",
    random,
  });
  return { message: encodeMsg1(sid, message), pake: { state, sid } };
}

/**
 * Step 2 (sender): answers msg1 with Yb, its confirmation tag and `offer` sealed under the
 * sender's key. Throws PAKE_FAILED when msg1 is malformed or its Ya is not a valid element.
 */
export async function senderRespond(
  code: ShortCode,
  serverFingerprint: Uint8Array,
  msg1: Uint8Array,
  offer: SenderOffer,
  options: PakeOptions = {},
): Promise<{ message: Bytes; pake: SenderPake }> {
  const { sid, ya } = failedAsPake(() => decodeMsg1(msg1));
  const { message: yb, state } = cpaceStart({
    ...cpaceInputs(code, serverFingerprint, sid),
    ad: AD_SENDER,
    role: "responder",
    random: options.random,
  });
  const result = failedAsPake(() => cpaceFinish(state, ya, AD_RECEIVER));
  const sealed = await seal(
    await directionKey(result.isk, sid, CODE_LABEL.KEY_SENDER),
    encodeOffer(offer),
  );
  return { message: encodeMsg2(yb, result.confirm.mine, sealed), pake: { result, sid } };
}

/**
 * Step 3 (receiver): checks the sender's tag, opens its offer and seals this receiver's
 * fingerprint into msg3. Throws PAKE_FAILED when the tag or the seal does not verify (wrong code,
 * or a message changed on the way): then send {@link notConfirmedMessage} so the sender burns
 * the code at once. Also PAKE_FAILED for a sealed offer that opens but is malformed, BAD_TICKET
 * for its ticket, KEY_MISMATCH when the ticket names another key than the sealed one.
 */
export async function receiverFinish(
  pake: ReceiverPake,
  msg2: Uint8Array,
  receiverFingerprint: Uint8Array,
): Promise<{ message: Bytes; offer: SenderOffer; ticket: Ticket }> {
  const { yb, tag, sealed } = failedAsPake(() => decodeMsg2(msg2));
  const result = failedAsPake(() => cpaceFinish(pake.state, yb, AD_SENDER));
  try {
    checkConfirmation(result, tag);
    const senderKey = await directionKey(result.isk, pake.sid, CODE_LABEL.KEY_SENDER);
    const plain = await open(senderKey, sealed);
    const { offer, ticket } = failedAsPake(() => readOffer(plain));
    if (!constantTimeEqual(ticket.fingerprint, offer.fingerprint)) {
      throw new SfsError(
        "KEY_MISMATCH",
        "The ticket from the code exchange names another sender key",
      );
    }
    const receiverKey = await directionKey(result.isk, pake.sid, CODE_LABEL.KEY_RECEIVER);
    const sealedA = await seal(receiverKey, encodeReceiver(receiverFingerprint));
    return { message: encodeMsg3(result.confirm.mine, sealedA), offer, ticket };
  } finally {
    result.isk.fill(0);
  }
}

/**
 * Step 4 (sender): checks the receiver's tag and opens its fingerprint, the one key this share
 * is then served to. Throws PAKE_FAILED for a receiver that could not confirm, a wrong tag, or a
 * seal that does not open.
 */
export async function senderFinish(pake: SenderPake, msg3: Uint8Array): Promise<Bytes> {
  try {
    const decoded = failedAsPake(() => decodeMsg3(msg3));
    if (decoded === undefined) {
      throw new SfsError("PAKE_FAILED", "The receiver could not confirm the code");
    }
    checkConfirmation(pake.result, decoded.tag);
    const receiverKey = await directionKey(pake.result.isk, pake.sid, CODE_LABEL.KEY_RECEIVER);
    const plain = await open(receiverKey, decoded.sealed);
    return failedAsPake(() => decodeReceiver(plain));
  } finally {
    // The exchange is over either way: no key of it is needed again.
    pake.result.isk.fill(0);
  }
}

/**
 * The two directions' keys: `HKDF-SHA256(ISK, salt = sid, info = label, 32)` (PROTOCOL §3's one
 * HKDF helper).
 */
export async function codeKeys(
  isk: Bytes,
  sid: Bytes,
): Promise<{ receiverKey: Bytes; senderKey: Bytes }> {
  const [receiverKey, senderKey] = await Promise.all(
    [CODE_LABEL.KEY_RECEIVER, CODE_LABEL.KEY_SENDER].map((label) => rawKey(isk, sid, label)),
  );
  return { receiverKey, senderKey };
}

/** One direction's raw key of {@link codeKeys}. */
async function rawKey(isk: Bytes, sid: Bytes, label: string): Promise<Bytes> {
  if (isk.length !== CPACE_ISK_BYTES) throw new SfsError("INTERNAL", "ISK has the wrong size");
  const [key] = await hkdfEach(isk, sid, [label]);
  return key;
}

/**
 * One direction's key, imported for AES-GCM; its raw bytes are zeroed at once (WebCrypto keeps
 * its own copy), so the only copies left are the ISK's, which each side zeroes when it is done.
 */
async function directionKey(isk: Bytes, sid: Bytes, label: string): Promise<CryptoKey> {
  const raw = await rawKey(isk, sid, label);
  try {
    return await aesKey(raw);
  } finally {
    raw.fill(0);
  }
}

function cpaceInputs(code: ShortCode, serverFingerprint: Uint8Array, sid: Bytes) {
  return {
    password: utf8(formatCode(code.nameplate, code.words)),
    channelId: codeChannelId(serverFingerprint, code.nameplate),
    sid,
  };
}

async function seal(key: CryptoKey, plaintext: Bytes): Promise<Bytes> {
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv: ZERO_NONCE }, key, plaintext);
  return new Uint8Array(sealed);
}

/** Opens a sealed payload; a payload that does not open is a failed exchange (PAKE_FAILED). */
async function open(key: CryptoKey, sealed: Bytes): Promise<Bytes> {
  try {
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: ZERO_NONCE }, key, sealed);
    return new Uint8Array(plain);
  } catch (err) {
    throw new SfsError("PAKE_FAILED", "A sealed code payload did not open", { cause: err });
  }
}

/** Runs `step`; a malformed message or a bad group element is a failed exchange. */
function failedAsPake<T>(step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (isSfsError(err, "BAD_MESSAGE") || isSfsError(err, "BAD_KEY")) {
      throw new SfsError("PAKE_FAILED", `The code exchange failed: ${err.message}`, { cause: err });
    }
    throw err;
  }
}
