/**
 * The messages of a file transfer (docs/PROTOCOL.md §7): GET, MANIFEST, FINAL and the receiver's
 * RECEIPT (which a tree transfer ends with too). messages.ts merges their codecs into the one
 * table of messages.
 */
import type { Bytes } from "../crypto/bytes.ts";
import { type ByteReader, ByteWriter } from "../crypto/encoding.ts";
import { FILE_ID_BYTES } from "../crypto/file_id.ts";
import type { Signatures } from "../crypto/sign.ts";
import { isDisplaySafe } from "../text.ts";
import {
  type Codec,
  decodeSignatures,
  encodeSignatures,
  MAX_WIRE_NAME_BYTES,
} from "./message_fields.ts";
import { MessageType } from "./message_types.ts";
import { MANIFEST_HASH_BYTES } from "./tree_messages.ts";

/** Bytes of a fingerprint (§4.2) and of a transcript hash (§6.5) in a RECEIPT. */
const FINGERPRINT_BYTES = 32;
const TRANSCRIPT_HASH_BYTES = 32;
/** MANIFEST flags bit 0: the file is executable. */
const FLAG_EXECUTABLE = 1;

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

/** Any file-transfer message. */
export type TransferMessage = Get | Manifest | Final | Receipt;

/** The codec of every file-transfer message; a missing one is a compile error in messages.ts. */
export const TRANSFER_CODECS: { [M in TransferMessage as M["type"]]: Codec<M> } = {
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
