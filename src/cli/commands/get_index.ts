/**
 * `sfs get ID|NAME`: the lookup on the index, in a module of its own so that a get by ticket
 * loads neither the index client nor the listings (get_run.ts imports it when it looks up).
 */
import { SfsError } from "../../errors.ts";
import type { Identity } from "../../crypto/identity.ts";
import type { VerifiedListing } from "../../index/protocol/announcement.ts";
import { announcedAddresses } from "../../index/protocol/announcement.ts";
import { checkResolved } from "../../index/client/client.ts";
import { parseHostPort } from "../../net/address.ts";
import type { IndexTarget } from "../settings/config.ts";
import { withIndex } from "../index_connect.ts";
import { formatListingTable, listingJson, listingView, verifyListings } from "../listings.ts";
import type { Output } from "../output.ts";
import { trustUser } from "../settings/pins.ts";
import { indexRelay } from "./get_relay.ts";
import type { GetOptions, Source } from "./get_run.ts";

/**
 * Finds exactly one listing for `what`, checks its signature and its owner's key pin, and says
 * where to fetch it from.
 */
export async function resolveThroughIndex(
  identity: Identity,
  target: IndexTarget,
  what: string,
  options: GetOptions,
  out: Output,
): Promise<Source> {
  const session = { home: options.home, target, identity, flags: options, out };
  const listings = await withIndex(session, (client) => client.resolve(what));
  const { valid, invalid } = await verifyListings(listings);
  if (invalid > 0) {
    // A listing the owner did not sign as shown: the index, or its database, is lying.
    throw new SfsError(
      "BAD_SIGNATURE",
      `The index returned ${invalid} listing(s) for "${what}" whose owner signature does not verify`,
      { hint: "The index server or its database may be compromised; nothing was downloaded" },
    );
  }
  checkResolved(what, valid.map((l) => l.announcement));
  if (valid.length === 0) {
    throw new SfsError("NOT_FOUND", `No file "${what}" is visible to you on ${target.server}`, {
      hint: "Search with sfs search, and use the ID it shows",
    });
  }
  if (valid.length > 1) {
    const views = valid.map(listingView);
    out.event("ambiguous", { matches: views.map(listingJson) });
    for (const line of formatListingTable(views, { width: out.resultWidth() })) out.info(line);
    throw new SfsError("USAGE", `${valid.length} files are named "${what}"`, {
      hint: "Run sfs get again with one of the IDs above",
    });
  }
  return await sourceOf(valid[0], target, options, out);
}

async function sourceOf(
  listing: VerifiedListing,
  target: IndexTarget,
  options: GetOptions,
  out: Output,
): Promise<Source> {
  const a = listing.announcement;
  // The announcement verified against the key the index says is the owner's; the pin decides
  // whether that really is the owner's key.
  await trustUser(options.home, target.server, a.owner, a.ownerFingerprint, {
    yes: options.yes,
    out,
  });
  if (!listing.online) {
    throw new SfsError(
      "CONNECTION_FAILED",
      `"${a.name}" is offline: ${a.owner} last shared it ${
        new Date(listing.lastSeen).toISOString()
      }`,
      { hint: `Ask ${a.owner} to run sfs send again` },
    );
  }
  const view = listingView(listing);
  const addresses = announcedAddresses(a);
  out.note(
    `Fetching "${a.name}" from ${a.owner} (${view.fingerprint}) at ${addresses.join(", ")}`,
  );
  return {
    candidates: addresses.map((x) => parseHostPort(x, "The listing's address")),
    // Through the index: no token, the relay checks the listing against the same account.
    relay: indexRelay({ home: options.home, flags: options, out }, target, a.fileId),
    fileId: a.fileId,
    fingerprint: a.ownerFingerprint,
    extra: { id: view.id, owner: a.owner },
    listing: { name: a.name, size: a.size, sha256: a.sha256 },
  };
}
