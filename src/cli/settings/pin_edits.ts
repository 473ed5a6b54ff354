/**
 * Deliberate changes to the pins (settings/pins.ts), for `sfs trust`, `sfs forget` and
 * `sfs contacts`: replace a key after a legitimate change, drop one, list them all. Each change
 * is one locked read-modify-write, like every pin, so concurrent sfs processes keep each other's.
 */
import { canonicalUsername } from "../../index/protocol/usernames.ts";
import {
  KNOWN_SERVERS_FILE,
  KNOWN_USERS_FILE,
  readServers,
  readUsers,
  SERVERS_FORMAT,
  updatePins,
  type UserPins,
  USERS_FORMAT,
} from "./pins.ts";

/** A pinned index server key. */
export interface ServerContact {
  readonly server: string;
  readonly fingerprint: string;
}

/** A pinned user key on one server. */
export interface UserContact {
  readonly server: string;
  readonly user: string;
  readonly fingerprint: string;
}

/** Every pin in `home`, servers and users, sorted for display. */
export async function listContacts(
  home: string,
): Promise<{ servers: ServerContact[]; users: UserContact[] }> {
  const servers = [...await readServers(home)]
    .map(([server, fingerprint]) => ({ server, fingerprint }))
    .sort((a, b) => a.server.localeCompare(b.server));
  const users = [...await readUsers(home)]
    .flatMap(([server, pins]) =>
      [...pins].map(([user, fingerprint]) => ({ server, user, fingerprint }))
    )
    .sort((a, b) => a.server.localeCompare(b.server) || a.user.localeCompare(b.user));
  return { servers, users };
}

/** The pinned key of `user` on `server` (usernames compare ignoring case), if any. */
export async function userPin(
  home: string,
  server: string,
  user: string,
): Promise<UserContact | undefined> {
  const pins = (await readUsers(home)).get(server);
  const key = findUser(pins, user);
  return key === undefined ? undefined : { server, user: key, fingerprint: pins!.get(key)! };
}

/** The pinned key of index server `server`, if any. */
export async function serverPin(home: string, server: string): Promise<string | undefined> {
  return (await readServers(home)).get(server);
}

/** Pins `fingerprint` for index server `server`, replacing what was pinned. */
export async function setServerPin(
  home: string,
  server: string,
  fingerprint: string,
): Promise<void> {
  await updatePins(home, KNOWN_SERVERS_FILE, SERVERS_FORMAT, (servers) => {
    servers.set(server, fingerprint);
    return serversJson(servers);
  });
}

/** Forgets the key of index server `server`; returns whether one was pinned. */
export async function removeServerPin(home: string, server: string): Promise<boolean> {
  let removed = false;
  await updatePins(home, KNOWN_SERVERS_FILE, SERVERS_FORMAT, (servers) => {
    removed = servers.delete(server);
    return removed ? serversJson(servers) : undefined;
  });
  return removed;
}

/** Pins `fingerprint` for `user` on `server`, replacing the pin under any spelling of the name. */
export async function setUserPin(
  home: string,
  server: string,
  user: string,
  fingerprint: string,
): Promise<void> {
  await updatePins(home, KNOWN_USERS_FILE, USERS_FORMAT, (users) => {
    const pins = users.get(server) ?? new Map<string, string>();
    const old = findUser(pins, user);
    if (old !== undefined) pins.delete(old);
    users.set(server, pins.set(user, fingerprint));
    return usersJson(users);
  });
}

/** Forgets the key of `user` on `server`; returns whether one was pinned. */
export async function removeUserPin(home: string, server: string, user: string): Promise<boolean> {
  let removed = false;
  await updatePins(home, KNOWN_USERS_FILE, USERS_FORMAT, (users) => {
    const pins = users.get(server);
    const key = findUser(pins, user);
    if (key === undefined) return undefined;
    pins!.delete(key);
    if (pins!.size === 0) users.delete(server);
    removed = true;
    return usersJson(users);
  });
  return removed;
}

/** The key under which `pins` holds `user`, compared as usernames are (ignoring case). */
function findUser(pins: Map<string, string> | undefined, user: string): string | undefined {
  const wanted = canonicalUsername(user) ?? user;
  for (const key of pins?.keys() ?? []) {
    if ((canonicalUsername(key) ?? key) === wanted) return key;
  }
  return undefined;
}

function serversJson(servers: Map<string, string>) {
  return { version: 1, servers: Object.fromEntries(servers) };
}

function usersJson(users: UserPins) {
  return {
    version: 1,
    users: Object.fromEntries([...users].map(([s, m]) => [s, Object.fromEntries(m)])),
  };
}
