/**
 * Local settings in `SFS_HOME/config.json`: the index server and username that `sfs register`
 * and `sfs login` chose, so later commands need no `--server`. `--server` and `SFS_SERVER`
 * override the saved server.
 */
import { join } from "node:path";
import { SfsError } from "../errors.ts";
import { ensureHome } from "./identity_file.ts";
import { writeFileAtomic } from "../fs.ts";
import { formatHostPort, type HostPort, parseHostPort } from "../net/address.ts";

/** Name of the settings file inside the sfs home. */
export const CONFIG_FILE = "config.json";

/** What config.json holds; every field is optional. */
export interface Config {
  /** Index server, `HOST:PORT`. */
  server?: string;
  /** Username on that server. */
  user?: string;
}

/** Where the index is and who we are on it. */
export interface IndexTarget {
  /** The server address. */
  readonly address: HostPort;
  /**
   * The address as canonical `HOST:PORT` text, as config.json's `server` holds it: the key of
   * pins and the form shown to people.
   */
  readonly server: string;
  /** Username from the config, if any. */
  readonly user?: string;
}

/** Reads config.json; a missing file is an empty config, a malformed one a USAGE error. */
export async function readConfig(home: string): Promise<Config> {
  const path = join(home, CONFIG_FILE);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return {};
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const v = value as Record<string, unknown> | undefined;
  if (
    typeof v !== "object" || v === null || Array.isArray(v) ||
    !["server", "user"].every((k) => v[k] === undefined || typeof v[k] === "string")
  ) {
    throw new SfsError("USAGE", `"${path}" is not a valid sfs config`, {
      hint: 'It should look like {"server": "HOST:PORT", "user": "NAME"}; fix or delete it',
    });
  }
  return { server: v.server as string | undefined, user: v.user as string | undefined };
}

/** Saves config.json atomically (mode 0600), merging `changes` into what is there. */
export async function updateConfig(home: string, changes: Config): Promise<void> {
  const current = await readConfig(home);
  await ensureHome(home);
  const next = { ...current, ...changes };
  await writeFileAtomic(join(home, CONFIG_FILE), JSON.stringify(next, null, 2) + "\n");
}

/**
 * The index to use: `--server`, else `SFS_SERVER`, else config.json; undefined when none is
 * configured (then commands work in direct mode).
 */
export async function resolveIndex(
  home: string,
  options: { server?: string; env?: (name: string) => string | undefined } = {},
): Promise<IndexTarget | undefined> {
  const config = await readConfig(home);
  const env = options.env ?? ((name: string) => Deno.env.get(name));
  const fromEnv = env("SFS_SERVER");
  const text = options.server ?? (fromEnv === "" ? undefined : fromEnv) ?? config.server;
  if (text === undefined) return undefined;
  const address = parseServer(text);
  return { address, server: formatHostPort(address), user: config.user };
}

/** Parses a server address; the host is required (there is no sensible default to dial). */
export function parseServer(text: string): HostPort {
  return parseHostPort(text, "The index server address");
}
