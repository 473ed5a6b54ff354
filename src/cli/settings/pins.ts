/**
 * Trust on first use, like SSH's known_hosts: `SFS_HOME/known_servers.json` pins each index
 * server's fingerprint per `HOST:PORT`, and `SFS_HOME/known_users.json` pins each user's key per
 * server. A first contact is accepted only when the person agrees (`--yes`, an explicit
 * fingerprint, or a y/N prompt on a terminal); a changed key is always refused.
 *
 * Names in these files come from servers and other people, so they are held in `Map`s, never
 * looked up on plain objects (a user named `constructor` would find `Object`). Several sfs
 * processes may pin at once: each write takes an exclusive lock on `FILE.lock`, re-reads the
 * file, re-checks, and replaces it atomically, so no process overwrites another's pins.
 */
import { join } from "../../path.ts";
import { SfsError } from "../../errors.ts";
import { constantTimeEqual } from "../../crypto/bytes.ts";
import { formatFingerprint, parseFingerprint } from "../../crypto/identity.ts";
import { ensureHome } from "./identity_file.ts";
import { isJsonObject, type JsonFormat, readJsonFile, updateJsonFile } from "./json_file.ts";
import type { Output } from "../output.ts";
import { confirm } from "../prompt.ts";

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

/** Server `HOST:PORT` → pinned fingerprint. */
export type ServerPins = Map<string, string>;
/** Server `HOST:PORT` → username → pinned fingerprint. */
export type UserPins = Map<string, Map<string, string>>;

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
  const pinned = (await readServers(home)).get(server);
  if (pinned !== undefined) {
    if (sameFingerprint(pinned, fingerprint)) return false;
    throw serverChanged(home, { server, pinned, shown }, options.out);
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

/**
 * Records the server's fingerprint (after the handshake proved the server holds the key). Throws
 * KEY_MISMATCH when another process pinned a different key for `server` in the meantime.
 */
export async function pinServer(
  home: string,
  server: string,
  fingerprint: Uint8Array,
  options: { out?: Output } = {},
): Promise<void> {
  const shown = formatFingerprint(fingerprint);
  await updatePins(home, KNOWN_SERVERS_FILE, SERVERS_FORMAT, (servers) => {
    const pinned = servers.get(server);
    if (pinned !== undefined) {
      if (sameFingerprint(pinned, fingerprint)) return undefined;
      throw serverChanged(home, { server, pinned, shown }, options.out);
    }
    servers.set(server, shown);
    return { version: 1, servers: Object.fromEntries(servers) };
  });
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
  const pinned = (await readUsers(home)).get(server)?.get(username);
  if (pinned !== undefined) {
    if (sameFingerprint(pinned, fingerprint)) return;
    throw userChanged(home, { server, username, pinned, shown }, options.out);
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
  // The question was asked without the lock (a person may take minutes to answer); check again
  // under it, so a key another process pinned meanwhile is neither lost nor overwritten.
  await updatePins(home, KNOWN_USERS_FILE, USERS_FORMAT, (users) => {
    const forServer = users.get(server) ?? new Map<string, string>();
    const now = forServer.get(username);
    if (now !== undefined) {
      if (sameFingerprint(now, fingerprint)) return undefined;
      throw userChanged(home, { server, username, pinned: now, shown }, options.out);
    }
    users.set(server, forServer.set(username, shown));
    const plain = Object.fromEntries([...users].map(([s, m]) => [s, Object.fromEntries(m)]));
    return { version: 1, users: plain };
  });
}

/** Warns about a changed server key and returns the KEY_MISMATCH to throw. */
function serverChanged(
  home: string,
  pin: { server: string; pinned: string; shown: string },
  out: Output | undefined,
): SfsError {
  const { server, pinned, shown } = pin;
  out?.warn(
    `THE KEY OF INDEX SERVER ${server} HAS CHANGED!\n` +
      `  pinned:    ${pinned}\n  presented: ${shown}\n` +
      "Someone could be impersonating the server, or its operator replaced its key.",
  );
  return new SfsError(
    "KEY_MISMATCH",
    `Index server ${server} presented key ${shown}, but ${pinned} is pinned`,
    {
      hint: `If the operator confirms the new key, run sfs trust ${shown} --server ${server} ` +
        `(it replaces the pin in ${join(home, KNOWN_SERVERS_FILE)})`,
    },
  );
}

/** Warns about a changed user key and returns the KEY_MISMATCH to throw. */
function userChanged(
  home: string,
  pin: { server: string; username: string; pinned: string; shown: string },
  out: Output | undefined,
): SfsError {
  const { server, username, pinned, shown } = pin;
  out?.warn(
    `THE KEY OF USER "${username}" ON ${server} HAS CHANGED!\n` +
      `  pinned:    ${pinned}\n  presented: ${shown}\n` +
      "The user may have new keys, or the index server may be lying about them.",
  );
  return new SfsError(
    "KEY_MISMATCH",
    `User "${username}" on ${server} now has key ${shown}, but ${pinned} is pinned`,
    {
      hint: `Confirm the new fingerprint with ${username} in person, then run sfs trust ` +
        `${username} --server ${server} (it replaces the pin in ${join(home, KNOWN_USERS_FILE)})`,
    },
  );
}

/**
 * Runs one read-modify-write of the pin file `file` under its lock (see {@link updateJsonFile}),
 * so that no process overwrites another's pins.
 */
export async function updatePins<T>(
  home: string,
  file: string,
  format: JsonFormat<T>,
  update: (pins: T) => unknown,
): Promise<void> {
  await ensureHome(home);
  await updateJsonFile(join(home, file), format, update);
}

function sameFingerprint(pinned: string, fingerprint: Uint8Array): boolean {
  try {
    return constantTimeEqual(parseFingerprint(pinned), fingerprint);
  } catch {
    return false;
  }
}

/** known_servers.json: `{"version": 1, "servers": {HOST:PORT: fingerprint}}`. */
export const SERVERS_FORMAT: JsonFormat<ServerPins> = {
  parse(value, path) {
    const servers = isJsonObject(value) ? stringMap(value.servers) : undefined;
    if (servers === undefined) throw malformed(path);
    return servers;
  },
  empty: () => new Map(),
};

/** known_users.json: `{"version": 1, "users": {HOST:PORT: {username: fingerprint}}}`. */
export const USERS_FORMAT: JsonFormat<UserPins> = {
  parse(value, path) {
    const users = isJsonObject(value) ? value.users : undefined;
    if (!isJsonObject(users)) throw malformed(path);
    const result: UserPins = new Map();
    for (const [server, pins] of Object.entries(users)) {
      const map = stringMap(pins);
      if (map === undefined) throw malformed(path);
      result.set(server, map);
    }
    return result;
  },
  empty: () => new Map(),
};

/** The pinned server keys in `home`. */
export function readServers(home: string): Promise<ServerPins> {
  return readJsonFile(join(home, KNOWN_SERVERS_FILE), SERVERS_FORMAT);
}

/** The pinned user keys in `home`, per server. */
export function readUsers(home: string): Promise<UserPins> {
  return readJsonFile(join(home, KNOWN_USERS_FILE), USERS_FORMAT);
}

/** The own string properties of a JSON object as a Map; undefined for anything else. */
function stringMap(value: unknown): Map<string, string> | undefined {
  if (!isJsonObject(value)) return undefined;
  const entries = Object.entries(value);
  if (!entries.every(([, v]) => typeof v === "string")) return undefined;
  return new Map(entries as [string, string][]);
}

function malformed(path: string): SfsError {
  // Refusing beats guessing: silently starting over would drop every pin and re-trust anyone.
  return new SfsError("USAGE", `"${path}" is malformed`, {
    hint: "Fix it by hand; deleting it forgets every pinned key",
  });
}
