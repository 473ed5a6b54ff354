/**
 * Local settings in `SFS_HOME/config.json`: the index server and username that `sfs register`
 * and `sfs login` chose, so later commands need no `--server`. `--server` and `SFS_SERVER`
 * override the saved server.
 */
import { join } from "../../path.ts";
import { SfsError } from "../../errors.ts";
import { ensureHome } from "./identity_file.ts";
import { isJsonObject, type JsonFormat, readJsonFile, updateJsonFile } from "./json_file.ts";
import { formatHostPort, type HostPort, parseHostPort } from "../../net/address.ts";

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

/** config.json's format: an object with optional string fields; unknown fields are dropped. */
const CONFIG_FORMAT: JsonFormat<Config> = {
  parse(value, path) {
    if (
      !isJsonObject(value) ||
      !["server", "user"].every((k) => value[k] === undefined || typeof value[k] === "string")
    ) {
      throw new SfsError("USAGE", `"${path}" is not a valid sfs config`, {
        hint: 'It should look like {"server": "HOST:PORT", "user": "NAME"}; fix or delete it',
      });
    }
    return { server: value.server as string | undefined, user: value.user as string | undefined };
  },
  empty: () => ({}),
};

/** Reads config.json; a missing file is an empty config, a malformed one a USAGE error. */
export async function readConfig(home: string): Promise<Config> {
  return await readJsonFile(join(home, CONFIG_FILE), CONFIG_FORMAT);
}

/**
 * Saves config.json atomically (mode 0600), merging `changes` into what is there, under the
 * file's lock so that concurrent updates (say `sfs login` in two terminals) keep each other's.
 */
export async function updateConfig(home: string, changes: Config): Promise<void> {
  await ensureHome(home);
  await updateJsonFile(join(home, CONFIG_FILE), CONFIG_FORMAT, (current) => ({
    ...current,
    ...changes,
  }));
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

/** The port of an index server named without one (`--server HOST`), as `sfs server` listens. */
export const DEFAULT_INDEX_PORT = 9999;

/** Parses a server address; the host is required, the port defaults to {@link DEFAULT_INDEX_PORT}. */
export function parseServer(text: string): HostPort {
  return parseHostPort(text, "The index server address", { defaultPort: DEFAULT_INDEX_PORT });
}
