/**
 * Test and benchmark files: random content of a given size, and the SHA-256 to check a copy
 * against. Shared by the integration tests (through tests/harness.ts), the benchmarks and the demo.
 *
 * @module
 */

import { createHash } from "node:crypto";

/** getRandomValues refuses more than 65536 bytes per call. */
const RANDOM_CALL_MAX = 65536;
const PIECE = 1024 * 1024;

/** Returns the SHA-256 of a file as lowercase hex, reading it as a stream. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path, { read: true });
  const buf = new Uint8Array(PIECE);
  for (let n = await file.read(buf); n !== null; n = await file.read(buf)) {
    hash.update(buf.subarray(0, n));
  }
  return hash.digest("hex");
}

/** Writes `size` random bytes to `path` in 1 MiB pieces, replacing any existing file. */
export async function randomFile(path: string, size: number): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const piece = new Uint8Array(PIECE);
  for (let left = size; left > 0;) {
    const n = Math.min(left, PIECE);
    for (let off = 0; off < n; off += RANDOM_CALL_MAX) {
      crypto.getRandomValues(piece.subarray(off, Math.min(n, off + RANDOM_CALL_MAX)));
    }
    for (let done = 0; done < n;) done += await file.write(piece.subarray(done, n));
    left -= n;
  }
}
