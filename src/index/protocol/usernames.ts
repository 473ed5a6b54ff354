/**
 * Usernames (docs/PROTOCOL.md §12.3): 3 to 32 characters from `a–z 0–9 . _ -`, starting with a
 * letter or digit, compared after NFC and lower-casing. That lower-case form is the canonical
 * username: accounts are unique in it, announcements and pins name users by it.
 *
 * Pure: no I/O. Client and server apply the same rule, so a name the client accepts is one the
 * server accepts.
 */
import { SfsError } from "../../errors.ts";
import { USERNAME_MAX, USERNAME_MIN } from "./limits.ts";

const USERNAME_RE = /^[a-z0-9][a-z0-9._-]*$/;

/** The canonical (lower-case) form of a valid username, or undefined for an invalid one. */
export function canonicalUsername(name: string): string | undefined {
  const key = name.normalize("NFC").toLowerCase();
  return key.length >= USERNAME_MIN && key.length <= USERNAME_MAX && USERNAME_RE.test(key)
    ? key
    : undefined;
}

/**
 * Checks a username typed by a person and returns its canonical key (lower case). Throws
 * SfsError USAGE, the code §12.3 gives an invalid username: the name always starts with someone
 * typing it, and the server turns any SfsError into a rejection of the request anyway.
 */
export function validateUsername(name: string): string {
  const key = canonicalUsername(name);
  if (key === undefined) {
    throw new SfsError(
      "USAGE",
      // The name is echoed only when plain printable ASCII: this text may reach a log or a
      // terminal, and the name may come from anyone.
      `Invalid username${
        /^[\x20-\x7e]{1,64}$/.test(name) ? ` "${name}"` : ""
      }: use ${USERNAME_MIN} to ${USERNAME_MAX} ` +
        "letters, digits, '.', '_' or '-', starting with a letter or digit",
    );
  }
  return key;
}

/** True when `name` is a username in canonical form already. */
export function isCanonicalUsername(name: string): boolean {
  return canonicalUsername(name) === name;
}
