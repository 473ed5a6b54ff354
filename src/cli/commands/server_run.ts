/**
 * `sfs server`: run an index server on a SQLite file (the default) or a PostgreSQL database
 * (`--db postgres://…`, where several servers share one index). The server's identity is created
 * on first start and kept next to the SQLite database, in the sfs home for PostgreSQL, or where
 * `--identity` says; clients pin its fingerprint. SIGINT and SIGTERM shut it down gracefully.
 */
import { dirname, join } from "node:path";
import { SfsError } from "../../errors.ts";
import { formatFingerprint, generateIdentity, type Identity } from "../../crypto/identity.ts";
import { importIdentity } from "../../crypto/keystore.ts";
import type { LogFields } from "../../index/server/handlers.ts";
import { IndexServer } from "../../index/server/server.ts";
import type { IndexStore } from "../../index/server/store.ts";
import { SqliteStore } from "../../index/server/store_sqlite.ts";
import { PgStore } from "../../index/server/pg/store.ts";
import { isPostgresUrl, redactUrl } from "../../index/server/pg/connect.ts";
import type { RelayLimits } from "../../index/server/relay.ts";
import type { CodeLimits } from "../../index/server/code_registry.ts";
import { formatHostPort, type HostPort } from "../../net/address.ts";
import type { Output } from "../output.ts";
import { writeIdentityFile } from "../settings/identity_file.ts";
import { readSettingsText } from "../settings/json_file.ts";

/** Name of the server's identity file, in the database's folder. */
export const SERVER_IDENTITY_FILE = "server-identity.json";
/** Name of the database in the sfs home when `--db` is not given. */
export const DEFAULT_DB_FILE = "index.db";

/** Options of `sfs server`. */
export interface ServerOptions {
  home: string;
  listen: HostPort;
  /** SQLite database path, or a postgres:// URL. @default {SFS_HOME/index.db} */
  db?: string;
  /**
   * The server identity file; servers that share a database and this file present one
   * fingerprint. @default {server-identity.json next to the SQLite file, or in SFS_HOME}
   */
  identity?: string;
  /** Connections served at once. @default 256 */
  maxConnections?: number;
  /** Idle deadline per connection in ms. @default 60000 */
  idleTimeoutMs?: number;
  /** Listings one account may have stored. @default 1000 */
  maxListingsPerUser?: number;
  /** Registrations per client address (IPv6: /64) an hour. @default 10 */
  maxRegistrationsPerAddress?: number;
  /** Relay limits (docs/PROTOCOL.md §13.6), or false for `--no-relay`. @default {DEFAULT_RELAY_LIMITS} */
  relay?: Partial<RelayLimits> | false;
  /** Offline listings older than this are deleted. @default 3 days */
  listingTtlMs?: number;
  /**
   * HOST:PORT senders on other servers of the index dial for this server's relay (§13.7).
   * @default {the listening address, unless a wildcard}
   */
  relayAddress?: string;
  /** Short codes (§14.5): who may open them, and their limits. @default {DEFAULT_CODE_LIMITS} */
  codes?: Partial<CodeLimits>;
}

/** Runs the server until SIGINT or SIGTERM, then shuts down gracefully. */
export async function runServer(options: ServerOptions, out: Output): Promise<void> {
  const db = options.db ?? join(options.home, DEFAULT_DB_FILE);
  const postgres = isPostgresUrl(db);
  const identityPath = options.identity ??
    join(postgres ? options.home : dirname(db), SERVER_IDENTITY_FILE);
  await Deno.mkdir(dirname(identityPath), { recursive: true, mode: 0o700 });
  if (!postgres) await Deno.mkdir(dirname(db), { recursive: true, mode: 0o700 });
  const identity = await loadOrCreateServerIdentity(identityPath, out);
  // Never print a password: the URL is shown without it.
  const shownDb = postgres ? redactUrl(db) : db;
  const store: IndexStore = postgres ? await PgStore.connect(db) : SqliteStore.open(db);
  const log = (event: string, fields: LogFields) => {
    const time = new Date().toISOString();
    out.event(event, { time, ...fields });
    if (!out.json) {
      const detail = Object.entries(fields)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${formatLogValue(v!)}`)
        .join(" ");
      out.note(`${time} ${event}${detail ? " " + detail : ""}`);
    }
  };
  let server: IndexServer;
  try {
    server = IndexServer.listen({
      identity,
      store,
      hostname: options.listen.host,
      port: options.listen.port,
      maxConnections: options.maxConnections,
      idleTimeoutMs: options.idleTimeoutMs,
      maxListingsPerUser: options.maxListingsPerUser,
      maxRegistrationsPerAddress: options.maxRegistrationsPerAddress,
      relay: options.relay,
      relayDirectory: store instanceof PgStore ? store.relayDirectory() : undefined,
      relayAddress: options.relayAddress,
      codes: options.codes,
      sessionRetentionMs: options.listingTtlMs,
      log,
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  // Dial requests from other servers can arrive once this resolves (it logs any failure).
  await server.ready;
  const { hostname, port } = server.addr;
  const fingerprint = formatFingerprint(identity.public.fingerprint);
  out.event("listening", { host: hostname, port, fingerprint, db: shownDb });
  out.info(`Index server listening on ${formatHostPort({ host: hostname, port })}`);
  out.info(`Fingerprint: ${fingerprint}`);
  out.note("Clients pin this fingerprint on first contact. Ctrl-C stops the server.");

  const signal = await waitForStopSignal();
  log("stopping", { signal });
  await server.shutdown();
}

/** A value a text log may print bare: printable ASCII without space, quote, backslash or '='. */
const BARE_LOG_VALUE = /^[!#-<>-\[\]-~]+$/;
/**
 * What a text log never prints raw: controls (C0, DEL, C1: terminal escapes), format characters
 * (bidi overrides, zero-width), every separator but the ASCII space (line separators, look-alike
 * spaces), private use, lone surrogates and unassigned code points.
 */
const LOG_UNSAFE = /[\p{Cc}\p{Cf}\p{Z}\p{Co}\p{Cs}\p{Cn}]/u;

/**
 * One value of a text log entry: bare when plainly safe, otherwise quoted with `"` and `\`
 * escaped and every character of {@link LOG_UNSAFE} but the space written as `\uXXXX`, so
 * client-chosen text can neither drive the operator's terminal nor forge or disguise an entry.
 */
export function formatLogValue(value: string | number | boolean): string {
  const text = String(value);
  if (BARE_LOG_VALUE.test(text)) return text;
  let out = "";
  for (const char of text) {
    if (char === '"' || char === "\\") out += "\\" + char;
    else if (char !== " " && LOG_UNSAFE.test(char)) {
      const hex = char.codePointAt(0)!.toString(16).padStart(4, "0");
      out += hex.length > 4 ? `\\u{${hex}}` : `\\u${hex}`;
    } else out += char;
  }
  return `"${out}"`;
}

/**
 * Loads the server identity, or generates and saves one (unencrypted, mode 0600). Servers
 * starting together on one sfs home must end up with one identity: the new file is linked into
 * place only if none exists (no-clobber), and a server that loses that race loads the winner's.
 */
export async function loadOrCreateServerIdentity(path: string, out: Output): Promise<Identity> {
  const text = await readSettingsText(path);
  if (text !== undefined) return await importServerIdentity(text, path);
  out.note("Generating the server identity (RSA-3072 OAEP and PSS, Ed25519)…");
  const identity = await generateIdentity();
  const temp = `${path}.${crypto.randomUUID()}.new`;
  await writeIdentityFile(temp, identity);
  try {
    await Deno.link(temp, path);
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    const theirs = await readSettingsText(path);
    if (theirs === undefined) throw err;
    return await importServerIdentity(theirs, path);
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
  out.note(`Server identity saved to ${path}`);
  return identity;
}

/** The server identity file's key; a server must start unattended, so it is not encrypted. */
async function importServerIdentity(text: string, path: string): Promise<Identity> {
  // The file's mode and the host's security protect the unencrypted key.
  return await importIdentity(text).catch((err) => {
    throw new SfsError("BAD_IDENTITY", `Cannot load the server identity "${path}"`, {
      cause: err,
      hint: err instanceof SfsError && err.code === "BAD_PASSPHRASE"
        ? "The server identity must not be encrypted"
        : undefined,
    });
  });
}

/** Resolves with the name of the first SIGINT or SIGTERM (SIGINT only on Windows). */
function waitForStopSignal(): Promise<string> {
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  return new Promise((resolve) => {
    const handlers = signals.map((signal) => {
      const handler = () => {
        for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
        resolve(signal);
      };
      Deno.addSignalListener(signal, handler);
      return [signal, handler] as const;
    });
  });
}
