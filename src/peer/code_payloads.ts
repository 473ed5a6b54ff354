/**
 * The byte layouts of the short-code exchange's three payloads and of sealed_B's plaintext
 * (docs/PROTOCOL.md §14.3). Decoders check every length against its bound before reading and end
 * with `reader.end()` (no trailing bytes); they throw BAD_MESSAGE, which code_pake.ts turns into
 * PAKE_FAILED. Pure: no I/O, no crypto.
 *
 * ```
 * msg1  A → B  u8 1 ‖ [16] sid ‖ [32] Ya
 * msg2  B → A  u8 1 ‖ [32] Yb ‖ [64] Tb ‖ bytes16 sealed_B
 * msg3  A → B  u8 1 ‖ u8 0 ‖ [64] Ta ‖ bytes16 sealed_A      (A confirmed B)
 *              u8 1 ‖ u8 1                                  (A could not confirm B: burn)
 * ```
 */
import { SfsError } from "../errors.ts";
import type { Bytes } from "../crypto/bytes.ts";
import { CPACE_ISK_BYTES, CPACE_MESSAGE_BYTES } from "../crypto/cpace.ts";
import { ByteReader, ByteWriter } from "../crypto/encoding.ts";
import { isCanonicalUsername } from "../index/protocol/usernames.ts";
import { MAX_TICKET_LENGTH, parseTicket, type Ticket } from "./ticket.ts";
import { MAX_CODE_PAYLOAD_BYTES, MAX_USERNAME_BYTES } from "../wire/index_numbers.ts";

/** Version byte that starts each payload. */
export const CODE_PAKE_VERSION = 1;
/** Size of the receiver's session id (sid) in msg1. */
export const CODE_SID_BYTES = 16;
/** A fingerprint is a SHA-256 (§4.2). */
const FINGERPRINT_BYTES = 32;
const GCM_TAG_BYTES = 16;
/** sealed_A is one fingerprint sealed: exactly this long. */
const SEALED_A_BYTES = FINGERPRINT_BYTES + GCM_TAG_BYTES;
/** A sealed_B holds a fingerprint, a ticket and a username: bounded well below the payload. */
const MAX_SEALED_B_BYTES = 1600;
/** msg3's status byte. */
const CONFIRMED = 0;
const NOT_CONFIRMED = 1;

/** What the sender tells the receiver, sealed: who it is and where to fetch. */
export interface SenderOffer {
  /** The sender's identity fingerprint (§4.2): the key the transfer's handshake must present. */
  readonly fingerprint: Bytes;
  /** The share's ticket (§10): direct candidates and relay hint; its fingerprint is the one above. */
  readonly ticket: string;
  /** The sender's index username, when it has one; the receiver checks it with USER_KEYS. */
  readonly username?: string;
}

/** msg1: the receiver's sid and Ya. */
export function encodeMsg1(sid: Bytes, ya: Bytes): Bytes {
  return new ByteWriter().u8(CODE_PAKE_VERSION).raw(sid).raw(ya).finish();
}

/** Reads msg1; BAD_MESSAGE when malformed. */
export function decodeMsg1(msg: Uint8Array): { sid: Bytes; ya: Bytes } {
  const reader = versioned(msg, "code message 1");
  const sid = reader.raw(CODE_SID_BYTES);
  const ya = reader.raw(CPACE_MESSAGE_BYTES);
  reader.end();
  return { sid, ya };
}

/** msg2: the sender's Yb, its confirmation tag Tb and sealed_B. */
export function encodeMsg2(yb: Bytes, tag: Bytes, sealed: Bytes): Bytes {
  return new ByteWriter().u8(CODE_PAKE_VERSION).raw(yb).raw(tag).bytes16(sealed).finish();
}

/** Reads msg2; BAD_MESSAGE when malformed. */
export function decodeMsg2(msg: Uint8Array): { yb: Bytes; tag: Bytes; sealed: Bytes } {
  const reader = versioned(msg, "code message 2");
  const yb = reader.raw(CPACE_MESSAGE_BYTES);
  const tag = reader.raw(CPACE_ISK_BYTES);
  const sealed = reader.bytes16(MAX_SEALED_B_BYTES);
  reader.end();
  return { yb, tag, sealed };
}

/** msg3 of a receiver that confirmed the sender: its tag Ta and sealed_A. */
export function encodeMsg3(tag: Bytes, sealed: Bytes): Bytes {
  return new ByteWriter().u8(CODE_PAKE_VERSION).u8(CONFIRMED).raw(tag).bytes16(sealed).finish();
}

/** msg3 of a receiver that could not confirm the sender: the sender burns the code. */
export function notConfirmedMessage(): Bytes {
  return new ByteWriter().u8(CODE_PAKE_VERSION).u8(NOT_CONFIRMED).finish();
}

/** Reads msg3; undefined when the receiver could not confirm the sender. BAD_MESSAGE when malformed. */
export function decodeMsg3(msg: Uint8Array): { tag: Bytes; sealed: Bytes } | undefined {
  const reader = versioned(msg, "code message 3");
  const status = reader.u8();
  if (status === NOT_CONFIRMED) {
    reader.end();
    return undefined;
  }
  if (status !== CONFIRMED) reader.fail(`unknown status ${status}`);
  const tag = reader.raw(CPACE_ISK_BYTES);
  const sealed = reader.bytes16(SEALED_A_BYTES);
  if (sealed.length !== SEALED_A_BYTES) reader.fail(`sealed_A has ${sealed.length} bytes`);
  reader.end();
  return { tag, sealed };
}

/** The plaintext of sealed_B: `[32] fingerprint ‖ text ticket ‖ text username` (empty: none). */
export function encodeOffer(offer: SenderOffer): Bytes {
  return new ByteWriter()
    .raw(fingerprintField(offer.fingerprint))
    .text(offer.ticket)
    .text(offer.username ?? "")
    .finish();
}

/** Reads sealed_B's plaintext; BAD_MESSAGE when malformed, BAD_TICKET for a bad ticket. */
export function decodeOffer(plain: Uint8Array): SenderOffer {
  return readOffer(plain).offer;
}

/** {@link decodeOffer}, with the ticket it parsed on the way. */
export function readOffer(plain: Uint8Array): { offer: SenderOffer; ticket: Ticket } {
  const reader = new ByteReader(plain, "code offer");
  const fingerprint = reader.raw(FINGERPRINT_BYTES);
  const text = reader.text(MAX_TICKET_LENGTH);
  const username = reader.text(MAX_USERNAME_BYTES);
  reader.end();
  const ticket = parseTicket(text);
  if (username !== "" && !isCanonicalUsername(username)) {
    reader.fail("the username is not canonical");
  }
  const offer = { fingerprint, ticket: text, ...(username === "" ? {} : { username }) };
  return { offer, ticket };
}

/** sealed_A's plaintext: the receiver's fingerprint. */
export function encodeReceiver(fingerprint: Uint8Array): Bytes {
  return fingerprintField(fingerprint);
}

/** Reads sealed_A's plaintext; BAD_MESSAGE when malformed. */
export function decodeReceiver(plain: Uint8Array): Bytes {
  const reader = new ByteReader(plain, "code receiver");
  const fingerprint = reader.raw(FINGERPRINT_BYTES);
  reader.end();
  return fingerprint;
}

function versioned(msg: Uint8Array, what: string): ByteReader {
  if (msg.length > MAX_CODE_PAYLOAD_BYTES) {
    throw new SfsError(
      "BAD_MESSAGE",
      `The ${what} has ${msg.length} bytes, more than ${MAX_CODE_PAYLOAD_BYTES}`,
    );
  }
  const reader = new ByteReader(msg, what);
  const version = reader.u8();
  if (version !== CODE_PAKE_VERSION) reader.fail(`unknown version ${version}`);
  return reader;
}

function fingerprintField(fingerprint: Uint8Array): Bytes {
  if (fingerprint.length !== FINGERPRINT_BYTES) {
    throw new SfsError("INTERNAL", `A fingerprint has ${FINGERPRINT_BYTES} bytes`);
  }
  return Uint8Array.from(fingerprint);
}
