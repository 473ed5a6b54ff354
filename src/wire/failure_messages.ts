/**
 * The two failure reports (docs/PROTOCOL.md §9): ABORT, a refusal in plaintext before keys exist
 * (§6), and ERROR, a failure on an established channel. Both carry an error code and display-safe
 * text; messages.ts merges their codecs into the one table of messages.
 */
import { type ErrorCode, ErrorCode as ErrorCodes } from "../errors.ts";
import type { ByteReader, ByteWriter } from "../crypto/encoding.ts";
import { isDisplaySafe } from "../text.ts";
import type { Codec } from "./message_fields.ts";
import { MessageType } from "./message_types.ts";

/** Longest error message accepted from a peer. */
export const MAX_ERROR_TEXT_BYTES = 512;

/** A refusal before keys exist (bad version, busy, refused key). */
export interface Abort {
  type: typeof MessageType.ABORT;
  code: ErrorCode;
  message: string;
}

/** A failure report on an established channel. */
export interface ErrorMessage {
  type: typeof MessageType.ERROR;
  code: ErrorCode;
  message: string;
}

/** Any failure report. */
export type FailureMessage = Abort | ErrorMessage;

/** The codec of both failure reports; a missing one is a compile error in messages.ts. */
export const FAILURE_CODECS: { [M in FailureMessage as M["type"]]: Codec<M> } = {
  [MessageType.ABORT]: { encode: encodeFailure, decode: decodeFailure },
  [MessageType.ERROR]: { encode: encodeFailure, decode: decodeFailure },
};

function encodeFailure(writer: ByteWriter, m: { code: ErrorCode; message: string }): void {
  writer.text(m.code).text(m.message);
}

function decodeFailure(reader: ByteReader): { code: ErrorCode; message: string } {
  const code = reader.text(64);
  const message = reader.text(MAX_ERROR_TEXT_BYTES);
  // Peer text reaches a terminal: control characters could rewrite what the user sees.
  if (!isDisplaySafe(message)) reader.fail("control characters in error text");
  const known = (Object.values(ErrorCodes) as string[]).includes(code);
  return { code: known ? code as ErrorCode : "REMOTE_ERROR", message };
}
