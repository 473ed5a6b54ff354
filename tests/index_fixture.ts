/**
 * Helpers for the index integration tests: a real `sfs server` process, users registered through
 * the real CLI, and `sfs send` processes announcing through it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { importIdentity } from "../src/crypto/keystore.ts";
import type { Identity } from "../src/crypto/identity.ts";
import { type Bytes, constantTimeEqual } from "../src/crypto/bytes.ts";
import { fileIdOf } from "../src/crypto/file_id.ts";
import { parseFingerprint } from "../src/crypto/identity.ts";
import { IndexClient } from "../src/index/client/client.ts";
import { signAnnouncement, type SignedAnnouncement } from "../src/index/protocol/announcement.ts";
import { parseTicket } from "../src/peer/ticket.ts";
import {
  randomFile,
  runSfs,
  type SfsEvent,
  type SfsProcess,
  type SfsResult,
  startSfs,
  type TempDir,
  tempDir,
} from "./harness.ts";
import { identityText, testHome } from "./identities.ts";

/** The password every test account uses. */
export const PASSWORD = "correct horse battery staple";

/** The made-up file {@link madeUpAnnouncement} announces. */
export interface MadeUpFile {
  /** The owner's username on the index. */
  user: string;
  name: string;
  /** @default 1 */
  size?: number;
  /** @default [] */
  keywords?: string[];
}

/**
 * A signed announcement of a made-up file (a random SHA-256) by `owner`, at 127.0.0.1:9 where
 * nothing listens: a listing to find, not a file to fetch. Returns the file id with it.
 */
export async function madeUpAnnouncement(
  owner: Identity,
  file: MadeUpFile,
): Promise<{ signed: SignedAnnouncement; fileId: Bytes }> {
  const sha256 = crypto.getRandomValues(new Uint8Array(32));
  const fileId = await fileIdOf(owner.public.fingerprint, sha256, file.name);
  const signed = await signAnnouncement(owner, {
    fileId,
    owner: file.user,
    ownerFingerprint: owner.public.fingerprint,
    name: file.name,
    size: file.size ?? 1,
    sha256,
    keywords: file.keywords ?? [],
    recipients: [],
    address: "127.0.0.1:9",
    createdAt: Date.now(),
  });
  return { signed, fileId };
}

/** A running index server process. */
export interface ServerProcess extends AsyncDisposable {
  readonly proc: SfsProcess;
  readonly port: number;
  /** `127.0.0.1:PORT`. */
  readonly address: string;
  readonly fingerprint: string;
  /** The database path. */
  readonly db: string;
}

/**
 * Starts `sfs server --json` with its database in `dir`, on `port` (0 picks one), with `flags`
 * added last (so they override the defaults here); resolves once it printed its `listening` event.
 */
export async function startServer(
  dir: string,
  port = 0,
  flags: readonly string[] = [],
): Promise<ServerProcess> {
  const db = join(dir, "index.db");
  // Tests register many accounts from 127.0.0.1, past the default quota of 10 an hour.
  const proc = startSfs([
    "server",
    "--listen",
    `127.0.0.1:${port}`,
    "--db",
    db,
    "--json",
    "--max-registrations-per-address",
    "10000",
    ...flags,
  ], { home: dir });
  const listening = await proc.nextEvent((e) => e.event === "listening", 30_000);
  assert.equal(proc.events[0].event, "listening", "the first line must be the listening event");
  const bound = Number(listening.port);
  return {
    proc,
    port: bound,
    address: `127.0.0.1:${bound}`,
    fingerprint: String(listening.fingerprint),
    db,
    [Symbol.asyncDispose]: () => proc[Symbol.asyncDispose](),
  };
}

/**
 * Starts `sfs server --db URL --json` with SFS_HOME `home` (where its identity lives), plus
 * `extra` arguments; with `url` undefined the database comes from `env` (SFS_DB).
 */
export async function startPgServer(
  home: string,
  url: string | undefined,
  { extra = [], env = {} }: { extra?: string[]; env?: Record<string, string> } = {},
): Promise<ServerProcess> {
  const proc = startSfs([
    "server",
    "--listen",
    "127.0.0.1:0",
    ...(url === undefined ? [] : ["--db", url]),
    "--json",
    "--max-registrations-per-address",
    "10000",
    ...extra,
  ], { home, env });
  const listening = await proc.nextEvent((e) => e.event === "listening", 30_000);
  const port = Number(listening.port);
  return {
    proc,
    port,
    address: `127.0.0.1:${port}`,
    fingerprint: String(listening.fingerprint),
    db: String(listening.db),
    [Symbol.asyncDispose]: () => proc[Symbol.asyncDispose](),
  };
}

/** Runs sfs as the user whose home is `home`, with the test password available. */
export function sfs(
  home: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<SfsResult> {
  return runSfs(args, { home, env: { SFS_PASSWORD: PASSWORD, ...env } });
}

/** Creates a home holding the named test identity and registers it on the server. */
export async function registeredHome(
  parent: string,
  server: ServerProcess,
  name: string,
): Promise<string> {
  const home = await testHome(parent, name);
  const result = await sfs(home, [
    "register",
    "--server",
    server.address,
    "--user",
    name,
    "--server-fingerprint",
    server.fingerprint,
  ]);
  assert.equal(result.code, 0, result.stderr);
  return home;
}

/** The `{"error":{…}}` line a failed `--json` command printed on stderr. */
export function jsonError(result: SfsResult): { code: string; message: string } {
  for (const line of result.stderr.split("\n").reverse()) {
    try {
      const value = JSON.parse(line);
      if (value?.error?.code) return value.error;
    } catch {
      // Not the error line.
    }
  }
  throw new Error(`No JSON error on stderr:\n${result.stderr}`);
}

/** Asserts a command failed with `code` (from its `--json` error line) and `exit` status. */
export function assertFails(result: SfsResult, code: string, exit: number): void {
  assert.equal(jsonError(result).code, code, result.stderr);
  assert.equal(result.code, exit, result.stderr);
}

/** A running `sfs send --json` and its ready event. */
export interface Sender extends AsyncDisposable {
  readonly proc: SfsProcess;
  readonly ready: SfsEvent;
  /** The first file's id. */
  readonly id: string;
}

/** Starts `sfs send FILES… --listen 127.0.0.1:0 --json …extra` as `home`; waits until ready. */
export async function startSender(
  home: string,
  files: readonly string[],
  extra: readonly string[] = [],
): Promise<Sender> {
  const proc = startSfs(["send", ...files, "--listen", "127.0.0.1:0", "--json", ...extra], {
    home,
    env: { SFS_PASSWORD: PASSWORD },
  });
  const ready = await proc.nextEvent((e) => e.event === "ready");
  return {
    proc,
    ready,
    id: String(ready.id),
    [Symbol.asyncDispose]: () => proc[Symbol.asyncDispose](),
  };
}

/** Connects in-process to the server process as the named test identity, pinning its key. */
export async function connectClient(server: ServerProcess, name: string): Promise<IndexClient> {
  const identity: Identity = await importIdentity(await identityText(name));
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  return await IndexClient.connect(conn, identity, {
    verifyServer: (s) => {
      if (!constantTimeEqual(s.fingerprint, parseFingerprint(server.fingerprint))) {
        throw new Error("Unexpected server key");
      }
    },
  });
}

/** Polls `check` every 100 ms until it returns true or `timeoutMs` passes. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Gives the server whose database will live in `dir` a cached test identity, so that
 * {@link startServer} skips the RSA key generation (about 1.5 s) of a first start.
 */
export async function seedServerIdentity(dir: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(join(dir, "server-identity.json"), await identityText("server"), {
    mode: 0o600,
  });
  return dir;
}

/** Alice sharing one random file `--to bob` through a fresh server, bob registered there. */
export interface SharingToBob extends AsyncDisposable {
  readonly dir: TempDir;
  readonly server: ServerProcess;
  readonly bobHome: string;
  readonly sharing: Sender;
  readonly ticket: string;
  /** Alice's port, from the ticket. */
  readonly port: number;
}

/** Starts a server, registers alice and bob, and has alice share 5000 bytes `--to bob`. */
export async function shareToBob(): Promise<SharingToBob> {
  const stack = new AsyncDisposableStack();
  try {
    const dir = stack.use(await tempDir());
    const serverDir = join(dir.path, "server");
    await seedServerIdentity(serverDir);
    const server = stack.use(await startServer(serverDir));
    const [aliceHome, bobHome] = await Promise.all([
      registeredHome(dir.path, server, "alice"),
      registeredHome(dir.path, server, "bob"),
    ]);
    const file = join(dir.path, "for-bob.bin");
    await randomFile(file, 5000);
    const sharing = stack.use(await startSender(aliceHome, [file], ["--to", "bob", "--yes"]));
    const ticket = String((sharing.ready.files as { ticket: string }[])[0].ticket);
    const { port } = parseTicket(ticket);
    const moved = stack.move();
    return {
      dir,
      server,
      bobHome,
      sharing,
      ticket,
      port,
      [Symbol.asyncDispose]: () => moved.disposeAsync(),
    };
  } catch (e) {
    await stack.disposeAsync();
    throw e;
  }
}
