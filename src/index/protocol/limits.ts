/**
 * The numbers of the index protocol (docs/PROTOCOL.md §12), in one place. A limit that a message
 * decoder enforces is defined in src/wire/index_numbers.ts or src/wire/message_fields.ts, the
 * lowest layer that needs it, and re-exported here; the others are the index's own. Both sides
 * import them from here: the client to refuse early what the server would refuse, the server and
 * its store to enforce them.
 *
 * Pure: constants only.
 */
export {
  MAX_ADDRESS_BYTES,
  MAX_ANNOUNCEMENT_BYTES,
  MAX_LIST_OFFSET,
  MAX_LISTINGS,
  MAX_PASSWORD_BYTES,
  MAX_QUERY_BYTES,
  MAX_USER_KEYS,
  MAX_USERNAME_BYTES,
} from "../../wire/index_numbers.ts";
export {
  MAX_IDENTITY_BYTES,
  MAX_SIGNATURE_SET_BYTES,
  MAX_WIRE_NAME_BYTES,
} from "../../wire/message_fields.ts";

/** Shortest username, in characters (§12.3). */
export const USERNAME_MIN = 3;
/** Longest username, in characters (§12.3); the wire allows up to MAX_USERNAME_BYTES. */
export const USERNAME_MAX = 32;
/** Shortest password a new account may have, in characters (§12.3). */
export const MIN_PASSWORD_CHARS = 8;

/**
 * Longest announced file name in UTF-8 bytes (§12.5), what most file systems allow in one name.
 * The announcement decoder enforces it; a manifest may carry up to MAX_WIRE_NAME_BYTES, and the
 * receiver shortens what it saves further (src/peer/names.ts).
 */
export const MAX_NAME_BYTES = 255;
/** Most keywords one announcement may carry (§12.5). */
export const MAX_KEYWORDS = 16;
/** Longest keyword in UTF-8 bytes (§12.5). */
export const MAX_KEYWORD_BYTES = 64;
/** Most recipients of one non-public announcement (§12.5). */
export const MAX_RECIPIENTS = 32;
/** Most peer addresses (direct candidates) in one announcement or ticket (§10, §12.5). */
export const MAX_ADDRESSES = 8;
/** How far in the future an announcement's creation time may lie (§12.5: clock skew). */
export const MAX_CLOCK_SKEW_MS = 24 * 60 * 60 * 1000;

/** Page size of SEARCH and LIST when the caller gives none, and most RESOLVE matches (§12.4). */
export const DEFAULT_PAGE_SIZE = 50;

/** How often a sharing client sends HEARTBEAT (§12.6). */
export const HEARTBEAT_INTERVAL_MS = 10_000;
/** Silence after which the server marks a sharing session offline (§12.6). */
export const PRESENCE_TIMEOUT_MS = 30_000;
