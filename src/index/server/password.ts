/**
 * Password hashing for index accounts: scrypt through `node:crypto`, stored as the self-describing
 * string `scrypt$N$r$p$saltB64$hashB64` so parameters can be raised later without breaking old
 * rows (each hash carries its own).
 *
 * Cost measured on the 2-core development machine (Deno 2.9, `node:crypto` async scrypt):
 * N=2^14 ≈ 41 ms, N=2^15 ≈ 84–90 ms (the default), N=2^16 ≈ 220 ms per hash. The async form runs
 * on a thread pool, so the event loop keeps serving other connections meanwhile; two hashes run
 * in parallel (4 concurrent ≈ 200 ms, 8 ≈ 390 ms), so one server does about 20 logins a second
 * and should apply its failed-login limits before hashing, not after.
 */
import type { Buffer } from "node:buffer";
import { scrypt, timingSafeEqual } from "node:crypto";
import { SfsError } from "../../errors.ts";
import { fromBase64, toBase64 } from "../../crypto/bytes.ts";
import { MAX_PASSWORD_BYTES } from "../protocol/limits.ts";

/** scrypt cost parameters and sizes; every field is optional in {@linkcode hashPassword}. */
export interface PasswordHashOptions {
  /** CPU/memory cost, a power of two. @default {2 ** 15} */
  N?: number;
  /** Block size. @default {8} */
  r?: number;
  /** Parallelism. @default {1} */
  p?: number;
  /** Salt length in bytes. @default {32} */
  saltLength?: number;
  /** Derived key length in bytes. @default {32} */
  hashLength?: number;
  /** Source of the salt; tests inject a fixed one. @default {crypto.getRandomValues} */
  random?: (bytes: Uint8Array) => void;
}

/** Default scrypt cost: about 84 ms and 32 MiB per hash on the development machine. */
export const DEFAULT_SCRYPT_N = 2 ** 15;
/** Largest accepted N; beyond it one hash costs seconds and gigabytes. */
export const MAX_SCRYPT_N = 2 ** 20;
/** Smallest accepted N, low enough for fast tests and still a real scrypt run. */
export const MIN_SCRYPT_N = 2 ** 4;
/** Largest accepted r and p. */
export const MAX_SCRYPT_RP = 16;
/** Memory ceiling for one hash (128·N·r bytes): N=2^20 with r=8 just fits. */
export const MAX_SCRYPT_MEMORY = 2 ** 30;

const PREFIX = "scrypt";
const MIN_BYTES = 16;
const MAX_BYTES = 64;
const DECIMAL = /^[1-9][0-9]{0,9}$/;
const encoder = new TextEncoder();

interface Params {
  N: number;
  r: number;
  p: number;
}

/**
 * Hashes `password` with scrypt and a fresh random salt; throws SfsError USAGE for an empty or
 * over-long password or out-of-range parameters.
 */
export async function hashPassword(
  password: string,
  options: PasswordHashOptions = {},
): Promise<string> {
  const params: Params = {
    N: options.N ?? DEFAULT_SCRYPT_N,
    r: options.r ?? 8,
    p: options.p ?? 1,
  };
  const saltLength = options.saltLength ?? 32;
  const hashLength = options.hashLength ?? 32;
  const problem = checkParams(params) ??
    checkLength("Salt", saltLength) ?? checkLength("Hash", hashLength);
  if (problem !== undefined) throw new SfsError("USAGE", problem);
  const pw = passwordBytes(password);
  if (pw === undefined || pw.length === 0) {
    throw new SfsError("USAGE", `Password must be 1 to ${MAX_PASSWORD_BYTES} bytes long`);
  }
  const salt = new Uint8Array(saltLength);
  (options.random ?? ((b: Uint8Array) => crypto.getRandomValues(b)))(salt);
  const hash = await derive(pw, salt, hashLength, params);
  return [PREFIX, params.N, params.r, params.p, toBase64(salt), toBase64(hash)].join("$");
}

/**
 * Checks `password` against an encoding made by {@linkcode hashPassword}, comparing in constant
 * time. Throws SfsError INTERNAL when `encoded` is malformed or has absurd parameters: encodings
 * come from our own store, so a bad one means corruption, never a wrong password.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const { params, salt, hash } = parseEncoded(encoded);
  const pw = passwordBytes(password);
  // Over-long input cannot match anything we stored; refuse it before spending a hash on it.
  if (pw === undefined) return false;
  const candidate = await derive(pw, salt, hash.length, params);
  return timingSafeEqualBytes(candidate, hash);
}

/** True when `encoded` was made with weaker parameters than `options` ask for (rehash on login). */
export function needsRehash(encoded: string, options: PasswordHashOptions = {}): boolean {
  const { params, hash } = parseEncoded(encoded);
  return params.N < (options.N ?? DEFAULT_SCRYPT_N) || params.r < (options.r ?? 8) ||
    params.p < (options.p ?? 1) || hash.length < (options.hashLength ?? 32);
}

function parseEncoded(encoded: string): { params: Params; salt: Uint8Array; hash: Uint8Array } {
  const fail = (reason: string): never => {
    throw new SfsError("INTERNAL", `Stored password hash is malformed: ${reason}`);
  };
  const parts = encoded.split("$");
  if (parts.length !== 6 || parts[0] !== PREFIX) fail("not an scrypt$N$r$p$salt$hash string");
  const [n, r, p] = parts.slice(1, 4).map((s) => DECIMAL.test(s) ? Number(s) : NaN);
  const params = { N: n, r, p };
  const problem = checkParams(params);
  if (problem !== undefined) fail(problem);
  const salt = fromBase64(parts[4]) ?? fail("salt is not canonical base64");
  const hash = fromBase64(parts[5]) ?? fail("hash is not canonical base64");
  const sizes = checkLength("Salt", salt.length) ?? checkLength("Hash", hash.length);
  if (sizes !== undefined) fail(sizes);
  return { params, salt, hash };
}

/** Returns why the parameters are unacceptable, or undefined when they are fine. */
function checkParams({ N, r, p }: Params): string | undefined {
  if (!Number.isInteger(N) || N < MIN_SCRYPT_N || N > MAX_SCRYPT_N || (N & (N - 1)) !== 0) {
    return `N must be a power of two from ${MIN_SCRYPT_N} to ${MAX_SCRYPT_N}`;
  }
  for (const [name, value] of [["r", r], ["p", p]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_SCRYPT_RP) {
      return `${name} must be an integer from 1 to ${MAX_SCRYPT_RP}`;
    }
  }
  if (128 * N * r > MAX_SCRYPT_MEMORY) return "N and r need more than 1 GiB of memory";
  // RFC 7914 §2 requires N < 2^(128·r/8); node:crypto throws a RangeError otherwise.
  if (Math.log2(N) >= 16 * r) return "N must be less than 2^(16·r)";
  return undefined;
}

function checkLength(what: string, length: number): string | undefined {
  if (!Number.isInteger(length) || length < MIN_BYTES || length > MAX_BYTES) {
    return `${what} length must be ${MIN_BYTES} to ${MAX_BYTES} bytes`;
  }
  return undefined;
}

/** NFC form so the same password typed on different systems hashes the same; undefined if long. */
function passwordBytes(password: string): Uint8Array | undefined {
  const bytes = encoder.encode(password.normalize("NFC"));
  return bytes.length > MAX_PASSWORD_BYTES ? undefined : bytes;
}

function derive(pw: Uint8Array, salt: Uint8Array, length: number, params: Params): Promise<Buffer> {
  // scrypt needs 128·N·r bytes for V plus 128·r·p for B; Node refuses when that reaches maxmem,
  // and its 32 MiB default is exactly our default cost, so give twice the need.
  const maxmem = 2 * 128 * params.r * (params.N + params.p);
  return new Promise((resolve, reject) => {
    const failed = (cause: unknown) => reject(new SfsError("INTERNAL", "scrypt failed", { cause }));
    try {
      // Parameters node:crypto refuses throw synchronously; they must still become an SfsError.
      scrypt(
        pw,
        salt,
        length,
        { ...params, maxmem },
        (err, key) => err ? failed(err) : resolve(key),
      );
    } catch (err) {
      failed(err);
    }
  });
}

function timingSafeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  // timingSafeEqual throws on different lengths; lengths here are public (from the encoding).
  return a.length === b.length && timingSafeEqual(a, b);
}
