/**
 * The one table of message type numbers (docs/PROTOCOL.md §9): the peer messages' own numbers,
 * the tree messages' (tree_messages.ts) and the index messages' (index_numbers.ts) merged in, and
 * which types may travel in plaintext or only as handshake records. messages.ts pairs each number
 * with its codec; the codec modules name their types from here.
 */
import { IndexMessageType } from "./index_numbers.ts";
import { TreeMessageType } from "./tree_messages.ts";

/** Message type numbers. Plain types travel before keys exist; the rest only sealed. */
export const MessageType = {
  HELLO: 1,
  HELLO_REPLY: 2,
  ABORT: 3,
  // Handshake records only (§6.3), never sealed as application records.
  RESPONDER_AUTH: 4,
  INITIATOR_AUTH: 5,
  KEY_TRANSPORT: 6,
  GET: 16,
  MANIFEST: 17,
  FINAL: 18,
  RECEIPT: 19,
  ERROR: 20,
  // Trees (§7.7): TREE_GET, TREE_MANIFEST, MANIFEST_PAGE, WANT.
  ...TreeMessageType,
  // Index protocol (§12): client requests and server replies.
  ...IndexMessageType,
} as const;
/** One of the message type numbers. */
export type MessageType = typeof MessageType[keyof typeof MessageType];

/** Types allowed in plaintext frames; every other type must arrive sealed. */
export const PLAIN_TYPES: ReadonlySet<number> = new Set([
  MessageType.HELLO,
  MessageType.HELLO_REPLY,
  MessageType.ABORT,
  // Only as the first frame of a relay leg (§13.5), never in a handshake or a channel.
  MessageType.RELAY_JOIN,
]);

/** Types that only ever travel as handshake records (§6.3). */
export const HANDSHAKE_TYPES: ReadonlySet<number> = new Set([
  MessageType.RESPONDER_AUTH,
  MessageType.INITIATOR_AUTH,
  MessageType.KEY_TRANSPORT,
]);
