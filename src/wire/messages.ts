/**
 * The one table of messages (docs/PROTOCOL.md §9): a type number (message_types.ts), a typed
 * value and a codec for each. Decoders validate every field and reject trailing bytes, so code
 * past `decodeMessage` only ever sees well-formed values. The codecs sit by group: the handshake's
 * (§6) in handshake_messages.ts, ABORT and ERROR in failure_messages.ts, the file transfer's (§7)
 * in transfer_messages.ts, the tree's (§7.7) in tree_messages.ts and the index's (§12) in
 * index_messages.ts; this table takes them all in, typed so that a missing one is a compile error.
 */
import { SfsError } from "../errors.ts";
import type { Bytes } from "../crypto/bytes.ts";
import { ByteReader, ByteWriter } from "../crypto/encoding.ts";
import { FAILURE_CODECS, type FailureMessage } from "./failure_messages.ts";
import { HANDSHAKE_CODECS, type HandshakeMessage } from "./handshake_messages.ts";
import { INDEX_CODECS, type IndexMessage } from "./index_messages.ts";
import type { Codec } from "./message_fields.ts";
import type { MessageType } from "./message_types.ts";
import { TRANSFER_CODECS, type TransferMessage } from "./transfer_messages.ts";
import { TREE_CODECS, type TreeMessage } from "./tree_messages.ts";

// Re-exported so that the modules using messages import them from one place; each is defined
// once, in the module named.
/** Bytes of a file id (defined with the file id, §7.1). */
export { FILE_ID_BYTES } from "../crypto/file_id.ts";
export { HANDSHAKE_TYPES, MessageType, PLAIN_TYPES } from "./message_types.ts";
export {
  type Hello,
  type HelloReply,
  type InitiatorAuth,
  type KeyTransport,
  MAX_WRAPPED_BYTES,
  PROTOCOL_VERSION,
  type ResponderAuth,
} from "./handshake_messages.ts";
export { type Abort, type ErrorMessage, MAX_ERROR_TEXT_BYTES } from "./failure_messages.ts";
export {
  type Final,
  type Get,
  type Manifest,
  type Receipt,
  RECEIPT_VERSION,
  type ReceiptFields,
  receiptSignedData,
} from "./transfer_messages.ts";
export {
  MANIFEST_HASH_BYTES,
  MAX_MANIFEST_HEADER_BYTES,
  MAX_MANIFEST_PAGE_BYTES,
  TreeMessageType,
} from "./tree_messages.ts";
export type { EntryRange, ManifestPage, TreeGet, TreeManifest, Want } from "./tree_messages.ts";

/** Any message. */
export type Message =
  | HandshakeMessage
  | FailureMessage
  | TransferMessage
  | TreeMessage
  | IndexMessage;

const CODECS: { [T in MessageType]: Codec<Extract<Message, { type: T }>> } = {
  ...HANDSHAKE_CODECS,
  ...FAILURE_CODECS,
  ...TRANSFER_CODECS,
  ...TREE_CODECS,
  ...INDEX_CODECS,
};

/** Encodes a message body (without its type byte). */
export function encodeMessage(message: Message): Bytes {
  const writer = new ByteWriter();
  (CODECS[message.type] as Codec<Message>).encode(writer, message);
  return writer.finish();
}

/** Decodes and validates a message body of type `type`; unknown types are BAD_MESSAGE. */
export function decodeMessage(type: number, body: Uint8Array): Message {
  const codec = (CODECS as Record<number, Codec<Message> | undefined>)[type];
  if (!codec) throw new SfsError("BAD_MESSAGE", `Unknown message type ${type}`);
  const reader = new ByteReader(body, `message ${type}`);
  const fields = codec.decode(reader);
  reader.end();
  return { type, ...fields } as Message;
}
