/**
 * The OpenSSL AES-256-GCM backend: EVP calls into libcrypto 3, made synchronously through FFI.
 * It seals and opens several times faster than WebCrypto and writes straight into the caller's
 * buffer, with no allocation per call (docs/PERFORMANCE.md).
 *
 * This file holds the call sequence and nothing that touches the system: the functions arrive
 * as a {@link LibcryptoAes} table, which src/native/libcrypto.ts opens with Deno.dlopen after
 * checking the library is OpenSSL 3. So crypto/ stays free of Deno APIs, and the code that
 * decides what C sees (every length, checked again right before each call) sits next to the
 * WebCrypto backend it must match byte for byte.
 *
 * Memory safety rests on three rules: each buffer handed to C is a Uint8Array whose length was
 * compared with the count passed beside it; the tag is always 16 bytes; and every call is
 * synchronous, so no buffer can be detached or resized while C holds its address.
 */
import { SfsError } from "../errors.ts";
import type { AeadBackend, AeadCipher } from "./aead.ts";
import type { Bytes } from "./bytes.ts";

/**
 * The libcrypto functions this backend calls, typed as Deno's FFI presents them: `P` is its
 * pointer type, a `Uint8Array` or `Int32Array` is passed as a pointer to its first byte.
 */
export interface LibcryptoAes<P> {
  EVP_CIPHER_CTX_new(): P;
  EVP_CIPHER_CTX_free(ctx: P): void;
  EVP_aes_256_gcm(): P;
  EVP_EncryptInit_ex: CipherInit<P>;
  EVP_DecryptInit_ex: CipherInit<P>;
  EVP_EncryptUpdate: CipherUpdate<P>;
  EVP_DecryptUpdate: CipherUpdate<P>;
  EVP_EncryptFinal_ex: CipherFinal<P>;
  EVP_DecryptFinal_ex: CipherFinal<P>;
  EVP_CIPHER_CTX_ctrl(ctx: P, type: number, arg: number, ptr: Uint8Array | null): number;
  ERR_clear_error(): void;
}

/** `EVP_EncryptInit_ex` / `EVP_DecryptInit_ex`: a null argument keeps what the context has. */
type CipherInit<P> = (
  ctx: P,
  cipher: P | null,
  engine: null,
  key: Uint8Array | null,
  iv: Uint8Array | null,
) => number;
/** `EVP_EncryptUpdate` / `EVP_DecryptUpdate`; a null `out` takes in associated data. */
type CipherUpdate<P> = (
  ctx: P,
  out: Uint8Array | null,
  outLength: Int32Array,
  input: Uint8Array,
  inputLength: number,
) => number;
/** `EVP_EncryptFinal_ex` / `EVP_DecryptFinal_ex`. */
type CipherFinal<P> = (ctx: P, out: Uint8Array, outLength: Int32Array) => number;

// From openssl/evp.h; stable across OpenSSL 1.1 and 3.
const EVP_CTRL_AEAD_SET_IVLEN = 0x9;
const EVP_CTRL_AEAD_GET_TAG = 0x10;
const EVP_CTRL_AEAD_SET_TAG = 0x11;
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Largest count passed as a C `int`. */
const INT_MAX = 2 ** 31 - 1;

/** The OpenSSL backend over an opened libcrypto; `description` names its version and file. */
export function opensslAead<P>(lib: LibcryptoAes<P>, description: string): AeadBackend {
  return {
    name: "openssl",
    description,
    importKey: (raw) => Promise.resolve(new OpenSslCipher(lib, raw)),
  };
}

/**
 * Frees the contexts of a key that was dropped without dispose(), so a forgotten key costs
 * memory for a while, never for ever. The held value must not refer to the cipher itself.
 */
const FINALIZER = new FinalizationRegistry<() => void>((free) => free());

class OpenSslCipher<P> implements AeadCipher {
  readonly #lib: LibcryptoAes<P>;
  /** One context per direction, each keyed once: a call only sets its nonce. */
  #sealCtx: P | null;
  #openCtx: P | null;
  /** Out-parameters reused by every call: the byte count, and a sink for Final's 0 bytes. */
  readonly #outLength = new Int32Array(1);
  readonly #finalOut = new Uint8Array(TAG_BYTES);

  constructor(lib: LibcryptoAes<P>, raw: Bytes) {
    check(raw.length === KEY_BYTES, "key length");
    this.#lib = lib;
    const aes = lib.EVP_aes_256_gcm();
    const sealCtx = lib.EVP_CIPHER_CTX_new();
    const openCtx = lib.EVP_CIPHER_CTX_new();
    const free = () => {
      // EVP_CIPHER_CTX_free wipes the key schedule before freeing it.
      if (sealCtx !== null) lib.EVP_CIPHER_CTX_free(sealCtx);
      if (openCtx !== null) lib.EVP_CIPHER_CTX_free(openCtx);
    };
    try {
      check(aes !== null && sealCtx !== null && openCtx !== null, "context allocation");
      keyContext(lib, sealCtx, { aes, raw, init: lib.EVP_EncryptInit_ex }, "EVP_EncryptInit_ex");
      keyContext(lib, openCtx, { aes, raw, init: lib.EVP_DecryptInit_ex }, "EVP_DecryptInit_ex");
    } catch (err) {
      free();
      lib.ERR_clear_error();
      throw err;
    }
    this.#sealCtx = sealCtx;
    this.#openCtx = openCtx;
    FINALIZER.register(this, free, this);
  }

  seal(nonce: Bytes, plaintext: Bytes, aad: Bytes | undefined, out: Bytes | undefined): Bytes {
    const lib = this.#lib;
    const ctx = live(this.#sealCtx);
    const length = plaintext.length;
    check(nonce.length === NONCE_BYTES, "nonce length");
    check(length <= INT_MAX - TAG_BYTES && (aad?.length ?? 0) <= INT_MAX, "input length");
    out ??= new Uint8Array(length + TAG_BYTES);
    check(out.length === length + TAG_BYTES, "output length");
    const outLength = this.#outLength;
    try {
      // A null cipher and key keep the expanded key; the nonce restarts GCM's state.
      ok(lib.EVP_EncryptInit_ex(ctx, null, null, null, nonce), "EVP_EncryptInit_ex");
      if (aad !== undefined && aad.length > 0) {
        ok(lib.EVP_EncryptUpdate(ctx, null, outLength, aad, aad.length), "EVP_EncryptUpdate aad");
      }
      if (length > 0) {
        ok(lib.EVP_EncryptUpdate(ctx, out, outLength, plaintext, length), "EVP_EncryptUpdate");
        check(outLength[0] === length, "EVP_EncryptUpdate output length");
      }
      ok(lib.EVP_EncryptFinal_ex(ctx, this.#finalOut, outLength), "EVP_EncryptFinal_ex");
      check(outLength[0] === 0, "EVP_EncryptFinal_ex output length");
      const tag = out.subarray(length);
      check(tag.length === TAG_BYTES, "tag length");
      ok(lib.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_BYTES, tag), "get tag");
      return out;
    } catch (err) {
      lib.ERR_clear_error();
      throw err;
    }
  }

  open(nonce: Bytes, sealed: Bytes, aad: Bytes | undefined, out: Bytes | undefined): Bytes | null {
    const lib = this.#lib;
    const ctx = live(this.#openCtx);
    const length = sealed.length - TAG_BYTES;
    check(nonce.length === NONCE_BYTES, "nonce length");
    check(length >= 0 && length <= INT_MAX && (aad?.length ?? 0) <= INT_MAX, "input length");
    out ??= new Uint8Array(length);
    check(out.length === length, "output length");
    const outLength = this.#outLength;
    let verified = false;
    try {
      ok(lib.EVP_DecryptInit_ex(ctx, null, null, null, nonce), "EVP_DecryptInit_ex");
      const tag = sealed.subarray(length);
      check(tag.length === TAG_BYTES, "tag length");
      // OpenSSL copies the expected tag now and compares it in EVP_DecryptFinal_ex.
      ok(lib.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_BYTES, tag), "set tag");
      if (aad !== undefined && aad.length > 0) {
        ok(lib.EVP_DecryptUpdate(ctx, null, outLength, aad, aad.length), "EVP_DecryptUpdate aad");
      }
      if (length > 0) {
        ok(lib.EVP_DecryptUpdate(ctx, out, outLength, sealed, length), "EVP_DecryptUpdate");
        check(outLength[0] === length, "EVP_DecryptUpdate output length");
      }
      if (lib.EVP_DecryptFinal_ex(ctx, this.#finalOut, outLength) !== 1) return null;
      check(outLength[0] === 0, "EVP_DecryptFinal_ex output length");
      verified = true;
      return out;
    } finally {
      if (!verified) {
        // The plaintext was written before the tag was checked: leave none of it behind.
        out.fill(0);
        lib.ERR_clear_error();
      }
    }
  }

  dispose(): void {
    const { EVP_CIPHER_CTX_free: free } = this.#lib;
    if (this.#sealCtx !== null) free(this.#sealCtx);
    if (this.#openCtx !== null) free(this.#openCtx);
    this.#sealCtx = null;
    this.#openCtx = null;
    FINALIZER.unregister(this);
  }
}

/** Keys one direction's context: cipher, then the 12-byte IV length, then the key (expanded once). */
function keyContext<P>(
  lib: LibcryptoAes<P>,
  ctx: P,
  keying: { aes: P; raw: Bytes; init: CipherInit<P> },
  call: string,
): void {
  ok(keying.init(ctx, keying.aes, null, null, null), call);
  ok(lib.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, NONCE_BYTES, null), "IV length");
  ok(keying.init(ctx, null, null, keying.raw, null), `${call} key`);
}

function live<P>(ctx: P | null): P {
  if (ctx === null) throw new SfsError("INTERNAL", "AES key used after it was disposed");
  return ctx;
}

/** A broken invariant before or after a C call: never reached with checked arguments. */
function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new SfsError("INTERNAL", `OpenSSL AES-GCM: bad ${what}`);
}

/** EVP functions return 1 on success. */
function ok(result: number, call: string): void {
  if (result !== 1) throw new SfsError("INTERNAL", `OpenSSL AES-GCM: ${call} failed`);
}
