/**
 * Contacts met through a short code (docs/PROTOCOL.md §14.4): `SFS_HOME/contacts.json` pins a
 * peer's key under a name the person chose (`--as NAME`), for peers without an index username
 * (a receiver usually has no account). A sender's index username, when the index confirms it, is
 * pinned in known_users.json instead (settings/pins.ts), where `sfs get ID` looks.
 *
 * Like every pin: a changed key is refused (KEY_MISMATCH), never overwritten, and each write is
 * one locked read-modify-write, so concurrent sfs processes keep each other's contacts.
 */
import { join } from "../../path.ts";
import { SfsError } from "../../errors.ts";
import { constantTimeEqual } from "../../crypto/bytes.ts";
import { formatFingerprint, parseFingerprint } from "../../crypto/identity.ts";
import { validateUsername } from "../../index/protocol/usernames.ts";
import { isJsonObject, type JsonFormat, readJsonFile } from "./json_file.ts";
import { updatePins } from "./pins.ts";

/** Contacts pinned by name. */
export const CONTACTS_FILE = "contacts.json";

/** A contact: a name the person chose and the key it stands for. */
export interface Contact {
  readonly name: string;
  readonly fingerprint: string;
  /** The index server `HOST:PORT` the code went through. */
  readonly server: string;
}

type Contacts = Map<string, Contact>;

/** contacts.json: `{"version": 1, "contacts": {NAME: {"fingerprint": FP, "server": HOST:PORT}}}`. */
const CONTACTS_FORMAT: JsonFormat<Contacts> = {
  parse(value, path) {
    const contacts = isJsonObject(value) ? value.contacts : undefined;
    if (!isJsonObject(contacts)) throw malformed(path);
    const result: Contacts = new Map();
    for (const [name, entry] of Object.entries(contacts)) {
      if (
        !isJsonObject(entry) || typeof entry.fingerprint !== "string" ||
        typeof entry.server !== "string"
      ) throw malformed(path);
      result.set(name, { name, fingerprint: entry.fingerprint, server: entry.server });
    }
    return result;
  },
  empty: () => new Map(),
};

/**
 * Checks a `--as NAME` given on the command line (a name shown in tables: the username rules)
 * and returns its canonical form; USAGE when invalid.
 */
export function contactName(name: string): string {
  return validateUsername(name);
}

/**
 * Pins `fingerprint` under `name`. Returns false when exactly that was pinned already; throws
 * KEY_MISMATCH when `name` stands for another key (a contact's key never changes silently).
 */
export async function pinContact(
  home: string,
  name: string,
  fingerprint: Uint8Array,
  server: string,
): Promise<boolean> {
  const key = contactName(name);
  const shown = formatFingerprint(fingerprint);
  let added = false;
  await updatePins(home, CONTACTS_FILE, CONTACTS_FORMAT, (contacts) => {
    const now = contacts.get(key);
    if (now !== undefined) {
      if (sameFingerprint(now.fingerprint, fingerprint)) return undefined;
      throw new SfsError(
        "KEY_MISMATCH",
        `Contact "${key}" is pinned with key ${now.fingerprint}, not ${shown}`,
        { hint: `Choose another name with --as, or sfs forget the old contact first` },
      );
    }
    contacts.set(key, { name: key, fingerprint: shown, server });
    added = true;
    return contactsJson(contacts);
  });
  return added;
}

/** The contact pinned as `name` (any case), if any; a name no contact could have has none. */
export async function findContact(home: string, name: string): Promise<Contact | undefined> {
  const key = canonicalOrUndefined(name);
  if (key === undefined) return undefined;
  return (await readJsonFile(join(home, CONTACTS_FILE), CONTACTS_FORMAT)).get(key);
}

/** Removes the contact `name` (`sfs forget`); false when there was none. */
export async function removeContact(home: string, name: string): Promise<boolean> {
  const key = canonicalOrUndefined(name);
  if (key === undefined) return false;
  let removed = false;
  await updatePins(home, CONTACTS_FILE, CONTACTS_FORMAT, (contacts) => {
    if (!contacts.delete(key)) return undefined;
    removed = true;
    return contactsJson(contacts);
  });
  return removed;
}

/** contacts.json's content for `contacts`. */
function contactsJson(contacts: Contacts) {
  return {
    version: 1,
    contacts: Object.fromEntries(
      [...contacts].map(([n, c]) => [n, { fingerprint: c.fingerprint, server: c.server }]),
    ),
  };
}

function canonicalOrUndefined(name: string): string | undefined {
  try {
    return contactName(name);
  } catch {
    return undefined;
  }
}

/** Every contact in `home`, sorted by name. */
export async function readContacts(home: string): Promise<Contact[]> {
  const contacts = await readJsonFile(join(home, CONTACTS_FILE), CONTACTS_FORMAT);
  return [...contacts.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function sameFingerprint(pinned: string, fingerprint: Uint8Array): boolean {
  try {
    return constantTimeEqual(parseFingerprint(pinned), fingerprint);
  } catch {
    return false;
  }
}

function malformed(path: string): SfsError {
  return new SfsError("USAGE", `"${path}" is malformed`, {
    hint: "Fix it by hand; deleting it forgets every contact",
  });
}
