/** Showing index listings: verified views, the human table and the JSON form. */
import { toHex } from "../crypto/bytes.ts";
import { formatFingerprint, shortFingerprint } from "../crypto/identity.ts";
import { type VerifiedListing, verifyListing } from "../index/protocol/announcement.ts";
import type { WireListing } from "../wire/index_messages.ts";
import type { JsonValue } from "./output.ts";
import { formatBytes } from "./progress_line.ts";
import { type Column, fitTable } from "./listings_fit.ts";

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

/** Options of {@link formatListingTable}. */
export interface TableOptions {
  /**
   * Widest a line may be; names, owners and keywords are cut to fit, the fingerprint and the
   * dates go first, and the ID (what `sfs get` takes) is never cut.
   * @default {Infinity}
   */
  width?: number;
  /**
   * Add a TO column: the `--to` users, or "everyone" (`sfs ls --mine`).
   * @default {false}
   */
  sharedWith?: boolean;
}

/** The human table: a header line and one aligned line per listing. */
export function formatListingTable(
  views: readonly ListingView[],
  options: TableOptions = {},
): string[] {
  const cells = (f: (v: ListingView) => string) => views.map(f);
  const columns: Column[] = [
    { header: "ID", cells: cells((v) => v.id) },
    { header: "NAME", cells: cells((v) => v.name), min: 8, comfortable: 24, middle: true },
    { header: "SIZE", cells: cells((v) => formatBytes(v.size)) },
    { header: "OWNER", cells: cells((v) => v.owner), min: 6, comfortable: 12 },
    ...(options.sharedWith
      ? [{
        // The word of `sfs send --to`; short, as the table must fit 80 columns.
        header: "TO",
        cells: cells((v) => v.recipients.join(",") || "everyone"),
        min: 8,
        comfortable: 16,
      }]
      : []),
    { header: "FINGERPRINT", cells: cells((v) => v.shortFingerprint), dropOrder: 1 },
    { header: "ONLINE", cells: cells((v) => v.online ? "yes" : "no") },
    {
      header: "KEYWORDS",
      cells: cells((v) => v.keywords.join(",") || "-"),
      min: 8,
      comfortable: 12,
      dropOrder: 3,
    },
    { header: "SHARED SINCE", cells: cells((v) => formatTime(v.createdAt)), dropOrder: 2 },
  ];
  return fitTable(columns, options.width ?? Infinity);
}

/** `YYYY-MM-DD HH:MM` in local time: enough to tell old shares from new. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}`;
}
