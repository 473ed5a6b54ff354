/**
 * How `sfs send` tells that its share is ready (send_run.ts): the `ready` event, then the
 * tickets or ids and a note on how receivers get the files.
 */
import { toHex } from "../../crypto/bytes.ts";
import { formatFingerprint } from "../../crypto/identity.ts";
import type { Shared } from "../../peer/sender.ts";
import { formatHostPort } from "../../net/address.ts";
import type { JsonValue, Output } from "../output.ts";
import type { Announced } from "./send_announce.ts";
import type { CodeOffer } from "./send_code.ts";
import { type Share, ticketOf } from "./send_share.ts";

/** Where the share was announced, to whom, and the code it is offered under, if any. */
export interface ReadyIndex {
  announced?: Announced;
  /** The `--to` users in canonical form (empty: everyone). */
  recipients: string[];
  offer?: CodeOffer;
}

/** Prints the `ready` event, then the tickets or ids and how receivers get the files. */
export function reportReady(out: Output, share: Share, list: Shared[], index: ReadyIndex): void {
  const { announced, recipients } = index;
  out.event("ready", readyEvent(share, list, index));
  // With a code, the code is what the person passes on (send_code.ts prints it).
  if (index.offer !== undefined) return;
  const bound = share.listener.addr as Deno.NetAddr;
  const serving = formatHostPort({ host: bound.hostname, port: bound.port });
  if (announced !== undefined) {
    // The ticket too: it works without the index, for receivers not on it or while it is down
    // (and through the relay, when the index offers one).
    for (const f of list) out.info(`${toHex(f.id)}  ${f.name}  ${ticketOf(share, f, announced)}`);
    if (!announced.online) {
      out.note(`Serving on ${serving}; give receivers a ticket above. Ctrl-C stops.`);
      return;
    }
    out.note(
      `Shared ${
        list.map(describe).join(", ")
      } on ${announced.target.server} as "${announced.user}"` +
        (recipients.length > 0 ? `, visible to ${recipients.join(", ")} only` : "") +
        `; receivers run: sfs get ID (or the ticket). Serving on ${serving}. Ctrl-C stops.`,
    );
  } else {
    for (const f of list) out.info(ticketOf(share, f));
    out.note(
      `Sharing ${list.map(describe).join(", ")} on ${serving}` +
        "; give the receiver the ticket above. Ctrl-C stops.",
    );
  }
}

/** How the note names a share: `"a.txt" (5 bytes)`, `folder "x" (3 files, 9 bytes)`. */
function describe(shared: Shared): string {
  if (shared.kind === "file") return `"${shared.name}" (${shared.size} bytes)`;
  const files = `${shared.files} file${shared.files === 1 ? "" : "s"}`;
  return `folder "${shared.name}" (${files}, ${shared.size} bytes)`;
}

/** The `ready` event's fields: the first file as always, and every file when there are more. */
function readyEvent(
  share: Share,
  list: Shared[],
  index: ReadyIndex,
): Record<string, JsonValue | undefined> {
  const bound = share.listener.addr as Deno.NetAddr;
  const first = list[0];
  const ready: Record<string, JsonValue | undefined> = {
    ticket: ticketOf(share, first, index.announced),
    port: bound.port,
    host: bound.hostname,
    fingerprint: formatFingerprint(share.identity.public.fingerprint),
    id: toHex(first.id),
    name: first.name,
    size: first.size,
    sha256: toHex(first.sha256),
  };
  if (first.kind === "tree") {
    // For a tree `sha256` is the manifest hash, as in its listing (§7.7).
    ready.kind = "tree";
    ready.manifest_hash = toHex(first.manifestHash);
    ready.file_count = first.files;
    ready.entries = first.entries;
  }
  const { announced, recipients } = index;
  // Direct mode with one file keeps exactly the event it always had.
  if (announced !== undefined || list.length > 1) {
    ready.ids = list.map((f) => toHex(f.id));
    ready.files = list.map((f) => ({
      id: toHex(f.id),
      name: f.name,
      size: f.size,
      sha256: toHex(f.sha256),
      ticket: ticketOf(share, f, announced),
    }));
  }
  if (announced !== undefined) {
    ready.server = announced.target.server;
    ready.user = announced.user || undefined; // empty: a code's sender without an account
    ready.to = recipients.length > 0 ? recipients : undefined;
  }
  if (index.offer !== undefined) {
    ready.code = index.offer.code;
    ready.code_expires_at = new Date(index.offer.expiresAt).toISOString();
  }
  return ready;
}
