/**
 * SHA-256 through OpenSSL's EVP digest calls, over a libcrypto that src/native/libcrypto.ts
 * opened (as for aead_openssl.ts, the functions arrive as a table, so this file stays free of
 * Deno APIs). Every update runs on the calling thread: handing each chunk to Deno's thread pool
 * (a nonblocking FFI call) made a 1 GiB download a third slower, each hand-over waking another
 * thread (docs/PERFORMANCE.md, session 7). Every length passed to C is compared with its buffer
 * first.
 */
import { SfsError } from "../errors.ts";
import type { Bytes } from "./bytes.ts";
import { SHA256_BYTES, type Sha256Hasher, spentError } from "./sha256.ts";

/**
 * The libcrypto functions this hasher calls, as Deno's FFI presents them (`P`: its pointer
 * type; `size_t` is a bigint).
 */
export interface LibcryptoSha256<P> {
  EVP_MD_CTX_new(): P;
  EVP_MD_CTX_free(ctx: P): void;
  EVP_sha256(): P;
  EVP_DigestInit_ex(ctx: P, type: P, engine: null): number;
  EVP_DigestUpdate(ctx: P, data: Uint8Array, count: bigint): number;
  EVP_DigestFinal_ex(ctx: P, md: Uint8Array, size: null): number;
  EVP_MD_CTX_copy_ex(out: P, from: P): number;
  ERR_clear_error(): void;
}

/** Largest update passed to C in one call; far above any chunk. */
const MAX_UPDATE_BYTES = 2 ** 30;

/** Frees the context of a hasher dropped before its digest. */
const FINALIZER = new FinalizationRegistry<() => void>((free) => free());

/** SHA-256 on OpenSSL. */
export class OpenSslSha256<P> implements Sha256Hasher {
  readonly #lib: LibcryptoSha256<P>;
  #ctx: P | null;
  /** The first failed update: the state is then unknown, so every later call fails too. */
  #error: SfsError | undefined;

  /** A fresh hasher, or with `from`, one in the same state as that context (see copy()). */
  constructor(lib: LibcryptoSha256<P>, from?: P) {
    this.#lib = lib;
    const ctx = lib.EVP_MD_CTX_new();
    if (ctx === null) throw failed("EVP_MD_CTX_new");
    const [ok, call] = from === undefined
      ? [lib.EVP_DigestInit_ex(ctx, lib.EVP_sha256(), null), "EVP_DigestInit_ex"]
      : [lib.EVP_MD_CTX_copy_ex(ctx, from), "EVP_MD_CTX_copy_ex"];
    if (ok !== 1) {
      lib.EVP_MD_CTX_free(ctx);
      lib.ERR_clear_error();
      throw failed(call);
    }
    this.#ctx = ctx;
    FINALIZER.register(this, () => lib.EVP_MD_CTX_free(ctx), this);
  }

  update(data: Uint8Array): void {
    const ctx = this.#live();
    checkLength(data);
    if (data.length > 0 && this.#lib.EVP_DigestUpdate(ctx, data, BigInt(data.length)) !== 1) {
      throw this.#error = this.#fail("EVP_DigestUpdate");
    }
  }

  copy(): OpenSslSha256<P> {
    return new OpenSslSha256(this.#lib, this.#live());
  }

  // deno-lint-ignore require-await -- async so that a failure is a rejection, as for other hashers
  async digest(): Promise<Bytes> {
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
