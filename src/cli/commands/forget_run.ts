/**
 * `sfs forget NAME|SERVER`: drop a pinned key, so the next contact is a first contact again
 * (asked, or `--yes`). A SERVER is `HOST:PORT`; a NAME is a user pinned on the configured index
 * and a contact pinned by a short code (`--as NAME`, contacts.json): both are forgotten.
 */
import { SfsError } from "../../errors.ts";
import { parseServer, resolveIndex } from "../settings/config.ts";
import { findContact, removeContact } from "../settings/contacts.ts";
import { type IndexFlags, requireIndex } from "../index_connect.ts";
import type { Output } from "../output.ts";
import { confirm } from "../prompt.ts";
import { removeServerPin, removeUserPin, serverPin, userPin } from "../settings/pin_edits.ts";
import { formatHostPort } from "../../net/address.ts";

/** Options of `sfs forget`. */
export interface ForgetOptions extends IndexFlags {
  home: string;
  /** A username, or an index server as `HOST:PORT`. */
  what: string;
}

/** Forgets one pinned key after showing it and asking (unless `--yes`). */
export async function runForget(options: ForgetOptions, out: Output): Promise<void> {
  const what = options.what.trim();
  // Usernames have no ':' or '[' (PROTOCOL.md §12.3), addresses to forget always do.
  if (/[:[]/.test(what)) {
    const server = formatHostPort(parseServer(what));
    const pinned = await serverPin(options.home, server);
    if (pinned === undefined) throw notPinned(`index server ${server}`);
    await confirmed(`index server ${server}`, pinned, options);
    await removeServerPin(options.home, server);
    out.event("forgotten", { server, fingerprint: pinned });
    out.info(`Forgot the key of index server ${server} (${pinned})`);
    return;
  }
  const contact = await findContact(options.home, what);
  // A contact needs no index; a user pin is looked for only where one is configured.
  const target = contact === undefined
    ? await requireIndex(options.home, options)
    : await resolveIndex(options.home, { server: options.server });
  const pin = target && await userPin(options.home, target.server, what);
  if (pin !== undefined) {
    const subject = `"${what}" on ${target!.server}`;
    await confirmed(subject, pin.fingerprint, options);
    await removeUserPin(options.home, target!.server, pin.user);
    out.event("forgotten", {
      server: target!.server,
      user: pin.user,
      fingerprint: pin.fingerprint,
    });
    out.info(`Forgot the key of ${subject} (${pin.fingerprint})`);
  }
  if (contact !== undefined) {
    const subject = `contact "${contact.name}"`;
    await confirmed(subject, contact.fingerprint, options);
    await removeContact(options.home, contact.name);
    out.event("forgotten", { contact: contact.name, fingerprint: contact.fingerprint });
    out.info(`Forgot the key of ${subject} (${contact.fingerprint})`);
  }
  if (pin === undefined && contact === undefined) {
    throw notPinned(target === undefined ? `"${what}"` : `"${what}" on ${target.server}`);
  }
}

function notPinned(subject: string): SfsError {
  return new SfsError("NOT_FOUND", `No key is pinned for ${subject}`, {
    hint: "sfs contacts lists the pinned keys",
  });
}

async function confirmed(subject: string, pinned: string, options: { yes?: boolean }) {
  const question = `Forget the pinned key of ${subject}?\n  pinned: ${pinned}\n` +
    "The next contact will be a first contact again.";
  if (options.yes || await confirm(question)) return;
  throw new SfsError("USAGE", `Kept the pinned key of ${subject}`, {
    hint: "Run again and answer y, or pass --yes",
  });
}
