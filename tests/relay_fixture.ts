/**
 * Helpers for the relay tests: an in-process index server on 127.0.0.1 with its relay, sharing
 * sessions that serve every relayed connection with the real sender code, and a receiver that
 * dials the relay and fetches with the real receiver code.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Bytes, constantTimeEqual } from "../src/crypto/bytes.ts";
import { type Identity, parseFingerprint } from "../src/crypto/identity.ts";
import { IndexClient } from "../src/index/client/client.ts";
import { dialRelay } from "../src/index/client/relay_dial.ts";
import { ShareSession } from "../src/index/client/sharing.ts";
import { signAnnouncement, type SignedAnnouncement } from "../src/index/protocol/announcement.ts";
import type { RelayLimits } from "../src/index/server/relay.ts";
import { IndexServer } from "../src/index/server/server.ts";
import { SqliteStore } from "../src/index/server/store_sqlite.ts";
import { fetchFile, type FetchResult } from "../src/peer/receiver.ts";
import {
  prepareFile,
  type ServeResult,
  serveTransfer,
  type SharedFile,
} from "../src/peer/sender.ts";
import type { SfsProcess } from "./harness.ts";
import { type ServerProcess, startServer } from "./index_fixture.ts";
import { testIdentity } from "./identities.ts";

const PASSWORD = "correct horse battery";
/** Bytes of the random block a shared file repeats. */
export const BLOCK_BYTES = 4096;

/** One log entry of the server. */
export interface LogEntry {
  readonly event: string;
  readonly fields: Record<string, unknown>;
}

/** A running index server with its relay, and the accounts made on it. */
export interface RelayWorld extends AsyncDisposable {
  /** The server, when it runs in this process. */
  readonly server?: IndexServer;
  readonly port: number;
  readonly dir: string;
  /** What the server logged, when it runs in this process. */
  readonly log: LogEntry[];
  readonly serverFingerprint: Bytes;
  /** Registers `name` (a test identity of that name) once. */
  account(name: string): Promise<Identity>;
  /** An IndexClient as `name`, authenticated when `auth`. */
  client(identity: Identity, auth?: string): Promise<IndexClient>;
}

/** Starts an index server on 127.0.0.1 with relay limits `relay` (false: `--no-relay`). */
export async function startRelayWorld(
  relay: Partial<RelayLimits> | false = {},
): Promise<RelayWorld> {
  const dir = await Deno.makeTempDir({ prefix: "sfs-relay-test-" });
  const serverIdentity = await testIdentity("server");
  const log: LogEntry[] = [];
  const server = IndexServer.listen({
    identity: serverIdentity,
    store: SqliteStore.open(join(dir, "index.db")),
    hostname: "127.0.0.1",
    port: 0,
    passwordHash: { N: 2 ** 4 },
    relay,
    log: (event, fields) => log.push({ event, fields }),
  });
  return worldOn(server.addr.port, serverIdentity.public.fingerprint, dir, {
    server,
    log,
    stop: async () => {
      await server.shutdown(1000);
      await Deno.remove(dir, { recursive: true });
    },
  });
}

/** Starts a real `sfs server` process on 127.0.0.1 with `flags` added (relay flags). */
export async function startRelayServerProcess(
  flags: readonly string[],
): Promise<RelayWorld & { readonly proc: SfsProcess }> {
  const dir = await Deno.makeTempDir({ prefix: "sfs-relay-test-" });
  const server = await startServer(dir, 0, flags);
  const world = worldOn(server.port, parseFingerprint(server.fingerprint), dir, {
    log: [],
    stop: async () => {
      await server[Symbol.asyncDispose]();
      await Deno.remove(dir, { recursive: true });
    },
  });
  return Object.assign(world, { proc: server.proc });
}

/**
 * The relay fixture's view of `server`, a server process the caller owns: disposing it closes
 * its clients and leaves the server and `dir` alone.
 */
export function worldOfProcess(server: ServerProcess, dir: string): RelayWorld {
  return worldOn(server.port, parseFingerprint(server.fingerprint), dir, {
    log: [],
    stop: () => Promise.resolve(),
  });
}

function worldOn(
  port: number,
  serverFingerprint: Bytes,
  dir: string,
  parts: { server?: IndexServer; log: LogEntry[]; stop: () => Promise<void> },
): RelayWorld {
  const registered = new Map<string, Promise<Identity>>();
  const clients: IndexClient[] = [];
  const world: RelayWorld = {
    server: parts.server,
    port,
    dir,
    log: parts.log,
    serverFingerprint,
    async client(identity, auth) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      const client = await IndexClient.connect(conn, identity, {
        verifyServer: (s) => pinned(s.fingerprint, serverFingerprint),
      });
      clients.push(client);
      if (auth !== undefined) await client.auth(auth);
      return client;
    },
    account(name) {
      let done = registered.get(name);
      if (done === undefined) {
        done = (async () => {
          const identity = await testIdentity(name);
          const client = await world.client(identity);
          await client.register(name, PASSWORD);
          client.close();
          return identity;
        })();
        registered.set(name, done);
      }
      return done;
    },
    async [Symbol.asyncDispose]() {
      for (const client of clients) client.close();
      await parts.stop();
    },
  };
  return world;
}

function pinned(fingerprint: Uint8Array, expected: Bytes): void {
  assert.ok(constantTimeEqual(fingerprint, expected), "server key pinned");
}

/** A file shared through the index with relaying on, served by the real sender code. */
export interface RelayShare extends AsyncDisposable {
  readonly owner: Identity;
  readonly file: SharedFile;
  /** Its signed announcement. */
  readonly signed: SignedAnnouncement;
  /** The random block the file repeats. */
  readonly block: Uint8Array;
  readonly session: ShareSession;
  /** Transfers served through the relay, as they end. */
  readonly served: Promise<ServeResult | Error>[];
  /** The receiver's username the relay named for each relayed connection (undefined: none). */
  readonly relayedTo: (string | undefined)[];
  /** Receivers that got as far as a GET (onStart). */
  readonly started: number[];
  /** The index connections the session opened, oldest first (it reconnects after a failure). */
  readonly connections: IndexClient[];
  /** The leg connections the session opened, with every byte it wrote first. */
  readonly legs: { firstBytes: Uint8Array }[];
}

/** Options of {@link shareRelayed}. */
export interface ShareOptions {
  /** Recipients (`--to`); none means public. */
  recipients?: string[];
  /** Times the block is repeated. @default 256 (1 MiB) */
  blocks?: number;
}

/**
 * Shares a new file of `owner` (a registered account) through `world`: a file of one random
 * block repeated, announced with an address nobody listens on (only the relay reaches it).
 */
export async function shareRelayed(
  world: RelayWorld,
  ownerName: string,
  options: ShareOptions = {},
): Promise<RelayShare> {
  const owner = await world.account(ownerName);
  const block = crypto.getRandomValues(new Uint8Array(BLOCK_BYTES));
  const blocks = options.blocks ?? 256;
  const content = new Uint8Array(BLOCK_BYTES * blocks);
  for (let i = 0; i < blocks; i++) content.set(block, i * BLOCK_BYTES);
  const path = join(world.dir, `${ownerName}-${crypto.randomUUID().slice(0, 8)}.bin`);
  await Deno.writeFile(path, content);
  const file = await prepareFile(path, owner);
  const signed = await signAnnouncement(owner, {
    fileId: file.id,
    owner: ownerName,
    ownerFingerprint: owner.public.fingerprint,
    name: file.name,
    size: file.size,
    sha256: file.sha256,
    keywords: [],
    recipients: [...(options.recipients ?? [])].sort(),
    address: "127.0.0.1:9",
    createdAt: Date.now(),
  });
  const served: Promise<ServeResult | Error>[] = [];
  const started: number[] = [];
  const legs: { firstBytes: Uint8Array }[] = [];
  const open = new Set<Deno.Conn>();
  const connections: IndexClient[] = [];
  const relayedTo: (string | undefined)[] = [];
  const session = await ShareSession.start({
    connect: async () => {
      const client = await world.client(owner, ownerName);
      connections.push(client);
      return client;
    },
    reconnectMs: 20,
    announcements: [signed],
    // Heartbeats often, so pushes arrive while replies are awaited too (§13.4).
    heartbeatMs: 50,
    relay: {
      dial: async () => {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: world.port });
        const leg = { firstBytes: new Uint8Array() };
        legs.push(leg);
        // Records what the session writes before serving: its RELAY_JOIN frame.
        const write = conn.write.bind(conn);
        conn.write = (data: Uint8Array) => {
          if (leg.firstBytes.length === 0) leg.firstBytes = data.slice();
          return write(data);
        };
        return conn;
      },
      onRelayedConnection: (conn, info) => {
        open.add(conn);
        relayedTo.push(info.username);
        served.push(
          serveTransfer(conn, owner, {
            lookup: (id) => constantTimeEqual(id, file.id) ? file : undefined,
            onStart: (_, __, first) => started.push(first),
          }).catch((err) => err as Error).finally(() => open.delete(conn)),
        );
      },
    },
  });
  return {
    owner,
    file,
    signed,
    block,
    session,
    served,
    started,
    relayedTo,
    connections,
    legs,
    async [Symbol.asyncDispose]() {
      session.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // Closed by the transfer.
        }
      }
      await Promise.allSettled(served);
    },
  };
}

/** Options of {@link fetchRelayed}. */
export interface FetchRelayedOptions {
  /** The receiver's identity. */
  identity: Identity;
  /** Authenticates the index session as this user first. */
  auth?: string;
  /** The per-share relay token (a ticket's). */
  token?: Uint8Array;
  /** Port to dial instead of the server's (a tap or a tampering proxy in front of it). */
  port?: number;
  /** Folder to save into. @default a new folder in the world's dir */
  outDir?: string;
  /** The sender's fingerprint the receiver expects. @default the share owner's */
  expected?: Bytes;
}

/** Dials the relay for `share` and fetches it there with the real receiver code. */
export async function fetchRelayed(
  world: RelayWorld,
  share: Pick<RelayShare, "file" | "owner">,
  options: FetchRelayedOptions,
): Promise<FetchResult> {
  const conn = await dialRelayTo(world, share.file.id, options);
  const outDir = options.outDir ?? await Deno.makeTempDir({ dir: world.dir });
  return await fetchFile(conn, options.identity, {
    fileId: share.file.id,
    expectedFingerprint: options.expected ?? share.owner.public.fingerprint,
    outDir,
  });
}

/** Opens a relayed connection to whoever shares `fileId`. */
export function dialRelayTo(
  world: RelayWorld,
  fileId: Uint8Array,
  options: Pick<FetchRelayedOptions, "identity" | "auth" | "token" | "port">,
): Promise<Deno.TcpConn> {
  return dialRelay({
    host: "127.0.0.1",
    port: options.port ?? world.port,
    fileId,
    token: options.token,
  }, {
    identity: options.identity,
    verifyServer: (s) => pinned(s.fingerprint, world.serverFingerprint),
    authenticate: options.auth === undefined ? undefined : (client) => client.auth(options.auth!),
  });
}
