/**
 * AES-256-GCM seal and open speed at the sfs chunk size on each AEAD backend, next to what
 * `openssl speed` measures on one core in the same run: the ceiling each side of a transfer
 * can reach (issue: each side alone at ≥ 50% of the single-core OpenSSL rate).
 *
 * Usage: `deno task bench:aead [--mib 1024] [--no-openssl-speed]`
 *
 * One chunk is sealed or opened at a time, as the sender and receiver do, either into one
 * reused buffer (`into`) or into a new buffer per chunk. CPU-s/GiB counts every thread of the
 * process (WebCrypto works on Deno's thread pool).
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { type AeadBackend, AeadKey, TAG_BYTES } from "../src/crypto/aead.ts";
import { WEBCRYPTO_AEAD } from "../src/crypto/aead_webcrypto.ts";
import type { Bytes } from "../src/crypto/bytes.ts";
import { chunkNonce, DEFAULT_CHUNK_SIZE } from "../src/crypto/stream.ts";
import { loadLibcrypto } from "../src/native/libcrypto.ts";
import { megabytesPerSecond } from "./bench/format.ts";

const GIB = 1024 ** 3;

interface Rate {
  mbps: number;
  cpuSecondsPerGib: number;
}

/** Runs `step` over `count` chunks after a short warm-up; MB/s and CPU-s per GiB. */
async function timed(count: number, step: (i: number) => Promise<unknown>): Promise<Rate> {
  for (let i = 0; i < 8; i++) await step(i);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < count; i++) await step(i);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const bytes = count * DEFAULT_CHUNK_SIZE;
  return {
    mbps: megabytesPerSecond(bytes, seconds),
    cpuSecondsPerGib: ((cpu.user + cpu.system) / 1e6) * (GIB / bytes),
  };
}

async function measure(backend: AeadBackend, count: number): Promise<Record<string, Rate>> {
  using key = await AeadKey.import(crypto.getRandomValues(new Uint8Array(32)), { backend });
  const plaintext = new Uint8Array(DEFAULT_CHUNK_SIZE);
  for (let off = 0; off < plaintext.length; off += 65536) {
    crypto.getRandomValues(plaintext.subarray(off, off + 65536));
  }
  const nonce = chunkNonce(0, false);
  const sealed = await key.seal(nonce, plaintext);
  const sealBuffer: Bytes = new Uint8Array(DEFAULT_CHUNK_SIZE + TAG_BYTES);
  const openBuffer: Bytes = new Uint8Array(DEFAULT_CHUNK_SIZE);
  return {
    "seal into": await timed(
      count,
      (i) => key.seal(chunkNonce(i, false), plaintext, { into: sealBuffer }),
    ),
    "open into": await timed(count, () => key.open(nonce, sealed, { into: openBuffer })),
    "seal new": await timed(count, (i) => key.seal(chunkNonce(i, false), plaintext)),
    "open new": await timed(count, () => key.open(nonce, sealed)),
  };
}

/** `openssl speed -evp aes-256-gcm -seconds 3` on one core: its 16 KiB column, in MB/s. */
async function opensslSpeed(): Promise<{ mbps: number; version: string } | undefined> {
  try {
    const run = (args: string[]) =>
      new Deno.Command("openssl", { args, stdout: "piped", stderr: "null" }).output();
    const version = new TextDecoder().decode((await run(["version"])).stdout).trim();
    const speed = await run(["speed", "-evp", "aes-256-gcm", "-seconds", "3"]);
    const row = new TextDecoder().decode(speed.stdout).split("\n")
      .find((line) => /^aes-256-gcm\s/i.test(line));
    const last = row?.trim().split(/\s+/).at(-1);
    if (!last?.endsWith("k")) return undefined;
    // openssl prints thousands of bytes per second.
    return { mbps: Number(last.slice(0, -1)) / 1000, version };
  } catch {
    return undefined;
  }
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      mib: { type: "string", default: "1024" },
      "no-openssl-speed": { type: "boolean", default: false },
    },
    strict: true,
  });
  const mib = Number(values.mib);
  if (!(Number.isInteger(mib) && mib >= 1)) {
    console.error(`bench_aead: --mib must be a whole number of MiB, got "${values.mib}"`);
    return 2;
  }
  const count = Math.max(1, Math.round(mib * 1024 * 1024 / DEFAULT_CHUNK_SIZE));
  const libcrypto = loadLibcrypto();
  const backends = [WEBCRYPTO_AEAD, ...libcrypto ? [libcrypto.aead] : []];
  console.log(`# AES-256-GCM, ${DEFAULT_CHUNK_SIZE / 1024} KiB chunks, ${count} per row`);
  console.log(`deno ${Deno.version.deno}, ${Deno.build.target}`);
  for (const backend of backends) console.log(`backend ${backend.name}: ${backend.description}`);
  if (!libcrypto) console.log("backend openssl: not loaded (libcrypto 3 missing or not allowed)");
  console.log("");
  console.log("| backend | operation | MB/s | CPU-s/GiB |");
  console.log("|---|---|---:|---:|");
  for (const backend of backends) {
    for (const [operation, rate] of Object.entries(await measure(backend, count))) {
      console.log(
        `| ${backend.name} | ${operation} | ${rate.mbps.toFixed(0)} | ${
          rate.cpuSecondsPerGib.toFixed(2)
        } |`,
      );
    }
  }
  if (!values["no-openssl-speed"]) {
    const speed = await opensslSpeed();
    console.log("");
    console.log(
      speed
        ? `openssl speed -evp aes-256-gcm -seconds 3 (${speed.version}), 16 KiB blocks, one core: ${
          speed.mbps.toFixed(0)
        } MB/s`
        : "openssl speed: not available",
    );
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
