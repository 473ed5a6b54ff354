/**
 * The short-code messages (docs/PROTOCOL.md §14.5): a sender opens a nameplate on its sharing
 * connection, a receiver claims it, and the index forwards the PAKE payloads between them without
 * reading them. Their type numbers sit in the one table of index message types (index_numbers.ts);
 * index_messages.ts merges these codecs into INDEX_CODECS.
 */
import type { Bytes } from "../crypto/bytes.ts";
import type { ByteReader, ByteWriter } from "../crypto/encoding.ts";
import { IndexMessageType, MAX_CODE_PAYLOAD_BYTES, MAX_NAMEPLATE } from "./index_numbers.ts";
import type { Codec } from "./message_fields.ts";

/** Asks for a nameplate (sender → server); `ttlSeconds` 0 takes the server's default. */
export interface CodeOpen {
  type: typeof IndexMessageType.CODE_OPEN;
  ttlSeconds: number;
}

/**
 * The nameplate allocated for a CODE_OPEN and how long it stays valid, in whole seconds from this
 * reply: a duration, not a time of day, so a sender whose clock differs from the server's still
 * waits the right time.
 */
export interface CodeOpened {
  type: typeof IndexMessageType.CODE_OPENED;
  nameplate: number;
  ttlSeconds: number;
}

/** The receiver's claim of a nameplate with the first PAKE payload (receiver → server). */
export interface CodeClaim {
  type: typeof IndexMessageType.CODE_CLAIM;
  nameplate: number;
  payload: Bytes;
}

/** One PAKE payload for the other side of a nameplate: a request, a push or a reply. */
export interface CodeMail {
  type: typeof IndexMessageType.CODE_MAIL;
  nameplate: number;
  payload: Bytes;
}

/** How a sender ends a nameplate: `failed` says the exchange failed (the code is burned). */
export type CodeOutcome = "done" | "failed";

/** Ends a nameplate (sender → server). */
export interface CodeClose {
  type: typeof IndexMessageType.CODE_CLOSE;
  nameplate: number;
  outcome: CodeOutcome;
}

/** Any short-code message. */
export type CodeMessage = CodeOpen | CodeOpened | CodeClaim | CodeMail | CodeClose;

/** The outcome byte of CODE_CLOSE, by outcome. */
const OUTCOME_BYTES: { readonly [O in CodeOutcome]: number } = { done: 0, failed: 1 };

/** The codec of every short-code message; a missing one is a compile error in INDEX_CODECS. */
export const CODE_CODECS: { [M in CodeMessage as M["type"]]: Codec<M> } = {
  [IndexMessageType.CODE_OPEN]: {
    encode: (w, m) => w.u32(m.ttlSeconds),
    decode: (r) => ({ ttlSeconds: r.u32() }),
  },
  [IndexMessageType.CODE_OPENED]: {
    encode: (w, m) => w.u32(m.nameplate).u32(m.ttlSeconds),
    decode: (r) => ({ nameplate: decodeNameplate(r), ttlSeconds: r.u32() }),
  },
  [IndexMessageType.CODE_CLAIM]: {
    encode: (w, m) => encodeMail(w, m),
    decode: (r) => decodeMail(r),
  },
  [IndexMessageType.CODE_MAIL]: {
    encode: (w, m) => encodeMail(w, m),
    decode: (r) => decodeMail(r),
  },
  [IndexMessageType.CODE_CLOSE]: {
    encode: (w, m) => w.u32(m.nameplate).u8(OUTCOME_BYTES[m.outcome]),
    decode: (r) => {
      const nameplate = decodeNameplate(r);
      const byte = r.u8();
      if (byte > 1) r.fail(`outcome byte ${byte} is not 0 or 1`);
      return { nameplate, outcome: byte === 0 ? "done" : "failed" };
    },
  },
};

/** `u32 nameplate ‖ bytes16 payload`, the body of CODE_CLAIM and CODE_MAIL. */
function encodeMail(writer: ByteWriter, m: { nameplate: number; payload: Bytes }): void {
  writer.u32(m.nameplate).bytes16(m.payload);
}

/** Reads a body written by {@link encodeMail}: a nameplate and 1 to 2048 payload bytes. */
function decodeMail(reader: ByteReader): { nameplate: number; payload: Bytes } {
  const nameplate = decodeNameplate(reader);
  const payload = reader.bytes16(MAX_CODE_PAYLOAD_BYTES);
  if (payload.length === 0) reader.fail("empty code payload");
  return { nameplate, payload };
}

/** A nameplate: 1 to {@link MAX_NAMEPLATE} (0 names none; more has no code to be read out). */
function decodeNameplate(reader: ByteReader): number {
  const nameplate = reader.u32();
  if (nameplate === 0) reader.fail("nameplate 0");
  if (nameplate > MAX_NAMEPLATE) reader.fail(`nameplate ${nameplate} is over ${MAX_NAMEPLATE}`);
  return nameplate;
}
