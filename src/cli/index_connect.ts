/**
 * Opening an index connection from the CLI: dial, handshake with the server key checked against
 * the local pin (trust on first use), and authenticate as the configured user.
 */
import { SfsError } from "../errors.ts";
import type { Identity } from "../crypto/identity.ts";
import { IndexClient } from "../index/client/client.ts";
import { type IndexTarget, resolveIndex } from "./settings/config.ts";
import { connect } from "../net/connect.ts";
import type { Output } from "./output.ts";
import { pinServer, trustServer } from "./settings/pins.ts";

/** Flags every index command shares. */
export interface IndexFlags {
  /** `--server HOST:PORT`, overriding SFS_SERVER and config.json. */
  server?: string;
  /** `--server-fingerprint FP`: the fingerprint a new server must present. */
  serverFingerprint?: string;
  /** `--yes`: accept first contacts without asking. */
  yes?: boolean;
}

/** The configured index; SfsError USAGE with a hint when there is none. */
export async function requireIndex(home: string, flags: IndexFlags): Promise<IndexTarget> {
  const target = await resolveIndex(home, { server: flags.server });
  if (target === undefined) {
    throw new SfsError("USAGE", "No index server is configured", {
      hint: "Run sfs register or sfs login, or pass --server HOST:PORT (or set SFS_SERVER)",
    });
  }
  return target;
}

/** Connects to the index and checks (or pins) the server's key; no authentication yet. */
export async function connectIndex(
  home: string,
  target: IndexTarget,
  identity: Identity,
  options: { flags: IndexFlags; out: Output; idleTimeoutMs?: number },
): Promise<IndexClient> {
  let isNew = false;
  const conn = await connect(target.address).catch((err) => {
    if (err instanceof SfsError && err.code === "CONNECTION_FAILED") {
      throw new SfsError(err.code, `Cannot connect to index server ${target.server}`, {
        cause: err,
        hint: "Is the server running, and is the address reachable from here?",
      });
    }
    throw err;
  });
  const client = await IndexClient.connect(conn, identity, {
    idleTimeoutMs: options.idleTimeoutMs,
    verifyServer: async (server) => {
      isNew = await trustServer(home, target.server, server.fingerprint, {
        expected: options.flags.serverFingerprint,
        yes: options.flags.yes,
        out: options.out,
      });
    },
  });
  // Pinned only now: the handshake has proved the server holds the key it showed.
  if (isNew) {
    await pinServer(home, target.server, client.server.fingerprint, { out: options.out })
      .catch((err) => {
        client.close(); // Another process pinned a different key meanwhile.
        throw err;
      });
    options.out.note(`Pinned the key of index server ${target.server}`);
  }
  return client;
}

/**
 * Connects and authenticates as the configured user; `requireUser` makes a missing user an
 * error, otherwise the connection stays anonymous (public listings only).
 */
export async function openIndex(
  home: string,
  target: IndexTarget,
  identity: Identity,
  options: { flags: IndexFlags; out: Output; requireUser?: boolean; idleTimeoutMs?: number },
): Promise<IndexClient> {
  if (target.user === undefined && options.requireUser) {
    throw new SfsError("USAGE", `No user is configured for index server ${target.server}`, {
      hint: "Run sfs register or sfs login first",
    });
  }
  const client = await connectIndex(home, target, identity, options);
  if (target.user !== undefined) {
    try {
      await client.auth(target.user);
    } catch (err) {
      client.close();
      if (err instanceof SfsError && err.code === "AUTH_FAILED") {
        throw new SfsError(err.code, err.message, {
          hint: `Is "${target.user}" registered with this identity? Run sfs login --rotate-keys ` +
            "after changing keys",
        });
      }
      throw err;
    }
  }
  return client;
}

/** What {@link withIndex} connects to, as whom, and how. */
export interface IndexSession {
  readonly home: string;
  readonly target: IndexTarget;
  readonly identity: Identity;
  readonly flags: IndexFlags;
  readonly out: Output;
  /** A missing configured user is a USAGE error. @default false */
  readonly requireUser?: boolean;
  /** Skip authenticating as the configured user (register and login use a password). @default false */
  readonly anonymous?: boolean;
}

/**
 * Opens the index (see {@link openIndex}, or {@link connectIndex} when `anonymous`), runs `fn`
 * on the client and closes it, whether `fn` succeeds or throws.
 */
export async function withIndex<T>(
  session: IndexSession,
  fn: (client: IndexClient) => Promise<T>,
): Promise<T> {
  const { home, target, identity } = session;
  const client = session.anonymous
    ? await connectIndex(home, target, identity, session)
    : await openIndex(home, target, identity, session);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}
