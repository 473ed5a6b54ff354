/**
 * Handshake records (docs/PROTOCOL.md §6.3): every handshake message sent under a handshake key
 * is padded to one fixed size, so an observer cannot tell a 3072-bit from a 4096-bit identity, or
 * one signature from two, and sealed with AES-256-GCM under that key and a per-key sequence.
 */
import { SfsError } from "../errors.ts";
import type { Bytes } from "../crypto/bytes.ts";
import { TAG_BYTES } from "../crypto/stream.ts";
import { FrameKind, type FrameReader, type FrameWriter } from "./frame.ts";
import { decodeMessage, type Message, MessageType } from "./messages.ts";
import { openRecord, remoteError, sealRecord } from "./channel.ts";

/** Plaintext of every handshake record: `u16 n ‖ content[n] ‖ zeros`. */
export const HANDSHAKE_RECORD_PLAINTEXT = 3072;
/** Body of every handshake record's SEALED frame: the plaintext and its tag. */
export const HANDSHAKE_RECORD_BYTES = HANDSHAKE_RECORD_PLAINTEXT + TAG_BYTES;
/**
 * Largest frame body read during the handshake: plain messages are far smaller, and a record of
 * another length is read whole and refused as BAD_MESSAGE rather than as an oversized frame.
 */
export const MAX_HANDSHAKE_FRAME = 8 * 1024;
/** Largest content (type byte and message body) a handshake record can carry. */
export const MAX_HANDSHAKE_CONTENT = HANDSHAKE_RECORD_PLAINTEXT - 2;

/** A handshake message as read: the decoded value and the content its transcript entry hashes. */
export interface ReadRecord<M extends Message = Message> {
  readonly message: M;
  readonly content: Bytes;
}

/** Pads and seals `content` (type byte ‖ body) as handshake record `sequence` under `key`. */
export async function sealHandshakeRecord(
  key: CryptoKey,
  sequence: number,
  content: Uint8Array,
): Promise<Bytes> {
  if (content.length < 1 || content.length > MAX_HANDSHAKE_CONTENT) {
    throw new SfsError("INTERNAL", `Handshake content of ${content.length} bytes does not fit`);
  }
  const plaintext = new Uint8Array(HANDSHAKE_RECORD_PLAINTEXT);
  new DataView(plaintext.buffer).setUint16(0, content.length);
  plaintext.set(content, 2);
  return await sealRecord(key, sequence, plaintext);
}

/**
 * Opens handshake record `sequence` and returns its content, checking in the order of §6.3: the
 * exact length (BAD_MESSAGE), the tag (DECRYPT_FAILED), then the length field and that every
 * padding byte is zero (BAD_MESSAGE).
 */
export async function openHandshakeRecord(
  key: CryptoKey,
  sequence: number,
  body: Bytes,
): Promise<Bytes> {
  if (body.length !== HANDSHAKE_RECORD_BYTES) {
    throw new SfsError("BAD_MESSAGE", `Handshake record of ${body.length} bytes`);
  }
  const plaintext = await openRecord(key, sequence, body);
  const length = new DataView(plaintext.buffer).getUint16(0);
  if (length < 1 || length > MAX_HANDSHAKE_CONTENT) {
    throw new SfsError("BAD_MESSAGE", `Handshake record content length ${length}`);
  }
  if (!plaintext.subarray(2 + length).every((byte) => byte === 0)) {
    throw new SfsError("BAD_MESSAGE", "Non-zero handshake record padding");
  }
  return plaintext.subarray(2, 2 + length);
}

/**
 * Reads handshake record `sequence` and decodes it as one of `expected`; another type is
 * UNEXPECTED_MESSAGE. An ERROR, when expected, is thrown with the peer's code and our own text,
 * naming the peer as `peerName`.
 */
export async function readHandshakeRecord(
  reader: FrameReader,
  key: CryptoKey,
  sequence: number,
  expect: { types: ReadonlySet<number>; peerName: string },
): Promise<ReadRecord> {
  const frame = await reader.read(MAX_HANDSHAKE_FRAME);
  if (frame === null) {
    throw new SfsError("CONNECTION_CLOSED", "Connection closed during the handshake");
  }
  if (frame.kind !== FrameKind.SEALED) {
    throw new SfsError("BAD_MESSAGE", "Expected a sealed handshake record");
  }
  const content = await openHandshakeRecord(key, sequence, frame.body);
  if (!expect.types.has(content[0])) {
    throw new SfsError("UNEXPECTED_MESSAGE", `Message ${content[0]} out of place in the handshake`);
  }
  const message = decodeMessage(content[0], content.subarray(1));
  if (message.type === MessageType.ERROR) {
    // As on the channel: the peer's code, our text (a hostile peer's words are not shown).
    throw remoteError(message.code, expect.peerName);
  }
  return { message, content };
}

/** Seals `content` as handshake record `sequence` and writes it as one SEALED frame. */
export async function writeHandshakeRecord(
  writer: FrameWriter,
  key: CryptoKey,
  sequence: number,
  content: Uint8Array,
): Promise<void> {
  await writer.write(FrameKind.SEALED, await sealHandshakeRecord(key, sequence, content));
}
