/**
 * The index protocol's numbers (docs/PROTOCOL.md §12, §13): its message type numbers, and the
 * limits that the message decoders enforce. The limits are defined here, the lowest layer that
 * needs them; src/index/protocol/limits.ts re-exports them with the index's own limits, and
 * nothing above defines them again.
 */

/** Longest username on the wire, in UTF-8 bytes (valid names are shorter; see §12.3). */
export const MAX_USERNAME_BYTES = 64;
/** Longest password on the wire, in UTF-8 bytes (equals the password hasher's limit). */
export const MAX_PASSWORD_BYTES = 1024;
/** Largest signed announcement (§12.5); the largest valid one is under 3 KiB. */
export const MAX_ANNOUNCEMENT_BYTES = 4096;
/** Most usernames in one USER_KEYS request and its reply. */
export const MAX_USER_KEYS = 32;
/** Longest search text, in UTF-8 bytes. */
export const MAX_QUERY_BYTES = 512;
/**
 * Most listings in one LISTINGS reply, and the largest page a SEARCH or LIST may ask for: 100
 * listings of the largest size (≈ 6.7 KiB each) fit one 1 MiB sealed record.
 */
export const MAX_LISTINGS = 100;
/** Deepest offset a SEARCH or LIST page may start at. */
export const MAX_LIST_OFFSET = 10_000;
/** Bytes of a per-share relay token (§13.2) and of a pairing token (§13.3). */
export const RELAY_TOKEN_BYTES = 16;
/** Longest peer or relay address ("HOST:PORT") in UTF-8 bytes (§12.5, §13.7). */
export const MAX_ADDRESS_BYTES = 262;

/** Largest opaque payload of CODE_CLAIM and CODE_MAIL (§14.5); at least one byte. */
export const MAX_CODE_PAYLOAD_BYTES = 2048;
/** Largest nameplate of a short code (§14.1): at most six digits to read out. */
export const MAX_NAMEPLATE = 999_999;

/** Type numbers of the index protocol (§12): client requests and server replies. */
export const IndexMessageType = {
  REGISTER: 32,
  LOGIN: 33,
  AUTH: 34,
  OK: 35,
  USER_KEYS: 36,
  USER_KEYS_REPLY: 37,
  ANNOUNCE: 38,
  HEARTBEAT: 39,
  UNSHARE: 40,
  SEARCH: 41,
  LIST: 42,
  RESOLVE: 43,
  LISTINGS: 44,
  // The relay (§13).
  RELAY: 45,
  RELAY_TOKEN: 46,
  RELAY_DIAL: 47,
  RELAY_JOIN: 48,
  // Short codes (§14.5).
  CODE_OPEN: 49,
  CODE_OPENED: 50,
  CODE_CLAIM: 51,
  CODE_MAIL: 52,
  CODE_CLOSE: 53,
} as const;
/** One of the index protocol's type numbers. */
export type IndexMessageType = typeof IndexMessageType[keyof typeof IndexMessageType];
