/**
 * The index protocol's messages (docs/PROTOCOL.md §12): type numbers 32 to 53 (45 to 48 are the
 * relay's, whose values and codecs sit in relay_messages.ts; 49 to 53 the short codes', in
 * code_messages.ts), their values and codecs.
 * messages.ts merges them into the one table of messages, so `encodeMessage` and
 * `decodeMessage` handle them like any other.
 */
import type { Bytes } from "../crypto/bytes.ts";
import type { ByteReader } from "../crypto/encoding.ts";
import { FILE_ID_BYTES } from "../crypto/file_id.ts";
import type { Signatures } from "../crypto/sign.ts";
import {
  IndexMessageType,
  MAX_ANNOUNCEMENT_BYTES,
  MAX_LIST_OFFSET,
  MAX_LISTINGS,
  MAX_PASSWORD_BYTES,
  MAX_QUERY_BYTES,
  MAX_USER_KEYS,
  MAX_USERNAME_BYTES,
} from "./index_numbers.ts";
import { encodeListings, type WireListing } from "./listing_codec.ts";
import {
  type Relay,
  RELAY_CODECS,
  type RelayDial,
  type RelayJoin,
  type RelayToken,
} from "./relay_messages.ts";
import {
  CODE_CODECS,
  type CodeClaim,
  type CodeClose,
  type CodeMail,
  type CodeOpen,
  type CodeOpened,
} from "./code_messages.ts";
import {
  type Codec,
  decodeFlag,
  decodeSignatures,
  encodeSignatures,
  MAX_IDENTITY_BYTES,
  MAX_WIRE_NAME_BYTES,
} from "./message_fields.ts";

// Re-exported for the modules that import them with the messages; the numbers live in
// index_numbers.ts.
export {
  IndexMessageType,
  MAX_ANNOUNCEMENT_BYTES,
  MAX_CODE_PAYLOAD_BYTES,
  MAX_LISTINGS,
  RELAY_TOKEN_BYTES,
} from "./index_numbers.ts";
export type { WireListing } from "./listing_codec.ts";
export type { Relay, RelayDial, RelayJoin, RelayToken } from "./relay_messages.ts";
export type {
  CodeClaim,
  CodeClose,
  CodeMail,
  CodeOpen,
  CodeOpened,
  CodeOutcome,
} from "./code_messages.ts";

/** Creates an account for the channel's identity; the proof is over §12.2's auth data. */
export interface Register {
  type: typeof IndexMessageType.REGISTER;
  username: string;
  password: string;
  proof: Signatures;
}

/** Checks a password; with `rotateKeys`, registers the channel's identity as the user's keys. */
export interface Login {
  type: typeof IndexMessageType.LOGIN;
  username: string;
  password: string;
  rotateKeys: boolean;
  proof: Signatures;
}

/** Authenticates the connection as a registered user, without a password. */
export interface Auth {
  type: typeof IndexMessageType.AUTH;
  username: string;
  proof: Signatures;
}

/** A request succeeded and has nothing else to say. */
export interface Ok {
  type: typeof IndexMessageType.OK;
}

/** Asks for the registered public identities of some users. */
export interface UserKeys {
  type: typeof IndexMessageType.USER_KEYS;
  usernames: string[];
}

/** One registered user's public identity (§4.1 encoding). */
export interface UserKeyEntry {
  username: string;
  identity: Bytes;
}

/** The identities of the requested users that exist; unknown users are left out. */
export interface UserKeysReply {
  type: typeof IndexMessageType.USER_KEYS_REPLY;
  users: UserKeyEntry[];
}

/** Publishes one signed announcement (§12.5). */
export interface Announce {
  type: typeof IndexMessageType.ANNOUNCE;
  announcement: Bytes;
  signatures: Signatures;
}

/** Keeps a sharing session online. */
export interface Heartbeat {
  type: typeof IndexMessageType.HEARTBEAT;
}

/** Withdraws one of the user's announcements. */
export interface Unshare {
  type: typeof IndexMessageType.UNSHARE;
  fileId: Bytes;
}

/** Full-text search over names and keywords. */
export interface Search {
  type: typeof IndexMessageType.SEARCH;
  query: string;
  limit: number;
  offset: number;
}

/** Lists visible announcements, or only the user's own. */
export interface List {
  type: typeof IndexMessageType.LIST;
  mine: boolean;
  limit: number;
  offset: number;
}

/** Finds announcements by file id (32 hex digits) or exact name. */
export interface Resolve {
  type: typeof IndexMessageType.RESOLVE;
  query: string;
}

const FILE_ID_QUERY_RE = /^[0-9a-f]{32}$/i;

/**
 * True when a RESOLVE query (trimmed) is a file id, which is then looked up by id alone: never
 * by name, or a file named like the id could stand in for the one asked for (§12.4).
 */
export function isFileIdQuery(query: string): boolean {
  return FILE_ID_QUERY_RE.test(query.trim());
}

/** The answer to SEARCH, LIST and RESOLVE. */
export interface Listings {
  type: typeof IndexMessageType.LISTINGS;
  listings: WireListing[];
}

/** Any index protocol message. */
export type IndexMessage =
  | Register
  | Login
  | Auth
  | Ok
  | UserKeys
  | UserKeysReply
  | Announce
  | Heartbeat
  | Unshare
  | Search
  | List
  | Resolve
  | Listings
  | Relay
  | RelayToken
  | RelayDial
  | RelayJoin
  | CodeOpen
  | CodeOpened
  | CodeClaim
  | CodeMail
  | CodeClose;

/**
 * The codec of every index message, typed so that a missing one is a compile error; messages.ts
 * merges this table into its own.
 */
export const INDEX_CODECS: {
  [T in IndexMessageType]: Codec<Extract<IndexMessage, { type: T }>>;
} = {
  [IndexMessageType.REGISTER]: {
    encode: (w, m) => {
      w.text(m.username).text(m.password);
      encodeSignatures(w, m.proof);
    },
    decode: (r) => ({
      username: r.text(MAX_USERNAME_BYTES),
      password: r.text(MAX_PASSWORD_BYTES),
      proof: decodeSignatures(r),
    }),
  },
  [IndexMessageType.LOGIN]: {
    encode: (w, m) => {
      w.text(m.username).text(m.password).u8(m.rotateKeys ? 1 : 0);
      encodeSignatures(w, m.proof);
    },
    decode: (r) => ({
      username: r.text(MAX_USERNAME_BYTES),
      password: r.text(MAX_PASSWORD_BYTES),
      rotateKeys: decodeFlag(r),
      proof: decodeSignatures(r),
    }),
  },
  [IndexMessageType.AUTH]: {
    encode: (w, m) => {
      w.text(m.username);
      encodeSignatures(w, m.proof);
    },
    decode: (r) => ({ username: r.text(MAX_USERNAME_BYTES), proof: decodeSignatures(r) }),
  },
  [IndexMessageType.OK]: { encode: () => {}, decode: () => ({}) },
  [IndexMessageType.USER_KEYS]: {
    encode: (w, m) => w.list(m.usernames, (w, name) => w.text(name)),
    decode: (r) => ({ usernames: r.list(MAX_USER_KEYS, (r) => r.text(MAX_USERNAME_BYTES)) }),
  },
  [IndexMessageType.USER_KEYS_REPLY]: {
    encode: (w, m) => w.list(m.users, (w, u) => w.text(u.username).bytes16(u.identity)),
    decode: (r) => ({
      users: r.list(MAX_USER_KEYS, (r) => ({
        username: r.text(MAX_USERNAME_BYTES),
        identity: r.bytes16(MAX_IDENTITY_BYTES),
      })),
    }),
  },
  [IndexMessageType.ANNOUNCE]: {
    encode: (w, m) => {
      w.bytes16(m.announcement);
      encodeSignatures(w, m.signatures);
    },
    decode: (r) => ({
      announcement: r.bytes16(MAX_ANNOUNCEMENT_BYTES),
      signatures: decodeSignatures(r),
    }),
  },
  [IndexMessageType.HEARTBEAT]: { encode: () => {}, decode: () => ({}) },
  [IndexMessageType.UNSHARE]: {
    encode: (w, m) => w.raw(m.fileId),
    decode: (r) => ({ fileId: r.raw(FILE_ID_BYTES) }),
  },
  [IndexMessageType.SEARCH]: {
    encode: (w, m) => w.text(m.query).u16(m.limit).u32(m.offset),
    decode: (r) => ({ query: r.text(MAX_QUERY_BYTES), ...decodePage(r) }),
  },
  [IndexMessageType.LIST]: {
    encode: (w, m) => w.u8(m.mine ? 1 : 0).u16(m.limit).u32(m.offset),
    decode: (r) => ({ mine: decodeFlag(r), ...decodePage(r) }),
  },
  [IndexMessageType.RESOLVE]: {
    encode: (w, m) => w.text(m.query),
    decode: (r) => ({ query: r.text(MAX_WIRE_NAME_BYTES) }),
  },
  [IndexMessageType.LISTINGS]: {
    encode: (w, m) => w.raw(encodeListings(m.listings)),
    decode: (r) => ({
      listings: r.list(MAX_LISTINGS, (r) => ({
        announcement: r.bytes16(MAX_ANNOUNCEMENT_BYTES),
        signatures: decodeSignatures(r),
        ownerIdentity: r.bytes16(MAX_IDENTITY_BYTES),
        online: decodeFlag(r),
        lastSeen: r.u64(),
      })),
    }),
  },
  ...RELAY_CODECS,
  ...CODE_CODECS,
};

/** `u16 limit ‖ u32 offset`, with limit 1 to MAX_LISTINGS and offset at most MAX_LIST_OFFSET. */
function decodePage(reader: ByteReader): { limit: number; offset: number } {
  const limit = reader.u16();
  if (limit < 1 || limit > MAX_LISTINGS) {
    reader.fail(`page size ${limit} is not 1 to ${MAX_LISTINGS}`);
  }
  const offset = reader.u32();
  if (offset > MAX_LIST_OFFSET) reader.fail(`offset ${offset} exceeds ${MAX_LIST_OFFSET}`);
  return { limit, offset };
}
