/**
 * What bounds each side alone on this machine (issue 12), measured in the same run as the
 * sides: every byte a receiver takes is read from a socket, opened (AES-256-GCM), hashed
 * (SHA-256, one stream) and written to the page cache, then synced once; a sender reads and
 * seals (and hashes only a file that changed less than 3 s before it was shared: PROTOCOL §7.3).
 * A side can go no faster than its slowest mandatory step on one core, so these rates are its
 * ceiling, each measured alone on one core with large buffers.
 *
 * @module
 */

import { join } from "node:path";
import { DEFAULT_CHUNK_SIZE } from "../../../src/crypto/stream.ts";

/** One ceiling: MB/s (10^6 bytes per second), or why it was not measured. */
export type Rate = number | string;

/** The rates of each step a side must do for every byte, and the final sync. */
export interface Ceilings {
  opensslAesGcmSeal: Rate;
  opensslAesGcmOpen: Rate;
  opensslSha256: Rate;
  /** A Deno `writeSync` loop of chunk-sized buffers into a new file (page cache, no sync). */
  pageCacheWrite: Rate;
  /** Seconds one `syncData` of that file took afterwards. */
  syncSeconds: number;
  /**
   * The same loop right after that file was removed, so into the pages it just freed: what a
   * page-cache write costs when the host does not have to hand memory back first.
   */
  pageCacheRewrite: Rate;
  /** A Deno loop reading a chunk at a time from loopback TCP, written by another process. */
  loopbackRead: Rate;
}

/**
 * Runs `code` in a child Deno process (`deno eval`, the same runtime as sfs): settles when it
 * exits, rejecting with its stderr when it failed. The peers of these measurements.
 */
export function evalInChild(code: string, what: string): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const done = child.output().then(({ success, stderr }) => {
    if (!success) throw new Error(`${what} failed:\n${new TextDecoder().decode(stderr)}`);
  });
  // The caller awaits it after its own side of the exchange: an early failure waits for that.
  done.catch(() => {});
  return done;
}

/** `openssl speed` on one core at the sfs chunk size, in MB/s; or why not. */
export async function opensslRate(args: string[], seconds = 3): Promise<Rate> {
  try {
    const { success, stdout } = await new Deno.Command("openssl", {
      args: ["speed", ...args, "-bytes", String(DEFAULT_CHUNK_SIZE), "-seconds", String(seconds)],
      stdout: "piped",
      stderr: "null",
    }).output();
    // The last line: "AES-256-GCM    4687318.68k", in 1000s of bytes per second.
    const match = /([\d.]+)k\s*$/.exec(new TextDecoder().decode(stdout).trim());
    if (!success || !match) return `openssl speed ${args.join(" ")} printed no rate`;
    return Number(match[1]) / 1000;
  } catch (err) {
    return `openssl speed did not run: ${err instanceof Error ? err.message : err}`;
  }
}

/**
 * Writes `size` bytes to a new file under `dir` a chunk at a time and syncs it once; removes it
 * and at once writes another as large, which lands on the pages the first one freed. This guest
 * reports memory that stays free to its host within half a second, and writing into such memory
 * costs from 0.1 to 1.4 s per GiB, with the host's moment (docs/PERFORMANCE.md, session 9);
 * memory freed just before costs the least. The two rates side by side show what this run paid.
 */
async function pageCacheWrite(dir: string, size: number): Promise<[number, number, number]> {
  const buffer = new Uint8Array(DEFAULT_CHUNK_SIZE).fill(0x5a);
  const first = join(dir, "ceiling-write.bin");
  const second = join(dir, "ceiling-rewrite.bin");
  try {
    const { seconds, syncSeconds } = await timedWrite(first, size, buffer);
    await Deno.remove(first);
    const again = await timedWrite(second, size, buffer);
    return [size / 1e6 / seconds, syncSeconds, size / 1e6 / again.seconds];
  } finally {
    await Deno.remove(first).catch(() => {});
    await Deno.remove(second).catch(() => {});
  }
}

/** Writes `size` bytes of `buffer` to a new file at `path`, then syncs it; both timed. */
async function timedWrite(
  path: string,
  size: number,
  buffer: Uint8Array,
): Promise<{ seconds: number; syncSeconds: number }> {
  using file = await Deno.open(path, { write: true, createNew: true });
  const started = performance.now();
  for (let written = 0; written < size;) {
    written += file.writeSync(buffer.subarray(0, Math.min(buffer.length, size - written)));
  }
  const wrote = performance.now();
  file.syncDataSync();
  const synced = performance.now();
  return { seconds: (wrote - started) / 1000, syncSeconds: (synced - wrote) / 1000 };
}

/** Reads `size` bytes from loopback TCP that a child Deno writes from one 8 MiB buffer. */
async function loopbackRead(size: number): Promise<number> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const writer =
    `const c = await Deno.connect({ hostname: "127.0.0.1", port: ${listener.addr.port} });
const b = new Uint8Array(8 << 20).fill(7);
for (let left = ${size}; left > 0;) left -= await c.write(b.subarray(0, Math.min(b.length, left)));
c.close();`;
  const wrote = evalInChild(writer, "loopback writer");
  using conn = await listener.accept();
  const buffer = new Uint8Array(DEFAULT_CHUNK_SIZE);
  let read = 0;
  let started = 0;
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) break;
    started ||= performance.now();
    read += n;
  }
  const seconds = (performance.now() - started) / 1000;
  await wrote;
  return read / 1e6 / seconds;
}

/** Measures every ceiling over `size` bytes, files under `dir`. */
export async function measureCeilings(dir: string, size: number): Promise<Ceilings> {
  const opensslAesGcmSeal = await opensslRate(["-evp", "aes-256-gcm"]);
  const opensslAesGcmOpen = await opensslRate(["-decrypt", "-evp", "aes-256-gcm"]);
  const opensslSha256 = await opensslRate(["-evp", "sha256"]);
  const [pageCacheWriteRate, syncSeconds, pageCacheRewrite] = await pageCacheWrite(dir, size);
  const loopback = await loopbackRead(size);
  return {
    opensslAesGcmSeal,
    opensslAesGcmOpen,
    opensslSha256,
    pageCacheWrite: pageCacheWriteRate,
    syncSeconds,
    pageCacheRewrite,
    loopbackRead: loopback,
  };
}

const KIB = `${DEFAULT_CHUNK_SIZE / 1024} KiB`;

/** The Markdown rows of {@link measureCeilings}. */
export function renderCeilings(c: Ceilings, size: number): string {
  const rate = (r: Rate) => typeof r === "number" ? r.toFixed(0) : r;
  return [
    `Ceilings on this machine, one core each (${(size / 2 ** 20).toFixed(0)} MiB where sized):`,
    "",
    "| Step | MB/s |",
    "| --- | --- |",
    `| openssl speed -evp aes-256-gcm (seal), ${KIB} | ${rate(c.opensslAesGcmSeal)} |`,
    `| openssl speed -decrypt -evp aes-256-gcm (open), ${KIB} | ${rate(c.opensslAesGcmOpen)} |`,
    `| openssl speed -evp sha256, ${KIB} | ${rate(c.opensslSha256)} |`,
    `| page-cache write (Deno writeSync, ${KIB}) | ${rate(c.pageCacheWrite)} |`,
    `| then one syncData | ${c.syncSeconds.toFixed(2)} s |`,
    `| page-cache write into the pages that file freed | ${rate(c.pageCacheRewrite)} |`,
    `| loopback TCP read (Deno, ${KIB} reads; writer another process) | ${rate(c.loopbackRead)} |`,
    ...memoryCharge(c).map((line) => `\n${line}`),
  ].join("\n");
}

/**
 * A sentence when the page-cache write into fresh memory was much slower than into pages just
 * freed: the host charged this run for memory it had taken back, and a receiver pays that on
 * every byte it writes (docs/PERFORMANCE.md, session 9). None otherwise or when not measured.
 */
export function memoryCharge(c: Pick<Ceilings, "pageCacheWrite" | "pageCacheRewrite">): string[] {
  const { pageCacheWrite: fresh, pageCacheRewrite: reused } = c;
  if (typeof fresh !== "number" || typeof reused !== "number" || fresh <= 0) return [];
  const times = reused / fresh;
  if (times < 2) return [];
  return [
    `The page-cache write into fresh memory was ${times.toFixed(1)}× slower than into pages just ` +
    "freed: the host charged this run for memory it had taken back, and each receiver pays that " +
    "on every byte it writes (docs/PERFORMANCE.md, session 9).",
  ];
}
