/**
 * Signed announcements (docs/PROTOCOL.md §12.5): what an owner says about one shared file, in one
 * canonical binary encoding, signed with both of the owner's signature keys. The index stores the
 * bytes as they are and every receiver verifies them again with the owner's registered keys, so
 * an index can hide a listing but never invent or alter one.
 *
 * Pure: no I/O. Used by the sender (sign), the server and the receiver (verify).
 */
import { SfsError } from "../../errors.ts";
import { type Bytes, constantTimeEqual, toHex } from "../../crypto/bytes.ts";
import { ByteReader, ByteWriter } from "../../crypto/encoding.ts";
import {
  decodePublicIdentity,
  formatFingerprint,
  type Identity,
  type PublicIdentity,
} from "../../crypto/identity.ts";
import { LABEL } from "../../crypto/labels.ts";
import { sign, type Signatures, verify } from "../../crypto/sign.ts";
import { fileIdOf } from "../../crypto/file_id.ts";
import { FILE_ID_BYTES } from "../../wire/messages.ts";
import { MAX_ANNOUNCEMENT_BYTES, type WireListing } from "../../wire/index_messages.ts";
import { decodeSignatures, encodeSignatures } from "../../wire/message_fields.ts";
import {
  MAX_ADDRESS_BYTES,
  MAX_ADDRESSES,
  MAX_KEYWORD_BYTES,
  MAX_KEYWORDS,
  MAX_NAME_BYTES,
  MAX_RECIPIENTS,
  USERNAME_MAX,
} from "./limits.ts";
import { validateUsername } from "./usernames.ts";
import { announcedAddresses, checkFields, checkLists, HASH_BYTES } from "./announcement_rules.ts";

export {
  announcedAddresses,
  isAnnouncedName,
  isKeyword,
  isPeerAddress,
} from "./announcement_rules.ts";

/** Version byte of the announcement encoding written today (a list of addresses). */
export const ANNOUNCEMENT_VERSION = 2;
/** The earlier version with a single address, still read: listings stored before remain valid. */
const ANNOUNCEMENT_VERSION_ONE_ADDRESS = 1;

/** The fields of an announcement, decoded and validated. */
export interface FileAnnouncement {
  /** File id, as computed by `fileIdOf` (16 bytes). */
  readonly fileId: Bytes;
  /** Owner's username in canonical (lower-case) form. */
  readonly owner: string;
  /** Owner's identity fingerprint (32 bytes). */
  readonly ownerFingerprint: Bytes;
  /** File name as the sender's `basename` gives it. */
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  /** SHA-256 of the content (32 bytes). */
  readonly sha256: Bytes;
  /** Search keywords: NFC, distinct, in the owner's order. */
  readonly keywords: readonly string[];
  /** Canonical usernames allowed to see the file, ascending; empty means everyone. */
  readonly recipients: readonly string[];
  /** Where the owner serves the file, `HOST:PORT`: the first direct candidate (§10.1). */
  readonly address: string;
  /** Further direct candidates, in the owner's order; absent when there are none. */
  readonly alternates?: readonly string[];
  /** When the owner announced it (ms since the epoch). */
  readonly createdAt: number;
}

/** Announcement bytes with the owner's signatures over them. */
export interface SignedAnnouncement {
  readonly bytes: Bytes;
  readonly signatures: Signatures;
}

/** A listing whose announcement verified against the owner's keys. */
export interface VerifiedListing {
  readonly announcement: FileAnnouncement;
  readonly owner: PublicIdentity;
  /** The server's claim: is the owner's sharing session connected? Not signed. */
  readonly online: boolean;
  /** The server's claim: last time it heard from the session (ms). Not signed. */
  readonly lastSeen: number;
}

/**
 * Normalises user-supplied keywords and recipients into the canonical form {@link
 * encodeAnnouncement} requires: keywords trimmed, NFC and de-duplicated; recipients validated,
 * lower-cased, de-duplicated and sorted. Throws SfsError USAGE naming the first bad value.
 */
export function canonicalLists(
  keywords: readonly string[],
  recipients: readonly string[],
): { keywords: string[]; recipients: string[] } {
  const words = [...new Set(keywords.map((k) => k.trim().normalize("NFC")))];
  const names = [...new Set(recipients.map((r) => validateUsername(r)))].sort();
  const problem = checkLists(words, names);
  if (problem !== undefined) throw new SfsError("USAGE", problem);
  return { keywords: words, recipients: names };
}

/** Encodes an announcement canonically; throws SfsError USAGE when a field breaks a rule. */
export function encodeAnnouncement(a: FileAnnouncement): Bytes {
  const problem = checkFields(a);
  if (problem !== undefined) throw new SfsError("USAGE", `Cannot announce: ${problem}`);
  const bytes = writeFields(a, ANNOUNCEMENT_VERSION);
  if (bytes.length > MAX_ANNOUNCEMENT_BYTES) {
    throw new SfsError(
      "USAGE",
      `Cannot announce: ${bytes.length} bytes, more than ${MAX_ANNOUNCEMENT_BYTES}`,
      { hint: "Use fewer keywords, recipients or --advertise addresses" },
    );
  }
  return bytes;
}

/**
 * Decodes announcement bytes, rejecting anything but the one canonical encoding of valid fields
 * (SfsError BAD_MESSAGE). Says nothing about who signed them: see {@link verifyAnnouncement}.
 */
export function decodeAnnouncement(bytes: Uint8Array): FileAnnouncement {
  const reader = new ByteReader(bytes, "announcement");
  if (bytes.length > MAX_ANNOUNCEMENT_BYTES) reader.fail("too large");
  const version = reader.u8();
  if (version !== ANNOUNCEMENT_VERSION && version !== ANNOUNCEMENT_VERSION_ONE_ADDRESS) {
    reader.fail(`unknown version ${version}`);
  }
  const fields = {
    fileId: reader.raw(FILE_ID_BYTES),
    owner: reader.text(USERNAME_MAX),
    ownerFingerprint: reader.raw(HASH_BYTES),
    name: reader.text(MAX_NAME_BYTES),
    size: reader.u64(),
    sha256: reader.raw(HASH_BYTES),
    keywords: reader.list(MAX_KEYWORDS, (r) => r.text(MAX_KEYWORD_BYTES)),
    recipients: reader.list(MAX_RECIPIENTS, (r) => r.text(USERNAME_MAX)),
  };
  const addresses = version === ANNOUNCEMENT_VERSION_ONE_ADDRESS
    ? [reader.text(MAX_ADDRESS_BYTES)]
    : reader.list(MAX_ADDRESSES, (r) => r.text(MAX_ADDRESS_BYTES));
  const createdAt = reader.u64();
  reader.end();
  if (addresses.length === 0) reader.fail("no address");
  const [address, ...alternates] = addresses;
  const a: FileAnnouncement = {
    ...fields,
    address,
    ...(alternates.length > 0 ? { alternates } : {}),
    createdAt,
  };
  const problem = checkFields(a);
  if (problem !== undefined) reader.fail(problem);
  // Text decoding drops a leading byte-order mark; re-encoding catches that and any other way
  // two byte strings could decode to the same fields.
  if (!constantTimeEqual(writeFields(a, version), bytes)) reader.fail("not in canonical form");
  return a;
}

/** Encodes and signs an announcement with both of the owner's signature keys. */
export async function signAnnouncement(
  identity: Identity,
  a: FileAnnouncement,
): Promise<SignedAnnouncement> {
  if (!constantTimeEqual(a.ownerFingerprint, identity.public.fingerprint)) {
    throw new SfsError("INTERNAL", "An announcement must name its signer as the owner");
  }
  const bytes = encodeAnnouncement(a);
  return { bytes, signatures: await sign(identity, LABEL.ANNOUNCEMENT_SIGNATURE, bytes, "both") };
}

/**
 * Decodes and verifies an announcement made by `owner`: the fingerprint it names must be the
 * owner's (KEY_MISMATCH), both signatures must verify (BAD_SIGNATURE) and the file id must be the
 * one §7.1 derives from owner, content and name (BAD_MESSAGE).
 */
export async function verifyAnnouncement(
  bytes: Uint8Array,
  signatures: Signatures,
  owner: PublicIdentity,
): Promise<FileAnnouncement> {
  const a = decodeAnnouncement(bytes);
  if (!constantTimeEqual(a.ownerFingerprint, owner.fingerprint)) {
    throw new SfsError(
      "KEY_MISMATCH",
      `The announcement of "${a.name}" names owner key ${
        formatFingerprint(a.ownerFingerprint)
      }, not ${formatFingerprint(owner.fingerprint)}`,
    );
  }
  await verify(owner, LABEL.ANNOUNCEMENT_SIGNATURE, bytes, signatures, "both");
  const expectedId = await fileIdOf(a.ownerFingerprint, a.sha256, a.name);
  if (!constantTimeEqual(expectedId, a.fileId)) {
    throw new SfsError("BAD_MESSAGE", `The announced file id ${toHex(a.fileId)} is not derived`);
  }
  return a;
}

/**
 * Verifies a listing from the index: imports the owner identity it carries and checks the
 * announcement against it. The caller still has to decide whether that identity really is the
 * owner's (the registered key, pinned locally).
 */
export async function verifyListing(listing: WireListing): Promise<VerifiedListing> {
  const owner = await decodePublicIdentity(listing.ownerIdentity);
  const announcement = await verifyAnnouncement(
    listing.announcement,
    listing.signatures,
    owner,
  );
  return { announcement, owner, online: listing.online, lastSeen: listing.lastSeen };
}

/** A signature set as one blob (§5 layout), the form the store keeps next to the bytes. */
export function encodeSignatureSet(signatures: Signatures): Bytes {
  const writer = new ByteWriter();
  encodeSignatures(writer, signatures);
  return writer.finish();
}

/** Parses a blob made by {@link encodeSignatureSet}; SfsError BAD_MESSAGE when malformed. */
export function decodeSignatureSet(bytes: Uint8Array): Signatures {
  const reader = new ByteReader(bytes, "signature set");
  const signatures = decodeSignatures(reader);
  reader.end();
  return signatures;
}

function writeFields(a: FileAnnouncement, version: number): Bytes {
  const writer = new ByteWriter()
    .u8(version)
    .raw(a.fileId)
    .text(a.owner)
    .raw(a.ownerFingerprint)
    .text(a.name)
    .u64(a.size)
    .raw(a.sha256)
    .list(a.keywords, (w, k) => w.text(k))
    .list(a.recipients, (w, r) => w.text(r));
  if (version === ANNOUNCEMENT_VERSION_ONE_ADDRESS) writer.text(a.address);
  else writer.list(announcedAddresses(a), (w, address) => w.text(address));
  return writer.u64(a.createdAt).finish();
}
