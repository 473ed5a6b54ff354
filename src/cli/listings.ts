/** Showing index listings: verified views, the human table and the JSON form. */
import { toHex } from "../crypto/bytes.ts";
import { formatFingerprint, shortFingerprint } from "../crypto/identity.ts";
import { type VerifiedListing, verifyListing } from "../index/protocol/announcement.ts";
import type { WireListing } from "../wire/index_messages.ts";
import type { JsonValue } from "./output.ts";
import { formatBytes } from "./progress.ts";

/** One listing, every field from the verified announcement except the presence claims. */
export interface ListingView {
  readonly id: string;
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
  readonly owner: string;
  readonly fingerprint: string;
  /** The fingerprint's first groups, for tables. */
  readonly shortFingerprint: string;
  readonly online: boolean;
  readonly lastSeen: number;
  readonly keywords: readonly string[];
  readonly recipients: readonly string[];
  readonly address: string;
  readonly createdAt: number;
}

/** The printable view of a verified listing. */
export function listingView(listing: VerifiedListing): ListingView {
  const a = listing.announcement;
  return {
    id: toHex(a.fileId),
    name: a.name,
    size: a.size,
    sha256: toHex(a.sha256),
    owner: a.owner,
    fingerprint: formatFingerprint(a.ownerFingerprint),
    shortFingerprint: shortFingerprint(a.ownerFingerprint),
    online: listing.online,
    lastSeen: listing.lastSeen,
    keywords: a.keywords,
    recipients: a.recipients,
    address: a.address,
    createdAt: a.createdAt,
  };
}

/**
 * Verifies every listing's announcement against the owner key it came with; the ones that fail
 * are dropped and counted, since a listing that does not verify says nothing true.
 */
export async function verifyListings(
  listings: readonly WireListing[],
): Promise<{ valid: VerifiedListing[]; invalid: number }> {
  const results = await Promise.allSettled(listings.map((l) => verifyListing(l)));
  const valid: VerifiedListing[] = [];
  for (const result of results) if (result.status === "fulfilled") valid.push(result.value);
  return { valid, invalid: results.length - valid.length };
}

/** The JSON object of one listing, as `--json` prints it. */
export function listingJson(view: ListingView): JsonValue {
  return {
    id: view.id,
    name: view.name,
    size: view.size,
    sha256: view.sha256,
    owner: view.owner,
    fingerprint: view.fingerprint,
    online: view.online,
    lastSeen: new Date(view.lastSeen).toISOString(),
    keywords: [...view.keywords],
    recipients: [...view.recipients],
    address: view.address,
    sharedSince: new Date(view.createdAt).toISOString(),
  };
}

/** The human table: a header line and one aligned line per listing. */
export function formatListingTable(views: readonly ListingView[]): string[] {
  const header = [
    "ID",
    "NAME",
    "SIZE",
    "OWNER",
    "FINGERPRINT",
    "ONLINE",
    "KEYWORDS",
    "SHARED SINCE",
  ];
  const rows = views.map((v) => [
    v.id,
    v.name,
    formatBytes(v.size),
    v.owner,
    v.shortFingerprint,
    v.online ? "yes" : "no",
    v.keywords.join(",") || "-",
    formatTime(v.createdAt),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((cells) =>
    cells.map((cell, i) => i === cells.length - 1 ? cell : cell.padEnd(widths[i])).join("  ")
  );
}

/** `YYYY-MM-DD HH:MM` in local time: enough to tell old shares from new. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}`;
}
