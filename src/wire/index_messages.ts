/**
 * The index protocol's messages (docs/PROTOCOL.md §12, and the relay's of §13): type numbers 32
 * to 48, their values, limits and codecs. messages.ts merges them into the one table of messages, so `encodeMessage` and
 * `decodeMessage` handle them like any other.
 */
import type { Bytes } from "../crypto/bytes.ts";
import { SfsError } from "../errors.ts";
import type { ByteReader } from "../crypto/encoding.ts";
import { FILE_ID_BYTES } from "../crypto/file_id.ts";
import type { Signatures } from "../crypto/sign.ts";
import {
  type Codec,
  decodeFlag,
  decodeSignatures,
  encodeSignatures,
  MAX_IDENTITY_BYTES,
  MAX_WIRE_NAME_BYTES,
} from "./message_fields.ts";

// Index protocol limits (§12) that a decoder below enforces. They are defined here, the lowest
// layer that needs them, and src/index/protocol/limits.ts re-exports them with the index's own
// limits; nothing above defines them again.
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
} as const;
/** One of the index protocol's type numbers. */
export type IndexMessageType = typeof IndexMessageType[keyof typeof IndexMessageType];

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

/** One listing as the server returns it: signed bytes plus the server's presence claims. */
export interface WireListing {
  announcement: Bytes;
  signatures: Signatures;
  ownerIdentity: Bytes;
  online: boolean;
  lastSeen: number;
}

/** The answer to SEARCH, LIST and RESOLVE. */
export interface Listings {
  type: typeof IndexMessageType.LISTINGS;
  listings: WireListing[];
}

/** Asks to be relayed to whoever shares the file (§13.3); `token` is empty or 16 bytes. */
export interface Relay {
  type: typeof IndexMessageType.RELAY;
  fileId: Bytes;
  token: Bytes;
}

/** Registers the relay token of a file this connection announced (§13.2). */
export interface RelayToken {
  type: typeof IndexMessageType.RELAY_TOKEN;
  fileId: Bytes;
  token: Bytes;
}

/**
 * The server's push to a sharing connection: open a leg for this file (§13.4). `receiver` is
 * the receiver's canonical username when its index session was authenticated, else empty;
 * `relay` is the HOST:PORT the leg goes to, or empty for the index address (§13.7).
 */
export interface RelayDial {
  type: typeof IndexMessageType.RELAY_DIAL;
  fileId: Bytes;
  pairingToken: Bytes;
  receiver: string;
  relay: string;
}

/** The first frame (plain) of a sender's leg (§13.5). */
export interface RelayJoin {
  type: typeof IndexMessageType.RELAY_JOIN;
  pairingToken: Bytes;
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
  | RelayJoin;

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
  [IndexMessageType.RELAY]: {
    encode: (w, m) => w.raw(m.fileId).bytes16(m.token),
    decode: (r) => {
      const fileId = r.raw(FILE_ID_BYTES);
      const token = r.bytes16(RELAY_TOKEN_BYTES);
      if (token.length !== 0 && token.length !== RELAY_TOKEN_BYTES) {
        r.fail(`relay token of ${token.length} bytes`);
      }
      return { fileId, token };
    },
  },
  [IndexMessageType.RELAY_TOKEN]: {
    encode: (w, m) => w.raw(m.fileId).raw(m.token),
    decode: (r) => ({ fileId: r.raw(FILE_ID_BYTES), token: r.raw(RELAY_TOKEN_BYTES) }),
  },
  [IndexMessageType.RELAY_DIAL]: {
    encode: (w, m) => w.raw(m.fileId).raw(m.pairingToken).text(m.receiver).text(m.relay),
    decode: (r) => ({
      fileId: r.raw(FILE_ID_BYTES),
      pairingToken: r.raw(RELAY_TOKEN_BYTES),
      receiver: r.text(MAX_USERNAME_BYTES),
      relay: r.text(MAX_ADDRESS_BYTES),
    }),
  },
  [IndexMessageType.RELAY_JOIN]: {
    encode: (w, m) => w.raw(m.pairingToken),
    decode: (r) => ({ pairingToken: r.raw(RELAY_TOKEN_BYTES) }),
  },
};

/**
 * The LISTINGS body in one buffer of its exact size: the same bytes as writing each field with
 * ByteWriter, without the ≈ 10 small arrays per listing that costs (a reply of 25 listings
 * made ≈ 250 allocations, which showed as garbage-collection pauses in the search latency
 * tail). Lengths and integers are range-checked as ByteWriter checks them.
 */
function encodeListings(listings: readonly WireListing[]): Bytes {
  let size = 2;
  for (const l of listings) {
    size += 2 + l.announcement.length + 2 + (l.signatures.rsa?.length ?? 0) + 2 +
      (l.signatures.ed25519?.length ?? 0) + 2 + l.ownerIdentity.length + 1 + 8;
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  const u16 = (value: number) => {
    view.setUint16(at, checkedInt(value, 0xffff));
    at += 2;
  };
  const bytes16 = (bytes: Uint8Array | undefined) => {
    const length = bytes?.length ?? 0;
    u16(length);
    if (bytes !== undefined) out.set(bytes, at);
    at += length;
  };
  u16(listings.length);
  for (const l of listings) {
    bytes16(l.announcement);
    bytes16(l.signatures.rsa);
    bytes16(l.signatures.ed25519);
    bytes16(l.ownerIdentity);
    out[at++] = l.online ? 1 : 0;
    view.setBigUint64(at, BigInt(checkedInt(l.lastSeen, Number.MAX_SAFE_INTEGER)));
    at += 8;
  }
  return out;
}

function checkedInt(value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new SfsError("INTERNAL", `Integer ${value} does not fit its field`);
  }
  return value;
}

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
