/**
 * The one table of messages (docs/PROTOCOL.md §9): a type number, a typed value and a codec for
 * each. Decoders validate every field and reject trailing bytes, so code past `decodeMessage`
 * only ever sees well-formed values. The peer messages (§6, §7) are defined here; the index
 * messages (§12) in index_messages.ts, whose type numbers and codecs this table takes in.
 */
import { type ErrorCode, ErrorCode as ErrorCodes, SfsError } from "../errors.ts";
import type { Bytes } from "../crypto/bytes.ts";
import { ByteReader, ByteWriter } from "../crypto/encoding.ts";
import { NONCE_BYTES, X25519_BYTES } from "../crypto/exchange.ts";
import { FILE_ID_BYTES } from "../crypto/file_id.ts";
import type { Signatures } from "../crypto/sign.ts";
import { isDisplaySafe } from "../text.ts";
import { INDEX_CODECS, type IndexMessage, IndexMessageType } from "./index_messages.ts";
import {
  MANIFEST_HASH_BYTES,
  TREE_CODECS,
  type TreeMessage,
  TreeMessageType,
} from "./tree_messages.ts";
import {
  type Codec,
  decodeFlag,
  decodeSignatures,
  encodeSignatures,
  MAX_IDENTITY_BYTES,
  MAX_WIRE_NAME_BYTES,
} from "./message_fields.ts";

/** Protocol version spoken by this build. */
export const PROTOCOL_VERSION = 2;
/** Longest `options` field of HELLO / HELLO_REPLY; version 2 requires it empty (§6.2). */
const MAX_OPTIONS_BYTES = 2048;
/** Bytes of a file id (defined with the file id, §7.1). */
export { FILE_ID_BYTES };
export {
  MANIFEST_HASH_BYTES,
  MAX_MANIFEST_HEADER_BYTES,
  MAX_MANIFEST_PAGE_BYTES,
  TreeMessageType,
} from "./tree_messages.ts";
export type { EntryRange, ManifestPage, TreeGet, TreeManifest, Want } from "./tree_messages.ts";
/** Longest error message accepted from a peer. */
export const MAX_ERROR_TEXT_BYTES = 512;
/** Longest RSA-OAEP wrapped secret (RSA-4096 makes 512 bytes). */
export const MAX_WRAPPED_BYTES = 512;
/** Bytes of a fingerprint (§4.2) and of a transcript hash (§6.5) in a RECEIPT. */
const FINGERPRINT_BYTES = 32;
const TRANSCRIPT_HASH_BYTES = 32;
/** MANIFEST flags bit 0: the file is executable. */
const FLAG_EXECUTABLE = 1;

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

/**
 * What the sender will stream (§7.1), and the owner's signature over the file's one-entry
 * manifest (§7.1, F5.2) so that the receiver can keep a proof of origin: the manifest is
 * rebuilt from these fields (src/peer/file_manifest.ts).
 */
export interface Manifest {
  type: typeof MessageType.MANIFEST;
  fileId: Bytes;
  name: string;
  size: number;
  sha256: Bytes;
  chunkSize: number;
  /** Where the stream starts: the GET's offset, echoed. */
  offset: number;
  /** The file's executable bit, as the one-entry manifest lists it. */
  executable: boolean;
  /** The file's modification time, ms since the Unix epoch (earlier: 0). */
  mtime: number;
  /** When the owner made the one-entry manifest, ms since the Unix epoch. */
  createdAt: number;
  /**
   * The owner's signatures over the one-entry manifest's hash (F3.4); both absent when the name
   * cannot be a manifest path (F4.1: `a:b`, `CON`, over 255 bytes), so no proof can be kept.
   */
  manifestSignatures: Signatures;
}

/** Sender's closing signatures over the transcript, manifest, content hash and size (§7.3). */
export interface Final {
  type: typeof MessageType.FINAL;
  signatures: Signatures;
}

/** Version byte of a RECEIPT body (§7.9). */
export const RECEIPT_VERSION = 1;

/**
 * The receiver's signed proof of delivery (§7.9, F10): it verified and stored the share whose
 * manifest hash it names, from this sender, on this connection (`transcriptHash` is `H_F`).
 */
export interface Receipt {
  type: typeof MessageType.RECEIPT;
  /** A file's §7.1 id or a tree's share id (F3.4). */
  shareId: Bytes;
  /** The manifest's hash; for a single file, of its one-entry manifest (§7.1). */
  manifestHash: Bytes;
  senderFingerprint: Bytes;
  receiverFingerprint: Bytes;
  /** When the receiver finished, ms since the Unix epoch. */
  receivedAt: number;
  /** `H_F` of the connection the share came over (§6.5). */
  transcriptHash: Bytes;
  /** The receiver's signatures over {@link receiptSignedData} (label sfs/v2/receipt-signature). */
  signatures: Signatures;
}

/** The fields of a receipt its signatures cover. */
export type ReceiptFields = Omit<Receipt, "type" | "signatures">;

/** A failure report on an established channel. */
export interface ErrorMessage {
  type: typeof MessageType.ERROR;
  code: ErrorCode;
  message: string;
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
  | TreeMessage
  | IndexMessage;

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
    encode: (w, m) => {
      w.raw(m.fileId).text(m.name).u64(m.size).raw(m.sha256).u32(m.chunkSize).u64(m.offset);
      w.u8(m.executable ? FLAG_EXECUTABLE : 0).u64(m.mtime).u64(m.createdAt);
      encodeSignatures(w, m.manifestSignatures);
    },
    decode: (r) => ({
      fileId: r.raw(FILE_ID_BYTES),
      name: manifestName(r),
      size: r.u64(),
      sha256: r.raw(32),
      chunkSize: r.u32(),
      offset: r.u64(),
      executable: decodeFileFlags(r),
      mtime: r.u64(),
      createdAt: r.u64(),
      manifestSignatures: decodeSignatures(r),
    }),
  },
  [MessageType.FINAL]: {
    encode: (w, m) => encodeSignatures(w, m.signatures),
    decode: (r) => ({ signatures: decodeSignatures(r) }),
  },
  [MessageType.RECEIPT]: {
    encode: (w, m) => {
      writeReceiptFields(w, m);
      encodeSignatures(w, m.signatures);
    },
    decode: (r) => {
      const version = r.u8();
      if (version !== RECEIPT_VERSION) r.fail(`unknown receipt version ${version}`);
      return {
        shareId: r.raw(FILE_ID_BYTES),
        manifestHash: r.raw(MANIFEST_HASH_BYTES),
        senderFingerprint: r.raw(FINGERPRINT_BYTES),
        receiverFingerprint: r.raw(FINGERPRINT_BYTES),
        receivedAt: r.u64(),
        transcriptHash: r.raw(TRANSCRIPT_HASH_BYTES),
        signatures: decodeSignatures(r),
      };
    },
  },
  [MessageType.ERROR]: { encode: encodeFailure, decode: decodeFailure },
  ...TREE_CODECS,
  ...INDEX_CODECS,
};

/**
 * What a receipt's signatures cover (§7.9): its body up to the signatures,
 * `u8 version ‖ [16] share id ‖ [32] manifest hash ‖ [32] sender fingerprint ‖
 * [32] receiver fingerprint ‖ u64 received at ‖ [32] H_F`.
 */
export function receiptSignedData(fields: ReceiptFields): Bytes {
  const writer = new ByteWriter();
  writeReceiptFields(writer, fields);
  return writer.finish();
}

function writeReceiptFields(writer: ByteWriter, r: ReceiptFields): void {
  writer.u8(RECEIPT_VERSION).raw(r.shareId).raw(r.manifestHash).raw(r.senderFingerprint)
    .raw(r.receiverFingerprint).u64(r.receivedAt).raw(r.transcriptHash);
}

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

/** MANIFEST flags (§7.1): bit 0 is the executable bit; the other bits MUST be zero. */
function decodeFileFlags(reader: ByteReader): boolean {
  const flags = reader.u8();
  if (flags > FLAG_EXECUTABLE) reader.fail(`file flags ${flags} have unknown bits`);
  return flags === FLAG_EXECUTABLE;
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
