/**
 * Helpers shared by the transfer integration tests: a running `sfs send`, an `sfs get`, what a
 * command reported, what is left in a folder, and a TCP proxy on 127.0.0.1 that can edit or cut
 * the sender's stream.
 *
 * @module
 */

import { join, relative } from "node:path";
import { FRAME_HEADER_BYTES } from "../src/wire/frame.ts";
import { MIN_AGE_MS } from "../src/peer/content_stamp.ts";
import {
  randomFile,
  runSfs,
  type SfsEvent,
  type SfsProcess,
  type SfsResult,
  sha256File,
  startSfs,
  type TempDir,
  tempDir,
} from "./harness.ts";
import { testHome } from "./identities.ts";
import { type LoopbackServer, serveLoopback } from "./loopback_server.ts";
import { closeQuietly } from "../src/closable.ts";

/** What `sfs send --json` reports first. */
export interface Ready {
  ticket: string;
  port: number;
  fingerprint: string;
  id: string;
  name: string;
  size: number;
  sha256: string;
}

/** Starts `sfs send FILE` on 127.0.0.1, port 0, in JSON mode; use with `await using`. */
export function startSender(home: string, file: string, extraArgs: string[] = []): SfsProcess {
  return startSfs(["send", file, "--listen", "127.0.0.1:0", "--json", ...extraArgs], { home });
}

/** Waits for the sender's `ready` event. */
export async function readyOf(sender: SfsProcess): Promise<Ready> {
  const event = await sender.nextEvent((e) => e.event === "ready");
  return event as unknown as Ready;
}

/** The same ticket with another port, e.g. a proxy's. */
export function withPort(ticket: string, port: number): string {
  const changed = ticket.replace(/^(sfs:\/\/[^/]*:)\d+\//, `$1${port}/`);
  if (changed === ticket) throw new Error(`Cannot find the port in ${ticket}`);
  return changed;
}

/** Alice sharing one random file in direct mode (no --once), and bob's home, in a temp folder. */
export interface Sharing extends AsyncDisposable {
  readonly dir: TempDir;
  readonly bob: string;
  readonly sender: SfsProcess;
  readonly ready: Ready;
  readonly source: string;
  readonly sha256: string;
}

/** Starts alice sharing `size` random bytes named `name`; `await using` stops and cleans up. */
export async function shareFile(
  name: string,
  size: number,
  options: {
    /** Waits until the file is settled (content_stamp.ts) before sharing it. */
    settled?: boolean;
    /** Shares a folder of this name holding the file, rather than the file alone. */
    inFolder?: string;
  } = {},
): Promise<Sharing> {
  const dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testHome(dir.path, "bob");
  const shared = join(dir.path, options.inFolder ?? "");
  if (options.inFolder !== undefined) await Deno.mkdir(shared);
  const source = join(shared, name);
  await randomFile(source, size);
  if (options.settled) await waitUntilSettled(source);
  const sender = startSender(alice, options.inFolder === undefined ? source : shared);
  return {
    dir,
    bob,
    sender,
    ready: await readyOf(sender),
    source,
    sha256: await sha256File(source),
    async [Symbol.asyncDispose]() {
      await sender[Symbol.asyncDispose]();
      await dir[Symbol.asyncDispose]();
    },
  };
}

/**
 * Waits until `path` has stood unchanged long enough that a share begun now trusts its stamp
 * instead of hashing what it sends (content_stamp.ts): a few seconds.
 */
export async function waitUntilSettled(path: string): Promise<void> {
  const info = await Deno.stat(path);
  const changed = Math.max(info.mtime!.getTime(), info.ctime!.getTime());
  const wait = changed + MIN_AGE_MS + 200 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

/** Runs `sfs get TICKET --out DIR --json` to completion. */
export function get(
  home: string,
  ticket: string,
  outDir: string,
  extraArgs: string[] = [],
): Promise<SfsResult> {
  return runSfs(["get", ticket, "--out", outDir, "--json", ...extraArgs], { home });
}

/** The `{"error":{…}}` a command printed on stderr with `--json`, if any. */
export function errorOf(result: SfsResult): { code: string; message: string; hint?: string } {
  for (const line of result.stderr.split("\n").reverse()) {
    try {
      const value = JSON.parse(line) as { error?: { code: string; message: string } };
      if (value?.error?.code) return value.error;
    } catch {
      // Not the error line.
    }
  }
  throw new Error(`No JSON error on stderr (exit ${result.code}):\n${result.stderr}`);
}

/** The `done` event of a successful `sfs get`; throws with stderr when there is none. */
export function doneOf(result: SfsResult): SfsEvent {
  const done = result.events.find((e) => e.event === "done");
  if (result.code !== 0 || !done) {
    throw new Error(`sfs get failed (exit ${result.code}):\n${result.stderr}`);
  }
  return done;
}

/** Every file, link and folder under `root`, as sorted paths relative to it ([] if absent). */
export async function listTree(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      found.push(relative(root, path));
      if (entry.isDirectory) await walk(path);
    }
  };
  try {
    await walk(root);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return found.sort();
}

/** One frame the sender sent, as the proxy sees it; `body` may be edited in place. */
export interface RelayedFrame {
  /** 0 for the first frame of the connection (the HELLO_REPLY; chunks start at 4, §6.1). */
  readonly index: number;
  readonly kind: number;
  readonly body: Uint8Array;
}

/** Options of {@link startProxy}; without any, the proxy forwards everything unchanged. */
export interface ProxyOptions {
  /**
   * Sees each sender→receiver frame before it is forwarded; may edit its body, wait, or return
   * "cut" to close both connections instead of forwarding it.
   */
  onFrame?: (frame: RelayedFrame) => void | "cut" | Promise<void | "cut">;
  /** Forwards only this many sender→receiver bytes, then closes both connections. */
  cutAfterBytes?: number;
}

/** A TCP proxy on 127.0.0.1; `await using` closes it and every connection through it. */
export type Proxy = LoopbackServer;

/** Starts a proxy to `127.0.0.1:targetPort`; receiver→sender bytes always pass unchanged. */
export function startProxy(targetPort: number, options: ProxyOptions = {}): Proxy {
  return serveLoopback((client, track) => relaySession(client, targetPort, options, track));
}

async function relaySession(
  client: Deno.Conn,
  targetPort: number,
  options: ProxyOptions,
  track: (conn: Deno.Conn) => void,
): Promise<void> {
  let server: Deno.Conn;
  try {
    server = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
  } catch {
    return;
  }
  track(server);
  const up = copy(client, server, Infinity);
  const down = options.onFrame
    ? relayFrames(server, client, options.onFrame)
    : copy(server, client, options.cutAfterBytes ?? Infinity);
  // Either side ending ends the session: a receiver that gives up, a sender done, or a cut.
  await Promise.race([up, down]);
  closeQuietly(client);
  closeQuietly(server);
  await Promise.allSettled([up, down]);
}

async function copy(from: Deno.Conn, to: Deno.Conn, limit: number): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  let passed = 0;
  try {
    while (passed < limit) {
      const n = await from.read(buffer.subarray(0, Math.min(buffer.length, limit - passed)));
      if (n === null) return;
      await writeAll(to, buffer.subarray(0, n));
      passed += n;
    }
  } catch {
    // Either side went away; the session ends.
  }
}

/** Frames larger than this are not ours to parse; the proxy stops instead. */
const MAX_RELAYED_FRAME = 8 * 1024 * 1024;

async function relayFrames(
  from: Deno.Conn,
  to: Deno.Conn,
  onFrame: NonNullable<ProxyOptions["onFrame"]>,
): Promise<void> {
  try {
    for (let index = 0;; index++) {
      const header = new Uint8Array(FRAME_HEADER_BYTES);
      if (!await readFull(from, header)) return;
      const length = new DataView(header.buffer).getUint32(0);
      if (length < 1 || length > MAX_RELAYED_FRAME) return;
      const frame = new Uint8Array(FRAME_HEADER_BYTES - 1 + length);
      frame.set(header);
      const body = frame.subarray(FRAME_HEADER_BYTES);
      if (!await readFull(from, body)) return;
      if (await onFrame({ index, kind: header[4], body }) === "cut") return;
      await writeAll(to, frame);
    }
  } catch {
    // Either side went away; the session ends.
  }
}

/** Fills `into` completely; false when the stream ends first. */
export async function readFull(conn: Deno.Conn, into: Uint8Array): Promise<boolean> {
  let filled = 0;
  while (filled < into.length) {
    const n = await conn.read(into.subarray(filled));
    if (n === null) return false;
    filled += n;
  }
  return true;
}

/** Writes all of `data`. */
export async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let done = 0; done < data.length;) done += await conn.write(data.subarray(done));
}

/** Closes a connection that may already be closed (the one definition, re-exported). */
export { closeQuietly };

/** A raw TCP connection that reads everything until the other side closes it. */
export interface Watched {
  readonly conn: Deno.TcpConn;
  /** Our end as a server logs it, `127.0.0.1:PORT`. */
  readonly address: string;
  /** Resolves once the other side ended the connection: when (ms after connecting), and its bytes. */
  readonly closed: Promise<{ afterMs: number; reply: Uint8Array }>;
  /** True until the other side has ended the connection. */
  isOpen(): boolean;
}

/**
 * Connects to `127.0.0.1:port` and reads until the other side closes, so a test can tell that a
 * server dropped a hostile connection by itself. Close `conn` when done (after the assertions).
 */
export async function connectWatched(port: number): Promise<Watched> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const opened = Date.now();
  let open = true;
  const closed = (async () => {
    const received: number[] = [];
    const buffer = new Uint8Array(4096);
    try {
      for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
        received.push(...buffer.subarray(0, n));
      }
    } catch {
      // A reset is a close too (or the test's own cleanup, after its assertions).
    }
    open = false;
    return { afterMs: Date.now() - opened, reply: new Uint8Array(received) };
  })();
  return {
    conn,
    address: `127.0.0.1:${(conn.localAddr as Deno.NetAddr).port}`,
    closed,
    isOpen: () => open,
  };
}

/** Resolves to whether the other side closed `watched` within `ms`. */
export async function closedWithin(watched: Watched, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms));
  const result = await Promise.race([watched.closed.then(() => true as const), late]);
  clearTimeout(timer);
  return result;
}

/**
 * Sends `data` one byte every `intervalMs` until it is all sent or the other side closes;
 * resolves to the number of bytes sent (slowloris).
 */
export async function trickle(
  watched: Watched,
  data: Uint8Array,
  intervalMs: number,
): Promise<number> {
  let sent = 0;
  try {
    while (sent < data.length && watched.isOpen()) {
      await writeAll(watched.conn, data.subarray(sent, sent + 1));
      sent++;
      await closedWithin(watched, intervalMs);
    }
  } catch {
    // Closed under our write.
  }
  return sent;
}
