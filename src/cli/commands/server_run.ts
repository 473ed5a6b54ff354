/**
 * `sfs server`: run an index server. The server's identity is created on first start and kept
 * next to the database; clients pin its fingerprint. SIGINT and SIGTERM shut it down gracefully.
 */
import { dirname, join } from "node:path";
import { SfsError } from "../../errors.ts";
import { formatFingerprint, generateIdentity, type Identity } from "../../crypto/identity.ts";
import { importIdentity } from "../../crypto/keystore.ts";
import type { LogFields } from "../../index/server/handlers.ts";
import { IndexServer } from "../../index/server/server.ts";
import { IndexStore } from "../../index/server/store.ts";
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
  /** Database path. @default {SFS_HOME/index.db} */
  db?: string;
  /** Connections served at once. @default 256 */
  maxConnections?: number;
  /** Idle deadline per connection in ms. @default 60000 */
  idleTimeoutMs?: number;
  /** Listings one account may have stored. @default 1000 */
  maxListingsPerUser?: number;
  /** Registrations per client address (IPv6: /64) an hour. @default 10 */
  maxRegistrationsPerAddress?: number;
  /** Offline listings older than this are deleted. @default 3 days */
  listingTtlMs?: number;
}

/** Runs the server until SIGINT or SIGTERM, then shuts down gracefully. */
export async function runServer(options: ServerOptions, out: Output): Promise<void> {
  const dbPath = options.db ?? join(options.home, DEFAULT_DB_FILE);
  await Deno.mkdir(dirname(dbPath), { recursive: true, mode: 0o700 });
  const identity = await loadOrCreateServerIdentity(
    join(dirname(dbPath), SERVER_IDENTITY_FILE),
    out,
  );
  const store = IndexStore.open(dbPath);
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
      sessionRetentionMs: options.listingTtlMs,
      log,
    });
  } catch (err) {
    store.close();
    throw err;
  }
  const { hostname, port } = server.addr;
  const fingerprint = formatFingerprint(identity.public.fingerprint);
  out.event("listening", { host: hostname, port, fingerprint, db: dbPath });
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

/** Loads the server identity, or generates and saves one (unencrypted, mode 0600). */
export async function loadOrCreateServerIdentity(path: string, out: Output): Promise<Identity> {
  const text = await readSettingsText(path);
  if (text !== undefined) {
    // A server must start unattended, so its key is stored without a passphrase; the file's
    // mode and the host's security protect it.
    return await importIdentity(text).catch((err) => {
      throw new SfsError("BAD_IDENTITY", `Cannot load the server identity "${path}"`, {
        cause: err,
        hint: err instanceof SfsError && err.code === "BAD_PASSPHRASE"
          ? "The server identity must not be encrypted"
          : undefined,
      });
    });
  }
  out.note("Generating the server identity (RSA-3072 OAEP and PSS, Ed25519)…");
  const identity = await generateIdentity();
  await writeIdentityFile(path, identity);
  out.note(`Server identity saved to ${path}`);
  return identity;
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
