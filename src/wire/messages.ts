/**
 * The one table of messages (docs/PROTOCOL.md §9): a type number, a typed value and a codec for
 * each. Decoders validate every field and reject trailing bytes, so code past `decodeMessage`
 * only ever sees well-formed values.
 */
import { type ErrorCode, ErrorCode as ErrorCodes, SfsError } from "../errors.ts";
import type { Bytes } from "../crypto/bytes.ts";
import { ByteReader, ByteWriter } from "../crypto/encoding.ts";
import { NONCE_BYTES, X25519_BYTES } from "../crypto/exchange.ts";
import { FILE_ID_BYTES } from "../crypto/file_id.ts";
import type { Signatures } from "../crypto/sign.ts";
import { isDisplaySafe } from "../text.ts";

/** Protocol version spoken by this build. */
export const PROTOCOL_VERSION = 2;
/** Longest `options` field of HELLO / HELLO_REPLY; version 2 requires it empty (§6.1). */
const MAX_OPTIONS_BYTES = 2048;
/** Bytes of a file id (defined with the file id, §7.1). */
export { FILE_ID_BYTES };
/** Longest file name a manifest may carry, in UTF-8 bytes (the receiver shortens further). */
export const MAX_WIRE_NAME_BYTES = 1024;
/** Longest error message accepted from a peer. */
export const MAX_ERROR_TEXT_BYTES = 512;
/** Largest encoded public identity (§4.1) accepted in any message. */
export const MAX_IDENTITY_BYTES = 2048;
/** Longest RSA-OAEP wrapped secret (RSA-4096 makes 512 bytes). */
export const MAX_WRAPPED_BYTES = 512;
/** Longest RSA-PSS signature in a signature set (§5): RSA-4096 makes 512 bytes. */
export const MAX_SIGNATURE_BYTES = 512;
/** Length of an Ed25519 signature (§5). */
export const ED25519_SIGNATURE_BYTES = 64;
/** Largest encoded signature set (§5): two `bytes16` fields at their largest. */
export const MAX_SIGNATURE_SET_BYTES = 2 + MAX_SIGNATURE_BYTES + 2 + ED25519_SIGNATURE_BYTES;

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
  // Index protocol (§12): client requests and server replies.
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
} as const;
/** One of the message type numbers. */
export type MessageType = typeof MessageType[keyof typeof MessageType];

/** Types allowed in plaintext frames; every other type must arrive sealed. */
export const PLAIN_TYPES: ReadonlySet<number> = new Set([
  MessageType.HELLO,
  MessageType.HELLO_REPLY,
  MessageType.ABORT,
]);

/** Types that only ever travel as handshake records (§6.3). */
export const HANDSHAKE_TYPES: ReadonlySet<number> = new Set([
  MessageType.RESPONDER_AUTH,
  MessageType.INITIATOR_AUTH,
  MessageType.KEY_TRANSPORT,
]);

/** Initiator's first message (§6.2): no identity, only the ephemeral key and a nonce. */
export interface Hello {
  type: typeof MessageType.HELLO;
  version: number;
  /** Reserved; empty in version 2 (it sits where version 1 had the identity). */
  options: Bytes;
  ephemeral: Bytes;
  nonce: Bytes;
}

/** Responder's plain answer (§6.2), sent together with RESPONDER_AUTH. */
export interface HelloReply {
  type: typeof MessageType.HELLO_REPLY;
  version: number;
  options: Bytes;
  ephemeral: Bytes;
  nonce: Bytes;
}

/** The responder's identity and its signatures over H_R (§6.4), under its handshake key. */
export interface ResponderAuth {
  type: typeof MessageType.RESPONDER_AUTH;
  identity: Bytes;
  signatures: Signatures;
}

/** The initiator's identity and its signatures over H_I (§6.4), under its handshake key. */
export interface InitiatorAuth {
  type: typeof MessageType.INITIATOR_AUTH;
  identity: Bytes;
  /** An early request follows as the initiator's second handshake record. */
  early: boolean;
  signatures: Signatures;
}

/** The per-connection secret under the initiator's RSA-OAEP key (§6.4). */
export interface KeyTransport {
  type: typeof MessageType.KEY_TRANSPORT;
  wrappedSecret: Bytes;
}

/** A refusal before keys exist (bad version, busy, refused key). */
export interface Abort {
  type: typeof MessageType.ABORT;
  code: ErrorCode;
  message: string;
}

/**
 * Receiver asks for a file from byte `offset` on: 0, or a chunk boundary when resuming. Bytes,
 * not a chunk index, so a sender restarted with another chunk size cannot misread a resume.
 */
export interface Get {
  type: typeof MessageType.GET;
  fileId: Bytes;
  offset: number;
}

/** What the sender will stream (§7.1). */
export interface Manifest {
  type: typeof MessageType.MANIFEST;
  fileId: Bytes;
  name: string;
  size: number;
  sha256: Bytes;
  chunkSize: number;
  /** Where the stream starts: the GET's offset, echoed. */
  offset: number;
}

/** Sender's closing signatures over the transcript, manifest, content hash and size (§7.3). */
export interface Final {
  type: typeof MessageType.FINAL;
  signatures: Signatures;
}

/** Receiver confirms it verified and stored the file. */
export interface Receipt {
  type: typeof MessageType.RECEIPT;
  sha256: Bytes;
}

/** A failure report on an established channel. */
export interface ErrorMessage {
  type: typeof MessageType.ERROR;
  code: ErrorCode;
  message: string;
}

/** Creates an account for the channel's identity; the proof is over §12.2's auth data. */
export interface Register {
  type: typeof MessageType.REGISTER;
  username: string;
  password: string;
  proof: Signatures;
}

/** Checks a password; with `rotateKeys`, registers the channel's identity as the user's keys. */
export interface Login {
  type: typeof MessageType.LOGIN;
  username: string;
  password: string;
  rotateKeys: boolean;
  proof: Signatures;
}

/** Authenticates the connection as a registered user, without a password. */
export interface Auth {
  type: typeof MessageType.AUTH;
  username: string;
  proof: Signatures;
}

/** A request succeeded and has nothing else to say. */
export interface Ok {
  type: typeof MessageType.OK;
}

/** Asks for the registered public identities of some users. */
export interface UserKeys {
  type: typeof MessageType.USER_KEYS;
  usernames: string[];
}

/** One registered user's public identity (§4.1 encoding). */
export interface UserKeyEntry {
  username: string;
  identity: Bytes;
}

/** The identities of the requested users that exist; unknown users are left out. */
export interface UserKeysReply {
  type: typeof MessageType.USER_KEYS_REPLY;
  users: UserKeyEntry[];
}

/** Publishes one signed announcement (§12.5). */
export interface Announce {
  type: typeof MessageType.ANNOUNCE;
  announcement: Bytes;
  signatures: Signatures;
}

/** Keeps a sharing session online. */
export interface Heartbeat {
  type: typeof MessageType.HEARTBEAT;
}

/** Withdraws one of the user's announcements. */
export interface Unshare {
  type: typeof MessageType.UNSHARE;
  fileId: Bytes;
}

/** Full-text search over names and keywords. */
export interface Search {
  type: typeof MessageType.SEARCH;
  query: string;
  limit: number;
  offset: number;
}

/** Lists visible announcements, or only the user's own. */
export interface List {
  type: typeof MessageType.LIST;
  mine: boolean;
  limit: number;
  offset: number;
}

/** Finds announcements by file id (32 hex digits) or exact name. */
export interface Resolve {
  type: typeof MessageType.RESOLVE;
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
  type: typeof MessageType.LISTINGS;
  listings: WireListing[];
}

/** Any message. */
export type Message =
  | Hello
  | HelloReply
  | Abort
  | ResponderAuth
  | InitiatorAuth
  | KeyTransport
  | Get
  | Manifest
  | Final
  | Receipt
  | ErrorMessage
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
  | Listings;

interface Codec<M extends Message> {
  encode(writer: ByteWriter, message: M): void;
  decode(reader: ByteReader): Omit<M, "type">;
}

const CODECS: { [T in MessageType]: Codec<Extract<Message, { type: T }>> } = {
  [MessageType.HELLO]: {
    encode: (w, m) => w.u16(m.version).bytes16(m.options).raw(m.ephemeral).raw(m.nonce),
    decode: (r) => ({ ...decodeVersionAndOptions(r, "hello"), ...decodeEphemeral(r) }),
  },
  [MessageType.HELLO_REPLY]: {
    encode: (w, m) => w.u16(m.version).bytes16(m.options).raw(m.ephemeral).raw(m.nonce),
    decode: (r) => ({ ...decodeVersionAndOptions(r, "hello reply"), ...decodeEphemeral(r) }),
  },
  [MessageType.ABORT]: { encode: encodeFailure, decode: decodeFailure },
  [MessageType.RESPONDER_AUTH]: {
    encode: (w, m) => {
      w.bytes16(m.identity);
      encodeSignatures(w, m.signatures);
    },
    decode: (r) => ({ identity: r.bytes16(MAX_IDENTITY_BYTES), signatures: decodeSignatures(r) }),
  },
  [MessageType.INITIATOR_AUTH]: {
    encode: (w, m) => {
      w.bytes16(m.identity).u8(m.early ? 1 : 0);
      encodeSignatures(w, m.signatures);
    },
    decode: (r) => ({
      identity: r.bytes16(MAX_IDENTITY_BYTES),
      early: decodeFlag(r),
      signatures: decodeSignatures(r),
    }),
  },
  [MessageType.KEY_TRANSPORT]: {
    encode: (w, m) => w.bytes16(m.wrappedSecret),
    decode: (r) => ({ wrappedSecret: r.bytes16(MAX_WRAPPED_BYTES) }),
  },
  [MessageType.GET]: {
    encode: (w, m) => w.raw(m.fileId).u64(m.offset),
    decode: (r) => ({ fileId: r.raw(FILE_ID_BYTES), offset: r.u64() }),
  },
  [MessageType.MANIFEST]: {
    encode: (w, m) =>
      w.raw(m.fileId).text(m.name).u64(m.size).raw(m.sha256).u32(m.chunkSize).u64(m.offset),
    decode: (r) => ({
      fileId: r.raw(FILE_ID_BYTES),
      name: manifestName(r),
      size: r.u64(),
      sha256: r.raw(32),
      chunkSize: r.u32(),
      offset: r.u64(),
    }),
  },
  [MessageType.FINAL]: {
    encode: (w, m) => encodeSignatures(w, m.signatures),
    decode: (r) => ({ signatures: decodeSignatures(r) }),
  },
  [MessageType.RECEIPT]: {
    encode: (w, m) => w.raw(m.sha256),
    decode: (r) => ({ sha256: r.raw(32) }),
  },
  [MessageType.ERROR]: { encode: encodeFailure, decode: decodeFailure },
  [MessageType.REGISTER]: {
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
  [MessageType.LOGIN]: {
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
  [MessageType.AUTH]: {
    encode: (w, m) => {
      w.text(m.username);
      encodeSignatures(w, m.proof);
    },
    decode: (r) => ({ username: r.text(MAX_USERNAME_BYTES), proof: decodeSignatures(r) }),
  },
  [MessageType.OK]: { encode: () => {}, decode: () => ({}) },
  [MessageType.USER_KEYS]: {
    encode: (w, m) => w.list(m.usernames, (w, name) => w.text(name)),
    decode: (r) => ({ usernames: r.list(MAX_USER_KEYS, (r) => r.text(MAX_USERNAME_BYTES)) }),
  },
  [MessageType.USER_KEYS_REPLY]: {
    encode: (w, m) => w.list(m.users, (w, u) => w.text(u.username).bytes16(u.identity)),
    decode: (r) => ({
      users: r.list(MAX_USER_KEYS, (r) => ({
        username: r.text(MAX_USERNAME_BYTES),
        identity: r.bytes16(MAX_IDENTITY_BYTES),
      })),
    }),
  },
  [MessageType.ANNOUNCE]: {
    encode: (w, m) => {
      w.bytes16(m.announcement);
      encodeSignatures(w, m.signatures);
    },
    decode: (r) => ({
      announcement: r.bytes16(MAX_ANNOUNCEMENT_BYTES),
      signatures: decodeSignatures(r),
    }),
  },
  [MessageType.HEARTBEAT]: { encode: () => {}, decode: () => ({}) },
  [MessageType.UNSHARE]: {
    encode: (w, m) => w.raw(m.fileId),
    decode: (r) => ({ fileId: r.raw(FILE_ID_BYTES) }),
  },
  [MessageType.SEARCH]: {
    encode: (w, m) => w.text(m.query).u16(m.limit).u32(m.offset),
    decode: (r) => ({ query: r.text(MAX_QUERY_BYTES), ...decodePage(r) }),
  },
  [MessageType.LIST]: {
    encode: (w, m) => w.u8(m.mine ? 1 : 0).u16(m.limit).u32(m.offset),
    decode: (r) => ({ mine: decodeFlag(r), ...decodePage(r) }),
  },
  [MessageType.RESOLVE]: {
    encode: (w, m) => w.text(m.query),
    decode: (r) => ({ query: r.text(MAX_WIRE_NAME_BYTES) }),
  },
  [MessageType.LISTINGS]: {
    encode: (w, m) =>
      w.list(m.listings, (w, l) => {
        w.bytes16(l.announcement);
        encodeSignatures(w, l.signatures);
        w.bytes16(l.ownerIdentity).u8(l.online ? 1 : 0).u64(l.lastSeen);
      }),
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

/**
 * Reads `u16 version ‖ bytes16 options`, the version first (§6.8): a peer of another version
 * gets VERSION_MISMATCH naming both, whatever follows, and version 2 requires empty options.
 */
function decodeVersionAndOptions(
  reader: ByteReader,
  what: string,
): { version: number; options: Bytes } {
  const version = reader.u16();
  if (version !== PROTOCOL_VERSION) {
    throw new SfsError(
      "VERSION_MISMATCH",
      `Protocol ${version} is not supported; this sfs speaks ${PROTOCOL_VERSION}`,
    );
  }
  const options = reader.bytes16(MAX_OPTIONS_BYTES);
  if (options.length !== 0) reader.fail(`non-empty options in a version 2 ${what}`);
  return { version, options };
}

function decodeEphemeral(reader: ByteReader): { ephemeral: Bytes; nonce: Bytes } {
  return { ephemeral: reader.raw(X25519_BYTES), nonce: reader.raw(NONCE_BYTES) };
}

/** Writes a signature set (§5): `bytes16 rsa_pss ‖ bytes16 ed25519`, empty when absent. */
export function encodeSignatures(writer: ByteWriter, signatures: Signatures): void {
  // An absent signature is an empty field; decodeSignatures maps it back to undefined.
  writer.bytes16(signatures.rsa ?? new Uint8Array()).bytes16(
    signatures.ed25519 ?? new Uint8Array(),
  );
}

/** Reads a signature set written by {@link encodeSignatures}, checking both lengths. */
export function decodeSignatures(reader: ByteReader): Signatures {
  const rsa = reader.bytes16(MAX_SIGNATURE_BYTES);
  const ed25519 = reader.bytes16(ED25519_SIGNATURE_BYTES);
  if (ed25519.length !== 0 && ed25519.length !== ED25519_SIGNATURE_BYTES) {
    reader.fail("Ed25519 signature not 64 bytes");
  }
  return {
    rsa: rsa.length ? rsa : undefined,
    ed25519: ed25519.length ? ed25519 : undefined,
  };
}

/** A boolean as one byte, 0 or 1; any other value has no meaning and is malformed. */
function decodeFlag(reader: ByteReader): boolean {
  const value = reader.u8();
  if (value > 1) reader.fail(`flag byte ${value} is not 0 or 1`);
  return value === 1;
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

/**
 * Reads a manifest's file name: display-safe text only (src/text.ts). A name with control or
 * bidi characters is refused, as in announcements (§12.5), rather than cleaned up, so a sender
 * cannot put an escape sequence or a reversed extension in front of the user (§7.1).
 */
function manifestName(reader: ByteReader): string {
  const name = reader.text(MAX_WIRE_NAME_BYTES);
  if (!isDisplaySafe(name)) reader.fail("control or bidi characters in the file name");
  return name;
}

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
