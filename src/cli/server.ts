/**
 * `sfs server`: run an index server. The server's identity is created on first start and kept
 * next to the database; clients pin its fingerprint. SIGINT and SIGTERM shut it down gracefully.
 */
import { dirname, join } from "node:path";
import { SfsError } from "../errors.ts";
import { formatFingerprint, generateIdentity, type Identity } from "../crypto/identity.ts";
import { exportIdentity, importIdentity } from "../crypto/keystore.ts";
import type { LogFields } from "../index/handlers.ts";
import { IndexServer } from "../index/server.ts";
import { IndexStore } from "../index/store.ts";
import { writeFileAtomic } from "../fs.ts";
import { formatHostPort, type HostPort } from "../net/address.ts";
import type { Output } from "./output.ts";

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
        .map(([k, v]) => `${k}=${typeof v === "string" && /\s/.test(v) ? JSON.stringify(v) : v}`)
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

/** Loads the server identity, or generates and saves one (unencrypted, mode 0600). */
export async function loadOrCreateServerIdentity(path: string, out: Output): Promise<Identity> {
  let text: string | undefined;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
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
  await writeFileAtomic(path, await exportIdentity(identity));
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
