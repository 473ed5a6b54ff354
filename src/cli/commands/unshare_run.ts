/** `sfs unshare ID|NAME`: withdraw one of your announcements from the index. */
import { SfsError } from "../../errors.ts";
import { type Bytes, fromHex, toHex } from "../../crypto/bytes.ts";
import type { IndexClient } from "../../index/client/client.ts";
import { canonicalUsername } from "../../index/protocol/usernames.ts";
import { FILE_ID_BYTES } from "../../wire/messages.ts";
import { loadIdentity } from "../settings/identity_file.ts";
import type { IndexTarget } from "../settings/config.ts";
import { type IndexFlags, requireIndex, withIndex } from "../index_connect.ts";
import { formatListingTable, listingJson, listingView, verifyListings } from "../listings.ts";
import type { Output } from "../output.ts";

/** Options of `sfs unshare`. */
export interface UnshareOptions extends IndexFlags {
  home: string;
  /** File id (32 hex digits) or the exact name of one of your files. */
  id: string;
}

/** Removes the listing; the file is no longer found through the index. */
export async function runUnshare(options: UnshareOptions, out: Output): Promise<void> {
  const target = await requireIndex(options.home, options);
  const identity = await loadIdentity(options.home);
  const session = { home: options.home, target, identity, flags: options, out, requireUser: true };
  const id = await withIndex(session, async (client) => {
    const fileId = await ownFileId(client, options.id.trim(), target, out);
    await client.unshare(fileId);
    return toHex(fileId);
  });
  out.event("unshared", { id, server: target.server });
  out.info(`Unshared ${id}`);
}

/**
 * The file id `what` names: itself when it is 32 hex digits, else the id of the one file of
 * yours with that exact name (as `sfs get NAME` finds files); USAGE when several match.
 */
async function ownFileId(
  client: IndexClient,
  what: string,
  target: IndexTarget,
  out: Output,
): Promise<Bytes> {
  const hex = /^[0-9a-fA-F]+$/.test(what) ? fromHex(what) : undefined;
  if (hex !== undefined && hex.length === FILE_ID_BYTES) return hex;
  const me = canonicalUsername(target.user ?? "");
  const { valid } = await verifyListings(await client.resolve(what));
  const mine = valid.filter((l) => canonicalUsername(l.announcement.owner) === me);
  if (mine.length === 0) {
    throw new SfsError("NOT_FOUND", `You share no file "${what}" on ${target.server}`, {
      hint: "sfs ls --mine shows your files and their IDs",
    });
  }
  if (mine.length > 1) {
    const views = mine.map(listingView);
    out.event("ambiguous", { matches: views.map(listingJson) });
    for (const line of formatListingTable(views)) out.info(line);
    throw new SfsError("USAGE", `${mine.length} of your files are named "${what}"`, {
      hint: "Run sfs unshare again with one of the IDs above",
    });
  }
  return mine[0].announcement.fileId;
}
