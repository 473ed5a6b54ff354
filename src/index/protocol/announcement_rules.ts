/**
 * The rules an announcement's fields obey (docs/PROTOCOL.md §12.5): what makes them valid and
 * canonical, so that one set of fields has exactly one encoding. announcement.ts encodes and
 * decodes through them; the store checks names, keywords and addresses with them too.
 *
 * Pure: no I/O.
 */
import { FILE_ID_BYTES } from "../../wire/messages.ts";
import { tryParseHostPort } from "../../net/address.ts";
import {
  MAX_ADDRESS_BYTES,
  MAX_ADDRESSES,
  MAX_KEYWORD_BYTES,
  MAX_KEYWORDS,
  MAX_NAME_BYTES,
  MAX_RECIPIENTS,
} from "./limits.ts";
import { isCanonicalUsername } from "./usernames.ts";
import type { FileAnnouncement } from "./announcement.ts";

/** Bytes of a SHA-256 value or fingerprint. */
export const HASH_BYTES = 32;
// §12.5: C0, DEL and C1 controls and the bidi overrides and isolates. Names and keywords reach
// other people's terminals, where these could disguise what is shown. This is narrower than
// src/text.ts's display-safe text (which also refuses U+061C, U+200E, U+200F, U+2028, U+2029);
// adopting that here changes §12.5, so it waits for the spec (see the restructure issue, point 3).
const UNSAFE_TEXT_RE = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;
const encoder = new TextEncoder();

/** Every address of an announcement, the first one first. */
export function announcedAddresses(a: FileAnnouncement): string[] {
  return [a.address, ...(a.alternates ?? [])];
}

/** Returns what is wrong with the fields, or undefined when they are valid and canonical. */
export function checkFields(a: FileAnnouncement): string | undefined {
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

export function checkLists(
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
