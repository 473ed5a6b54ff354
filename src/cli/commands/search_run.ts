/** `sfs search TERMS…`: full-text search of the index, shown as a table or a JSON array. */
import { SfsError } from "../../errors.ts";
import type { WireListing } from "../../wire/index_messages.ts";
import type { IndexClient } from "../../index/client/client.ts";
import { loadIdentity } from "../settings/identity_file.ts";
import { type IndexFlags, requireIndex, withIndex } from "../index_connect.ts";
import { formatListingTable, listingJson, listingView, verifyListings } from "../listings.ts";
import type { Output } from "../output.ts";

/** Options of `sfs search`. */
export interface SearchOptions extends IndexFlags {
  home: string;
  terms: string[];
  /** Most results. @default 50 */
  limit?: number;
}

/** Searches names and keywords and prints what the viewer may see. */
export async function runSearch(options: SearchOptions, out: Output): Promise<void> {
  const query = options.terms.join(" ");
  if (query.trim() === "") throw new SfsError("USAGE", "Nothing to search for");
  await showListings(options, out, (client) => client.search(query, { limit: options.limit }));
}

/**
 * Runs one listing query on the configured index and prints the verified results; shared by
 * `sfs search` and `sfs ls`.
 */
export async function showListings(
  options: { home: string } & IndexFlags,
  out: Output,
  query: (client: IndexClient) => Promise<WireListing[]>,
  requireUser = false,
): Promise<void> {
  const target = await requireIndex(options.home, options);
  const identity = await loadIdentity(options.home);
  const session = { home: options.home, target, identity, flags: options, out, requireUser };
  const listings = await withIndex(session, query);
  const { valid, invalid } = await verifyListings(listings);
  if (invalid > 0) {
    out.warn(`${invalid} listing(s) failed signature verification and are not shown`);
  }
  const views = valid.map(listingView);
  out.result(views.map(listingJson));
  if (views.length === 0) out.info("No files found");
  else {
    const table = formatListingTable(views, { width: out.resultWidth(), sharedWith: requireUser });
    for (const line of table) out.info(line);
  }
}
