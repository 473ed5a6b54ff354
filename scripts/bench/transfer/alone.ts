/**
 * Each side of an sfs transfer on its own (issue 12): the real `sfs send` into a peer that
 * discards what it reads, and the real `sfs get` from a peer that sends chunks sealed in
 * advance, each peer in this benchmark process on the other core, beside
 * `openssl speed -evp aes-256-gcm` on one core in the same run. In real use each side has its
 * own cores; on loopback both share them, so these rows show what each side can do and what the
 * pair is held to.
 *
 * The peers speak the real protocol through sfs's own modules (handshake, channel, signatures),
 * so `sfs get` verifies everything it always does; only the sealing or opening on the peer's
 * side is moved out of the timed window.
 *
 * @module
 */

import { fileManifestOf, signFileManifest } from "../../../src/peer/file_manifest.ts";
import { NO_MANIFEST_HASH, signReceipt } from "../../../src/peer/receipt.ts";
import { join } from "node:path";
import { loadIdentity } from "../../../src/cli/settings/identity_file.ts";
import { fileIdOf } from "../../../src/crypto/file_id.ts";
import { LABEL } from "../../../src/crypto/labels.ts";
import { sign } from "../../../src/crypto/sign.ts";
import {
  chunkCount,
  DEFAULT_CHUNK_SIZE,
  sealChunk,
  TAG_BYTES,
} from "../../../src/crypto/stream.ts";
import { finalSignedData } from "../../../src/peer/final_signed_data.ts";
import { formatTicket, parseTicket } from "../../../src/peer/ticket.ts";
import { initiate, respond } from "../../../src/wire/handshake.ts";
import { FRAME_HEADER_BYTES, FrameKind, recycleChunkBody } from "../../../src/wire/frame.ts";
import { type Manifest, MessageType } from "../../../src/wire/messages.ts";
import {
  type Ceilings,
  evalInChild,
  measureCeilings,
  type Rate,
  renderCeilings,
} from "./ceilings.ts";
import { SFS_CMD } from "../../lib/sfs_process.ts";
import { fromHex } from "../../../src/crypto/bytes.ts";
import { median } from "../stats.ts";
import { parseTimeVerbose, type ProcessUsage } from "./gnu_time.ts";
import type { Bench, SourceFile } from "./runs.ts";

/** The receiver-alone peer's write size: large writes keep its share of the CPU small. */
const PEER_WRITE_BYTES = 8 * 1024 * 1024;

/** The receiver-alone peer's sealed frames are kept in segments of about this size. */
const SEGMENT_BYTES = 1024 ** 3;

/** One side measured alone: its rate over the payload, and what its whole process used. */
export interface AloneRun {
  /**
   * `bare-send`: a sender without crypto (file to socket) into a reader like `send`'s;
   * `bare`: a receiver without crypto (socket to file), fed the same way as `get`.
   */
  side: "send" | "get" | "bare-send" | "bare";
  /** Payload bytes over the time from the first chunk to the last (send) or to exit (get). */
  megabytesPerSecond: number;
  usage?: ProcessUsage;
}

/** Runs `sfs` under GNU time when the benchmark measures that way. */
function spawnTimed(bench: Bench, args: string[], home: string, timeFile: string) {
  const time = bench.rss.kind === "gnu-time" ? [bench.rss.bin, "-v", "-o", timeFile] : [];
  const proc = bench.res.spawn([...time, ...SFS_CMD, ...args], { home });
  const usage = async () =>
    time.length === 0
      ? undefined
      : parseTimeVerbose(await Deno.readTextFile(timeFile).catch(() => ""));
  return { proc, usage };
}

/**
 * The real `sfs send --once` serving `source` to a receiver that checks the handshake and then
 * reads every chunk without opening it: the sender's own speed.
 */
export async function senderAlone(bench: Bench, source: SourceFile): Promise<AloneRun> {
  const dir = await Deno.makeTempDir({ dir: bench.root, prefix: "alone-send-" });
  try {
    const send = spawnTimed(
      bench,
      ["send", source.path, "--listen", "127.0.0.1:0", "--once", "--json", "--quiet"],
      bench.senderHome,
      join(dir, "send.time"),
    );
    await using sender = send.proc;
    const ready = await sender.nextEvent((e) => e.event === "ready", 120_000);
    const ticket = parseTicket(String(ready.ticket));
    const identity = await loadIdentity(bench.receiverHome);
    const conn = await Deno.connect({ hostname: ticket.host, port: ticket.port });
    const channel = await initiate(conn, identity, {
      peerName: "sender",
      early: { type: MessageType.GET, fileId: ticket.fileId, offset: 0 },
      verifyResponder: () => {},
    });
    try {
      const manifest = await channel.expect(MessageType.MANIFEST);
      let started = 0;
      for (;;) {
        const frame = await channel.receiveChunkOrMessage(manifest.chunkSize + TAG_BYTES);
        if (frame.type !== "chunk") break; // the FINAL
        started ||= performance.now();
        // The next chunk reuses this body: the peer allocates nothing per chunk.
        recycleChunkBody(frame.data);
      }
      const seconds = (performance.now() - started) / 1000;
      // The sender checked its content hash as it sent; the receipt is signed as a receiver's.
      await channel.send(
        await signReceipt(identity, {
          shareId: manifest.fileId,
          manifestHash: fileManifestOf(channel.peer.fingerprint, manifest)?.manifestHash ??
            NO_MANIFEST_HASH,
          senderFingerprint: channel.peer.fingerprint,
          receiverFingerprint: identity.public.fingerprint,
          receivedAt: Date.now(),
          transcriptHash: channel.transcriptHash,
        }),
      );
      const status = await sender.status;
      if (!status.success) throw new Error(`sfs send failed:\n${sender.stderrText()}`);
      return {
        side: "send",
        megabytesPerSecond: source.size / 1e6 / seconds,
        usage: await send.usage(),
      };
    } finally {
      channel.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * The real `sfs get` receiving `source` from a sender whose chunks were all sealed before the
 * first went out: the receiver's own speed, its final sync included.
 */
export async function receiverAlone(bench: Bench, source: SourceFile): Promise<AloneRun> {
  const dir = await Deno.makeTempDir({ dir: bench.root, prefix: "alone-get-" });
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const identity = await loadIdentity(bench.senderHome);
    const name = "alone.bin";
    const sha256 = fromHex(source.sha256)!;
    const fileId = await fileIdOf(identity.public.fingerprint, sha256, name);
    const ticket = formatTicket({
      host: "127.0.0.1",
      port: listener.addr.port,
      fileId,
      fingerprint: identity.public.fingerprint,
    });
    // Every chunk's plaintext laid out in its frame now, before `sfs get` starts: touching GiBs
    // of fresh memory is slow here (51 s for 4 GiB), longer than its 30 s idle deadline.
    let segments: Uint8Array<ArrayBuffer>[] | undefined = await layOutFrames(
      source,
      DEFAULT_CHUNK_SIZE,
    );
    const get = spawnTimed(
      bench,
      ["get", ticket, "--out", dir, "--json", "--quiet"],
      bench.receiverHome,
      join(dir, "get.time"),
    );
    await using receiver = get.proc;
    const conn = await listener.accept();
    const channel = await respond(conn, identity, {
      peerName: "receiver",
      earlyTypes: new Set([MessageType.GET]),
    });
    try {
      await channel.expect(MessageType.GET);
      const fields = {
        name,
        size: source.size,
        sha256,
        executable: false,
        mtime: 0,
        createdAt: Date.now(),
      };
      const manifest: Manifest = {
        type: MessageType.MANIFEST,
        fileId,
        ...fields,
        chunkSize: DEFAULT_CHUNK_SIZE,
        offset: 0,
        manifestSignatures: (await signFileManifest(identity, fields)).signatures,
      };
      // Sealed in place under this session's key before the manifest goes out (AES-GCM at
      // GB/s): the receiver only waits.
      const sealing = performance.now();
      await sealInPlace(channel.payloadKey, segments, source.size, DEFAULT_CHUNK_SIZE);
      bench.log(
        `peer sealed ${source.size} bytes in ${(performance.now() - sealing).toFixed(0)} ms`,
      );
      await channel.send(manifest);
      const started = performance.now();
      // Chunk frames use no record sequence number, so they may bypass the channel's writer;
      // its queue is empty here (the manifest's send has resolved) and the FINAL goes after.
      try {
        for (const frames of segments) {
          for (let at = 0; at < frames.length;) {
            const end = Math.min(frames.length, at + PEER_WRITE_BYTES);
            at += await conn.write(frames.subarray(at, end));
          }
        }
      } catch (err) {
        // The receiver hung up: its own words say why.
        await receiver.status;
        throw new Error(`sfs get hung up:\n${receiver.stderrText()}`, { cause: err });
      }
      segments = undefined; // GiBs the benchmark process need not keep through the FINAL
      const data = await finalSignedData(channel.transcriptHash, manifest);
      const signatures = await sign(identity, LABEL.FINAL_SIGNATURE, data, "both");
      await channel.send({ type: MessageType.FINAL, signatures });
      await channel.expect(MessageType.RECEIPT);
      const status = await receiver.status;
      const seconds = (performance.now() - started) / 1000;
      if (!status.success) throw new Error(`sfs get failed:\n${receiver.stderrText()}`);
      return {
        side: "get",
        megabytesPerSecond: source.size / 1e6 / seconds,
        usage: await get.usage(),
      };
    } finally {
      channel.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * The least any sender does, in the same conditions as {@link senderAlone}: a child Deno process
 * that reads `source` a chunk at a time (synchronously, as sfs does) and writes each chunk to
 * loopback TCP, with no sealing, into this process reading and dropping every byte. Timed from
 * the first byte read to the last.
 */
export async function bareSenderAlone(_bench: Bench, source: SourceFile): Promise<AloneRun> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const sender =
    `const c = await Deno.connect({ hostname: "127.0.0.1", port: ${listener.addr.port} });
const f = Deno.openSync(${JSON.stringify(source.path)}, { read: true });
const b = new Uint8Array(${DEFAULT_CHUNK_SIZE});
for (let n = f.readSync(b); n !== null && n > 0; n = f.readSync(b)) {
  for (let d = 0; d < n;) d += await c.write(b.subarray(d, n));
}
c.close();`;
  const sent = evalInChild(sender, "bare sender");
  using conn = await listener.accept();
  const buffer = new Uint8Array(DEFAULT_CHUNK_SIZE);
  let read = 0;
  let started = 0;
  for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
    started ||= performance.now();
    read += n;
  }
  const seconds = (performance.now() - started) / 1000;
  await sent;
  if (read !== source.size) throw new Error(`bare sender sent ${read} of ${source.size} bytes`);
  return { side: "bare-send", megabytesPerSecond: source.size / 1e6 / seconds };
}

/**
 * The least any receiver does, in the same conditions as {@link receiverAlone}: a child Deno
 * process that reads the same frames (laid out the same way, in this process's memory) from
 * loopback TCP, writes each read to a new file and syncs it, with no opening and no hashing.
 * Timed like `sfs get` alone: from the first frame written to the child's exit.
 */
export async function bareReceiverAlone(bench: Bench, source: SourceFile): Promise<AloneRun> {
  const dir = await Deno.makeTempDir({ dir: bench.root, prefix: "alone-bare-" });
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    let segments: Uint8Array<ArrayBuffer>[] | undefined = await layOutFrames(
      source,
      DEFAULT_CHUNK_SIZE,
    );
    const receiver =
      `const c = await Deno.connect({ hostname: "127.0.0.1", port: ${listener.addr.port} });
const f = Deno.openSync(${JSON.stringify(join(dir, "bare.bin"))}, { write: true, create: true });
const b = new Uint8Array(${DEFAULT_CHUNK_SIZE});
for (let n = await c.read(b); n !== null; n = await c.read(b)) {
  for (let d = 0; d < n;) d += f.writeSync(b.subarray(d, n));
}
f.syncDataSync();`;
    const received = evalInChild(receiver, "bare receiver");
    const conn = await listener.accept();
    const started = performance.now();
    try {
      for (const frames of segments) {
        for (let at = 0; at < frames.length;) {
          at += await conn.write(
            frames.subarray(at, Math.min(frames.length, at + PEER_WRITE_BYTES)),
          );
        }
      }
    } finally {
      conn.close();
    }
    segments = undefined;
    await received;
    const seconds = (performance.now() - started) / 1000;
    return { side: "bare", megabytesPerSecond: source.size / 1e6 / seconds };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/**
 * Every chunk frame of `source`, end to end, with its header and its plaintext where the sealed
 * body goes (the tag's room left zero), in segments of whole frames of at most about
 * {@link SEGMENT_BYTES} (a typed array holds less than 4 GiB).
 */
async function layOutFrames(
  source: SourceFile,
  chunkSize: number,
): Promise<Uint8Array<ArrayBuffer>[]> {
  const count = chunkCount(source.size, chunkSize);
  const perSegment = Math.max(
    1,
    Math.floor(SEGMENT_BYTES / (FRAME_HEADER_BYTES + chunkSize + TAG_BYTES)),
  );
  using file = await Deno.open(source.path, { read: true });
  const segments: Uint8Array<ArrayBuffer>[] = [];
  for (let first = 0; first < count; first += perSegment) {
    const end = Math.min(count, first + perSegment);
    const bytes = Math.min(source.size, end * chunkSize) - first * chunkSize;
    const frames = new Uint8Array(bytes + (end - first) * (FRAME_HEADER_BYTES + TAG_BYTES));
    const view = new DataView(frames.buffer);
    let at = 0;
    for (let index = first; index < end; index++) {
      const length = Math.min(chunkSize, source.size - index * chunkSize);
      view.setUint32(at, length + TAG_BYTES + 1);
      view.setUint8(at + 4, FrameKind.CHUNK);
      const body = frames.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length);
      for (let filled = 0; filled < length;) {
        const n = await file.read(body.subarray(filled));
        if (n === null) throw new Error(`"${source.path}" is shorter than ${source.size} bytes`);
        filled += n;
      }
      at += FRAME_HEADER_BYTES + length + TAG_BYTES;
    }
    segments.push(frames);
  }
  return segments;
}

/** Seals every frame body {@link layOutFrames} made, in place, as the sender would seal it. */
async function sealInPlace(
  key: Parameters<typeof sealChunk>[0],
  segments: Uint8Array<ArrayBuffer>[],
  size: number,
  chunkSize: number,
): Promise<void> {
  const count = chunkCount(size, chunkSize);
  let index = 0;
  for (const frames of segments) {
    for (let at = 0; at < frames.length; index++) {
      const length = Math.min(chunkSize, size - index * chunkSize);
      const body = at + FRAME_HEADER_BYTES;
      const plaintext = frames.subarray(body, body + length);
      const into = frames.subarray(body, body + length + TAG_BYTES);
      await sealChunk(key, index, index === count - 1, plaintext, { into });
      at = body + length + TAG_BYTES;
    }
  }
}

/** Both sides alone, `runs` times each, and the openssl rate between them. */
export interface AloneResults {
  opensslMBps: number | string;
  /** What bounds each side on this machine, measured just before the sides. */
  ceilings: Ceilings;
  runs: AloneRun[];
}

/** Measures each side alone `runs` times, alternating, with `openssl speed` first. */
export async function measureAlone(
  bench: Bench,
  source: SourceFile,
  runs: number,
): Promise<AloneResults> {
  const ceilings = await measureCeilings(bench.root, source.size);
  bench.log(renderCeilings(ceilings, source.size));
  const opensslMBps = ceilings.opensslAesGcmSeal;
  bench.log(
    typeof opensslMBps === "number"
      ? `openssl speed -evp aes-256-gcm, one core: ${opensslMBps.toFixed(0)} MB/s`
      : `openssl speed skipped: ${opensslMBps}`,
  );
  const results: AloneRun[] = [];
  for (let i = 1; i <= runs; i++) {
    for (const run of [senderAlone, bareSenderAlone, receiverAlone, bareReceiverAlone]) {
      const result = await run(bench, source);
      const u = result.usage;
      const cpu = u
        ? `, ${u.cpuSeconds.toFixed(2)} s CPU (${u.systemSeconds.toFixed(2)} kernel), ` +
          `${(u.peakRssKiB / 1024).toFixed(0)} MiB peak RSS, ${u.minorPageFaults} faults`
        : "";
      bench.log(`${result.side} alone ${i}: ${result.megabytesPerSecond.toFixed(0)} MB/s${cpu}`);
      results.push(result);
    }
  }
  return { opensslMBps, ceilings, runs: results };
}

/** How each side is named in the table. */
const SIDE_LABELS: Record<AloneRun["side"], string> = {
  "send": "sfs send",
  "bare-send": "bare sender (no crypto)",
  "get": "sfs get",
  "bare": "bare receiver (no crypto)",
};

/**
 * The fastest a side can go on one core when every byte passes each of `steps` (MB/s each, on
 * one core) one after the other: the inverse of the sum of their times per byte. Undefined when
 * a step was not measured.
 */
export function oneCoreCeiling(steps: readonly Rate[]): number | undefined {
  if (!steps.every((rate) => typeof rate === "number" && rate > 0)) return undefined;
  return 1 / (steps as number[]).reduce((sum, rate) => sum + 1 / rate, 0);
}

/**
 * What a side alone can reach on this machine: one core (the other runs its peer), its bare twin
 * and then its crypto for each byte. In real use each side has its own cores and may overlap them.
 */
function oneCoreLine(
  side: "send" | "get",
  rate: number,
  openssl: Rate,
  steps: readonly Rate[],
  crypto: string,
): string {
  const ceiling = oneCoreCeiling(steps);
  if (ceiling === undefined || typeof openssl !== "number") return "";
  return `One core for sfs ${side} (the other runs its peer) cannot go faster than its bare ` +
    `twin plus openssl's ${crypto} on each byte, one after the other: ${
      ceiling.toFixed(0)
    } MB/s, ` +
    `${(100 * ceiling / openssl).toFixed(0)} % of openssl. sfs ${side} alone reaches ` +
    `${(100 * rate / ceiling).toFixed(0)} % of that.`;
}

/** The Markdown rows of {@link measureAlone}: medians, and each side's share of openssl. */
export function renderAlone(results: AloneResults, size: number): string {
  const lines = [
    `Each side alone, ${(size / 2 ** 30).toFixed(size >= 2 ** 30 ? 0 : 3)} GiB, its peer in the ` +
    "benchmark process; medians of each run; CPU and RSS of the whole sfs process.",
    "",
    "| Side alone | MB/s (each run) | CPU s | peak RSS | share of openssl one core |",
    "| --- | --- | --- | --- | --- |",
  ];
  const openssl = results.opensslMBps;
  for (const side of ["send", "bare-send", "get", "bare"] as const) {
    const runs = results.runs.filter((r) => r.side === side);
    const rates = runs.map((r) => r.megabytesPerSecond);
    const rate = median(rates);
    const cpu = runs.flatMap((r) => r.usage ? [r.usage.cpuSeconds] : []);
    const rss = runs.flatMap((r) => r.usage ? [r.usage.peakRssKiB / 1024] : []);
    const share = typeof openssl === "number" ? `${(100 * rate / openssl).toFixed(0)} %` : "–";
    lines.push(
      `| ${SIDE_LABELS[side]} | ${rate.toFixed(0)} (${
        rates.map((r) => r.toFixed(0)).join(", ")
      }) | ` +
        `${cpu.length ? median(cpu).toFixed(2) : "–"} | ` +
        `${rss.length ? `${Math.max(...rss).toFixed(0)} MiB` : "–"} | ${share} |`,
    );
  }
  lines.push(
    `| openssl speed -evp aes-256-gcm, one core, ${DEFAULT_CHUNK_SIZE / 1024} KiB blocks | ` +
      `${typeof openssl === "number" ? openssl.toFixed(0) : openssl} | | | 100 % |`,
  );
  const rateOf = (side: AloneRun["side"]) =>
    median(results.runs.filter((r) => r.side === side).map((r) => r.megabytesPerSecond));
  const { opensslAesGcmSeal: seal, opensslAesGcmOpen: open, opensslSha256: sha } = results.ceilings;
  if (results.runs.some((r) => r.side === "bare-send")) {
    lines.push(
      "",
      `sfs send alone reaches ${(100 * rateOf("send") / rateOf("bare-send")).toFixed(0)} % of ` +
        "the bare sender (the same file into the same kind of reader, read a chunk at a time " +
        "and written to the socket: what any sender must do, without crypto).",
      "",
      oneCoreLine("send", rateOf("send"), openssl, [rateOf("bare-send"), seal], "seal"),
    );
  }
  if (results.runs.some((r) => r.side === "bare")) {
    lines.push(
      "",
      `sfs get alone reaches ${(100 * rateOf("get") / rateOf("bare")).toFixed(0)} % of the bare ` +
        "receiver (the same frames into a process that only writes them to a file and syncs it: " +
        "what any receiver must do, without crypto).",
      "",
      oneCoreLine("get", rateOf("get"), openssl, [rateOf("bare"), open, sha], "open + SHA-256"),
    );
  }
  lines.push("", renderCeilings(results.ceilings, size));
  return lines.join("\n");
}
