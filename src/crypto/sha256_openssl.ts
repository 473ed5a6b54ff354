/**
 * SHA-256 through OpenSSL's EVP digest calls, over a libcrypto that src/native/libcrypto.ts
 * opened (as for aead_openssl.ts, the functions arrive as a table, so this file stays free of
 * Deno APIs).
 *
 * {@link OpenSslSha256.updateLater} calls `EVP_DigestUpdate` through Deno's nonblocking FFI,
 * which runs it on a thread of Deno's blocking pool: a receiver's main thread opens and writes
 * the next chunks while the last one is hashed (docs/PERFORMANCE.md). What keeps that safe:
 * - one update at a time per context: each waits for the one before (a chain), a synchronous
 *   update is refused while one is pending, and the digest waits for all of them;
 * - the bytes C reads stay alive (the chain holds them) and unchanged (the caller's promise,
 *   stated in {@link Sha256Hasher.updateLater});
 * - the context is not freed under a running call: the chain refers to the hasher, and Deno
 *   holds a pending call's promise, so the finalizer cannot run before the call returns;
 * - every length passed to C was compared with its buffer first.
 */
import { SfsError } from "../errors.ts";
import type { Bytes } from "./bytes.ts";
import { SHA256_BYTES, type Sha256Hasher, spentError } from "./sha256.ts";

/**
 * The libcrypto functions this hasher calls, as Deno's FFI presents them (`P`: its pointer
 * type; `size_t` is a bigint). `EVP_DigestUpdate_nonblocking` is `EVP_DigestUpdate` bound a
 * second time as a nonblocking call.
 */
export interface LibcryptoSha256<P> {
  EVP_MD_CTX_new(): P;
  EVP_MD_CTX_free(ctx: P): void;
  EVP_sha256(): P;
  EVP_DigestInit_ex(ctx: P, type: P, engine: null): number;
  EVP_DigestUpdate(ctx: P, data: Uint8Array, count: bigint): number;
  EVP_DigestUpdate_nonblocking(ctx: P, data: Uint8Array, count: bigint): Promise<number>;
  EVP_DigestFinal_ex(ctx: P, md: Uint8Array, size: null): number;
  ERR_clear_error(): void;
}

/** Largest update passed to C in one call; far above any chunk. */
const MAX_UPDATE_BYTES = 2 ** 30;

/** Frees the context of a hasher dropped before its digest. */
const FINALIZER = new FinalizationRegistry<() => void>((free) => free());

/** SHA-256 on OpenSSL; {@link updateLater} hashes on Deno's thread pool. */
export class OpenSslSha256<P> implements Sha256Hasher {
  readonly #lib: LibcryptoSha256<P>;
  #ctx: P | null;
  /** Settles when every update handed over so far is done; rejects once one failed. */
  #pending: Promise<void> | undefined;
  /** The first failed update: the state is then unknown, so every later call fails too. */
  #error: SfsError | undefined;

  constructor(lib: LibcryptoSha256<P>) {
    this.#lib = lib;
    const ctx = lib.EVP_MD_CTX_new();
    if (ctx === null) throw failed("EVP_MD_CTX_new");
    if (lib.EVP_DigestInit_ex(ctx, lib.EVP_sha256(), null) !== 1) {
      lib.EVP_MD_CTX_free(ctx);
      lib.ERR_clear_error();
      throw failed("EVP_DigestInit_ex");
    }
    this.#ctx = ctx;
    FINALIZER.register(this, () => lib.EVP_MD_CTX_free(ctx), this);
  }

  update(data: Uint8Array): void {
    if (this.#pending !== undefined) {
      throw new SfsError("INTERNAL", "SHA-256 update while another is pending");
    }
    const ctx = this.#live();
    checkLength(data);
    if (data.length > 0 && this.#lib.EVP_DigestUpdate(ctx, data, BigInt(data.length)) !== 1) {
      throw this.#error = this.#fail("EVP_DigestUpdate");
    }
  }

  updateLater(data: Uint8Array): Promise<void> {
    let ctx: P;
    try {
      ctx = this.#live();
      checkLength(data);
    } catch (err) {
      return Promise.reject(err);
    }
    const run = async (): Promise<void> => {
      if (data.length === 0) return;
      const result = await this.#lib.EVP_DigestUpdate_nonblocking(ctx, data, BigInt(data.length));
      // `data` and `this` are used after the call: both stay reachable until C is done.
      if (result !== 1 || data.length < 0) throw this.#error = this.#fail("EVP_DigestUpdate");
    };
    const next = this.#pending === undefined ? run() : this.#pending.then(run);
    const tracked: Promise<void> = next.finally(() => {
      if (this.#pending === tracked) this.#pending = undefined;
    });
    // A failure stays in the chain (later updates and the digest fail too); callers observe
    // their own promise, so this copy must not count as unhandled.
    tracked.catch(() => {});
    this.#pending = tracked;
    return next;
  }

  async digest(): Promise<Bytes> {
    await this.#pending;
    const ctx = this.#live();
    const md = new Uint8Array(SHA256_BYTES);
    const ok = this.#lib.EVP_DigestFinal_ex(ctx, md, null) === 1;
    this.#free();
    if (!ok) throw this.#fail("EVP_DigestFinal_ex");
    return md;
  }

  #live(): P {
    if (this.#error) throw this.#error;
    if (this.#ctx === null) throw spentError();
    return this.#ctx;
  }

  #free(): void {
    if (this.#ctx !== null) this.#lib.EVP_MD_CTX_free(this.#ctx);
    this.#ctx = null;
    FINALIZER.unregister(this);
  }

  #fail(call: string): SfsError {
    this.#lib.ERR_clear_error();
    return failed(call);
  }
}

function checkLength(data: Uint8Array): void {
  if (data.length > MAX_UPDATE_BYTES) {
    throw new SfsError("INTERNAL", `Cannot hash ${data.length} bytes in one call`);
  }
}

function failed(call: string): SfsError {
  return new SfsError("INTERNAL", `OpenSSL SHA-256: ${call} failed`);
}
