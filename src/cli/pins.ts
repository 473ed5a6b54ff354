/**
 * Trust on first use, like SSH's known_hosts: `SFS_HOME/known_servers.json` pins each index
 * server's fingerprint per `HOST:PORT`, and `SFS_HOME/known_users.json` pins each user's key per
 * server. A first contact is accepted only when the person agrees (`--yes`, an explicit
 * fingerprint, or a y/N prompt on a terminal); a changed key is always refused.
 */
import { join } from "node:path";
import { SfsError } from "../errors.ts";
import { constantTimeEqual } from "../crypto/bytes.ts";
import { formatFingerprint, parseFingerprint } from "../crypto/identity.ts";
import { ensureHome } from "./identity_file.ts";
import { writeFileAtomic } from "../fs.ts";
import type { Output } from "./output.ts";
import { confirm } from "./prompt.ts";

/** Pinned index server keys. */
export const KNOWN_SERVERS_FILE = "known_servers.json";
/** Pinned user keys, per server. */
export const KNOWN_USERS_FILE = "known_users.json";

/** How a first contact may be accepted. */
export interface TrustOptions {
  /** Accept a first contact without asking (`--yes`). @default false */
  yes?: boolean;
  /** Where warnings go. */
  out: Output;
  /**
   * Asks the person; false when nobody can answer.
   * @default {prompt.ts confirm on the terminal}
   */
  ask?: (question: string) => Promise<boolean>;
}

interface ServersFile {
  version: 1;
  servers: Record<string, string>;
}

interface UsersFile {
  version: 1;
  users: Record<string, Record<string, string>>;
}

/**
 * Decides whether to trust the index server `server` presenting `fingerprint`. Returns true when
 * the key is new and accepted (the caller pins it once the handshake completes, see {@link
 * pinServer}), false when it was already pinned. Throws KEY_MISMATCH for a changed key or one that
 * differs from `expected`, and USAGE when a new key cannot be confirmed.
 */
export async function trustServer(
  home: string,
  server: string,
  fingerprint: Uint8Array,
  options: TrustOptions & { expected?: string },
): Promise<boolean> {
  const shown = formatFingerprint(fingerprint);
  const pinned = (await readServers(home)).servers[server];
  if (pinned !== undefined) {
    if (sameFingerprint(pinned, fingerprint)) return false;
    options.out.warn(
      `THE KEY OF INDEX SERVER ${server} HAS CHANGED!\n` +
        `  pinned:    ${pinned}\n  presented: ${shown}\n` +
        "Someone could be impersonating the server, or its operator replaced its key.",
    );
    throw new SfsError(
      "KEY_MISMATCH",
      `Index server ${server} presented key ${shown}, but ${pinned} is pinned`,
      {
        hint: `If the operator confirms the new key, delete the "${server}" entry from ` +
          `${join(home, KNOWN_SERVERS_FILE)}`,
      },
    );
  }
  if (options.expected !== undefined) {
    if (constantTimeEqual(parseFingerprint(options.expected), fingerprint)) return true;
    throw new SfsError(
      "KEY_MISMATCH",
      `Index server ${server} presented key ${shown}, not the expected ${
        formatFingerprint(parseFingerprint(options.expected))
      }`,
      { hint: "Check the fingerprint with the server's operator" },
    );
  }
  const question =
    `Index server ${server} is new to this machine. Its fingerprint is\n  ${shown}\n` +
    "Trust it from now on?";
  if (options.yes || await (options.ask ?? confirm)(question)) return true;
  throw new SfsError("USAGE", `Index server ${server} is not known yet (fingerprint ${shown})`, {
    hint:
      `Check the fingerprint with the server's operator, then pass --server-fingerprint ${shown}` +
      " (or --yes to accept it as is)",
  });
}

/** Records the server's fingerprint (after the handshake proved the server holds the key). */
export async function pinServer(
  home: string,
  server: string,
  fingerprint: Uint8Array,
): Promise<void> {
  const file = await readServers(home);
  file.servers[server] = formatFingerprint(fingerprint);
  await ensureHome(home);
  await writeFileAtomic(join(home, KNOWN_SERVERS_FILE), JSON.stringify(file, null, 2) + "\n");
}

/**
 * Checks `username`'s key on `server` against the local pin: pins a first contact when it may be
 * accepted (see {@link TrustOptions}); throws KEY_MISMATCH for a changed key and USAGE for an
 * unconfirmed first contact.
 */
export async function trustUser(
  home: string,
  server: string,
  username: string,
  fingerprint: Uint8Array,
  options: TrustOptions,
): Promise<void> {
  const shown = formatFingerprint(fingerprint);
  const file = await readUsers(home);
  const pinned = file.users[server]?.[username];
  if (pinned !== undefined) {
    if (sameFingerprint(pinned, fingerprint)) return;
    options.out.warn(
      `THE KEY OF USER "${username}" ON ${server} HAS CHANGED!\n` +
        `  pinned:    ${pinned}\n  presented: ${shown}\n` +
        "The user may have new keys, or the index server may be lying about them.",
    );
    throw new SfsError(
      "KEY_MISMATCH",
      `User "${username}" on ${server} now has key ${shown}, but ${pinned} is pinned`,
      {
        hint:
          `Confirm the new fingerprint with ${username} in person, then delete the entry from ` +
          join(home, KNOWN_USERS_FILE),
      },
    );
  }
  const question =
    `First contact with "${username}" on ${server}. Their fingerprint is\n  ${shown}\n` +
    "Trust this key for them from now on?";
  if (!options.yes && !await (options.ask ?? confirm)(question)) {
    throw new SfsError(
      "USAGE",
      `"${username}" on ${server} is a first contact (fingerprint ${shown})`,
      { hint: `Check the fingerprint with ${username}, then run again with --yes to trust it` },
    );
  }
  (file.users[server] ??= {})[username] = shown;
  await ensureHome(home);
  await writeFileAtomic(join(home, KNOWN_USERS_FILE), JSON.stringify(file, null, 2) + "\n");
}

function sameFingerprint(pinned: string, fingerprint: Uint8Array): boolean {
  try {
    return constantTimeEqual(parseFingerprint(pinned), fingerprint);
  } catch {
    return false;
  }
}

async function readServers(home: string): Promise<ServersFile> {
  const value = await readJson(join(home, KNOWN_SERVERS_FILE));
  const servers = value?.servers;
  if (value === undefined) return { version: 1, servers: {} };
  if (!isStringMap(servers)) throw malformed(KNOWN_SERVERS_FILE, home);
  return { version: 1, servers: servers as Record<string, string> };
}

async function readUsers(home: string): Promise<UsersFile> {
  const value = await readJson(join(home, KNOWN_USERS_FILE));
  if (value === undefined) return { version: 1, users: {} };
  const users = value.users;
  if (
    typeof users !== "object" || users === null || Array.isArray(users) ||
    !Object.values(users).every(isStringMap)
  ) {
    throw malformed(KNOWN_USERS_FILE, home);
  }
  return { version: 1, users: users as Record<string, Record<string, string>> };
}

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // Reported below.
  }
  return {};
}

function isStringMap(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "string");
}

function malformed(file: string, home: string): SfsError {
  // Refusing beats guessing: silently starting over would drop every pin and re-trust anyone.
  return new SfsError("USAGE", `"${join(home, file)}" is malformed`, {
    hint: "Fix it by hand; deleting it forgets every pinned key",
  });
}
