/**
 * Peak RSS of each sfs process for a file four times the benchmark's size (4 GiB by default),
 * issue 12's second memory row: memory must stay flat in the file size. One transfer, from a
 * new file made of the source repeated, so the sender hashes it first as it would any new file.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join } from "node:path";
import { formatSize } from "../format.ts";
import { type Bench, type Measured, measuredSfsRun, type SourceFile } from "./runs.ts";
import { TARGET, type Target } from "./report.ts";

/** How many times the source is repeated. */
export const LARGE_FACTOR = 4;
/** Bytes per copy step while making the large file. */
const COPY_BYTES = 8 * 1024 * 1024;

/** The large run: its size and what one sfs transfer of it measured. */
export interface LargeRun {
  bytes: number;
  run: Measured;
}

/** Makes the large file next to `source`, moves it once with sfs, and removes it. */
export async function measureLarge(bench: Bench, source: SourceFile): Promise<LargeRun> {
  const path = join(bench.root, "source", `large-${LARGE_FACTOR}x.bin`);
  try {
    const large = await repeatFile(source, path);
    return { bytes: large.size, run: await measuredSfsRun(bench, large) };
  } finally {
    await Deno.remove(path).catch(() => {});
  }
}

/** Writes `source` `LARGE_FACTOR` times to `path`, hashing what it writes (no second read). */
async function repeatFile(source: SourceFile, path: string): Promise<SourceFile> {
  using out = await Deno.open(path, { write: true, create: true, truncate: true });
  const hash = createHash("sha256");
  const buffer = new Uint8Array(COPY_BYTES);
  for (let copy = 0; copy < LARGE_FACTOR; copy++) {
    using from = await Deno.open(source.path, { read: true });
    for (let n = await from.read(buffer); n !== null; n = await from.read(buffer)) {
      hash.update(buffer.subarray(0, n));
      for (let done = 0; done < n;) done += await out.write(buffer.subarray(done, n));
    }
  }
  return { path, size: source.size * LARGE_FACTOR, sha256: hash.digest("hex") };
}

/** The Markdown row of {@link measureLarge}. */
export function renderLarge(large: LargeRun): string {
  const { sender, receiver, seconds } = large.run;
  const mib = (kib: number | undefined) =>
    kib === undefined ? "–" : `${(kib / 1024).toFixed(1)} MiB`;
  return [
    `Peak RSS for one ${formatSize(large.bytes)} ` +
    `transfer (the source repeated ${LARGE_FACTOR} times; the sender hashes it first):`,
    "",
    "| Process | peak RSS | CPU s |",
    "| --- | --- | --- |",
    `| sfs send | ${mib(sender?.peakRssKiB)} | ${sender?.cpuSeconds.toFixed(2) ?? "–"} |`,
    `| sfs get | ${mib(receiver?.peakRssKiB)} | ${receiver?.cpuSeconds.toFixed(2) ?? "–"} |`,
    "",
    `Time from \`sfs get\` start to exit: ${seconds.toFixed(2)} s.`,
  ].join("\n");
}

/** Issue 12's memory target judged on the large run: each process at most 80 MiB. */
export function largeTarget(large: LargeRun): Target {
  const { sender, receiver } = large.run;
  const peak = sender && receiver ? Math.max(sender.peakRssKiB, receiver.peakRssKiB) / 1024 : null;
  return {
    name: `peak RSS of each sfs process at ${formatSize(large.bytes)}`,
    goal: `≤ ${TARGET.PEAK_RSS_MIB} MiB`,
    value: peak === null ? "not measured" : `${peak.toFixed(1)} MiB`,
    met: peak === null ? null : peak <= TARGET.PEAK_RSS_MIB,
  };
}
