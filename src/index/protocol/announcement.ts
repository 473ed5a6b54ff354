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
import { tryParseHostPort } from "../../net/address.ts";
import {
  MAX_ADDRESS_BYTES,
  MAX_ADDRESSES,
  MAX_KEYWORD_BYTES,
  MAX_KEYWORDS,
  MAX_NAME_BYTES,
  MAX_RECIPIENTS,
  USERNAME_MAX,
} from "./limits.ts";
import { isCanonicalUsername, validateUsername } from "./usernames.ts";

/** Version byte of the announcement encoding written today (a list of addresses). */
export const ANNOUNCEMENT_VERSION = 2;
/** The earlier version with a single address, still read: listings stored before remain valid. */
const ANNOUNCEMENT_VERSION_ONE_ADDRESS = 1;
/** Bytes of a SHA-256 value or fingerprint. */
const HASH_BYTES = 32;
// §12.5: C0, DEL and C1 controls and the bidi overrides and isolates. Names and keywords reach
// other people's terminals, where these could disguise what is shown. This is narrower than
// src/text.ts's display-safe text (which also refuses U+061C, U+200E, U+200F, U+2028, U+2029);
// adopting that here changes §12.5, so it waits for the spec (see the restructure issue, point 3).
const UNSAFE_TEXT_RE = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;
const encoder = new TextEncoder();

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

/** Every address of an announcement, the first one first. */
export function announcedAddresses(a: FileAnnouncement): string[] {
  return [a.address, ...(a.alternates ?? [])];
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

/** Returns what is wrong with the fields, or undefined when they are valid and canonical. */
function checkFields(a: FileAnnouncement): string | undefined {
  if (a.fileId.length !== FILE_ID_BYTES) return "file id must be 16 bytes";
  if (!isCanonicalUsername(a.owner)) return "owner must be a canonical username";
  if (a.ownerFingerprint.length !== HASH_BYTES) return "owner fingerprint must be 32 bytes";
  if (!isAnnouncedName(a.name)) {
    return `name must be 1 to ${MAX_NAME_BYTES} bytes without control characters`;
  }
  if (!Number.isSafeInteger(a.size) || a.size < 0) return "size must be a non-negative integer";
  if (a.sha256.length !== HASH_BYTES) return "SHA-256 must be 32 bytes";
  const lists = checkLists(a.keywords, a.recipients);
  if (lists !== undefined) return lists;
  const addresses = announcedAddresses(a);
  if (addresses.length > MAX_ADDRESSES) return `at most ${MAX_ADDRESSES} addresses`;
  for (const address of addresses) {
    if (!isPeerAddress(address)) return `address must be HOST:PORT, got "${address.slice(0, 64)}"`;
  }
  // Distinct, so that no list has two spellings of one candidate set and no dial is doubled.
  if (new Set(addresses.map((x) => x.toLowerCase())).size !== addresses.length) {
    return "an address appears twice";
  }
  if (!Number.isSafeInteger(a.createdAt) || a.createdAt < 0) return "bad creation time";
  return undefined;
}

function checkLists(
  keywords: readonly string[],
  recipients: readonly string[],
): string | undefined {
  if (keywords.length > MAX_KEYWORDS) return `at most ${MAX_KEYWORDS} keywords`;
  const seen = new Set<string>();
  for (const keyword of keywords) {
    if (!isKeyword(keyword) || keyword !== keyword.normalize("NFC")) {
      return `keyword "${keyword.slice(0, 64)}" must be 1 to ${MAX_KEYWORD_BYTES} bytes of ` +
        "NFC text without control characters";
    }
    if (keyword.trim() !== keyword) return `keyword "${keyword}" has surrounding spaces`;
    if (seen.has(keyword)) return `keyword "${keyword}" appears twice`;
    seen.add(keyword);
  }
  if (recipients.length > MAX_RECIPIENTS) return `at most ${MAX_RECIPIENTS} recipients`;
  for (let i = 0; i < recipients.length; i++) {
    if (!isCanonicalUsername(recipients[i])) return "recipients must be canonical usernames";
    // Strictly ascending: one order, no duplicates, so one set has one encoding.
    if (i > 0 && recipients[i - 1] >= recipients[i]) return "recipients must be sorted and unique";
  }
  return undefined;
}

/**
 * True for a file name an announcement may carry (§12.5): 1 to {@link MAX_NAME_BYTES} bytes of
 * well-formed text without controls or bidi overrides, since it reaches other people's terminals.
 */
export function isAnnouncedName(name: string): boolean {
  return isBoundedSafeText(name, MAX_NAME_BYTES);
}

/** True for one keyword (§12.5): 1 to {@link MAX_KEYWORD_BYTES} bytes, as safe as a name. */
export function isKeyword(keyword: string): boolean {
  return isBoundedSafeText(keyword, MAX_KEYWORD_BYTES);
}

/**
 * True for a peer address (§10, §12.5): `HOST:PORT` exactly as net/address.ts parses it (a DNS
 * name, IPv4 or bracketed IPv6, a port), at most {@link MAX_ADDRESS_BYTES} bytes.
 */
export function isPeerAddress(address: string): boolean {
  return typeof tryParseHostPort(address) !== "string" &&
    encoder.encode(address).length <= MAX_ADDRESS_BYTES;
}

function isBoundedSafeText(value: string, maxBytes: number): boolean {
  return value.length > 0 && value.isWellFormed() && !UNSAFE_TEXT_RE.test(value) &&
    encoder.encode(value).length <= maxBytes;
}
