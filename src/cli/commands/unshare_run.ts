/** `sfs unshare ID`: withdraw one of your announcements from the index. */
import { SfsError } from "../../errors.ts";
import { fromHex } from "../../crypto/bytes.ts";
import { FILE_ID_BYTES } from "../../wire/messages.ts";
import { loadIdentity } from "../settings/identity_file.ts";
import { type IndexFlags, requireIndex, withIndex } from "../index_connect.ts";
import type { Output } from "../output.ts";

/** Options of `sfs unshare`. */
export interface UnshareOptions extends IndexFlags {
  home: string;
  /** File id, 32 hex digits. */
  id: string;
}

/** Removes the listing; the file is no longer found through the index. */
export async function runUnshare(options: UnshareOptions, out: Output): Promise<void> {
  const fileId = fromHex(options.id.trim());
  if (fileId === undefined || fileId.length !== FILE_ID_BYTES) {
    throw new SfsError("USAGE", `Not a file id: "${options.id.slice(0, 64)}"`, {
      hint: "A file id is 32 hex digits, as sfs ls --mine shows",
    });
  }
  const target = await requireIndex(options.home, options);
  const identity = await loadIdentity(options.home);
  const session = { home: options.home, target, identity, flags: options, out, requireUser: true };
  await withIndex(session, (client) => client.unshare(fileId));
  const id = options.id.trim().toLowerCase();
  out.event("unshared", { id, server: target.server });
  out.info(`Unshared ${id}`);
}
