/**
 * AES-256-GCM behind one small interface, so the payload stream runs on the fastest
 * implementation the process could load (OpenSSL's libcrypto through FFI, aead_openssl.ts) and
 * falls back to WebCrypto (aead_webcrypto.ts) everywhere else, with the same bytes on the wire.
 *
 * {@link AeadKey} checks every argument before a backend sees it: nonce and key lengths, the
 * tag, output capacity and overlap. A backend is handed only well-formed calls, and a failed
 * authentication is reported the same way whichever backend ran: DECRYPT_FAILED here, which the
 * stream turns into CHUNK_AUTH_FAILED.
 */
import { SfsError } from "../errors.ts";
import type { Bytes } from "./bytes.ts";
import { WEBCRYPTO_AEAD } from "./aead_webcrypto.ts";

/** Bytes of an AES-256 key. */
export const KEY_BYTES = 32;
/** Bytes of a GCM nonce: 96 bits, the only size sfs uses (no GHASH of the IV). */
export const NONCE_BYTES = 12;
/** Bytes added by the GCM tag. */
export const TAG_BYTES = 16;
/**
 * Largest plaintext or associated data in one call. Far above any chunk or record, and below
 * the `int` lengths of OpenSSL's EVP functions, so no length passed to C can wrap.
 */
export const MAX_AEAD_BYTES = 2 ** 30;

/**
 * One key inside a backend. Called only by {@link AeadKey}, with checked arguments: `out` is
 * either absent (return a fresh buffer) or exactly the output length, and either disjoint from
 * the input or starting at the same byte.
 */
export interface AeadCipher {
  /** Seals `plaintext`; returns ciphertext ‖ tag, in `out` when given. */
  seal(
    nonce: Bytes,
    plaintext: Bytes,
    aad: Bytes | undefined,
    out: Bytes | undefined,
  ): Bytes | Promise<Bytes>;
  /**
   * Opens ciphertext ‖ tag; returns the plaintext (in `out` when given), or null when
   * authentication fails, in which case nothing unauthenticated is left in `out`.
   */
  open(
    nonce: Bytes,
    sealed: Bytes,
    aad: Bytes | undefined,
    out: Bytes | undefined,
  ): Bytes | null | Promise<Bytes | null>;
  /** Frees the key material; the cipher is not called again. */
  dispose(): void;
}

/** An AES-256-GCM implementation. */
export interface AeadBackend {
  /** Which implementation: shown by `sfs --version --verbose` and the benchmarks. */
  readonly name: "openssl" | "webcrypto";
  /** Human-readable detail, e.g. the OpenSSL version and library path. */
  readonly description: string;
  /** Imports a 32-byte key; the caller keeps (and wipes) `raw`. */
  importKey(raw: Bytes): Promise<AeadCipher>;
}

/** Options of {@link AeadKey.seal} and {@link AeadKey.open}. */
export interface AeadOptions {
  /** Associated data, authenticated but not encrypted. @default none */
  aad?: Bytes;
  /**
   * Where to write the output, to reuse one buffer instead of allocating per call; the result
   * is a view of its first bytes. It must not be reused before the returned promise settles.
   * It may be the input itself (in place) but must not otherwise overlap it.
   * @default a new buffer
   */
  into?: Bytes;
}

/** What a deferred key knows at its first use, for choosing its backend. */
export interface BackendHint {
  /** Bytes the key will seal or open in all, when the caller said ({@link AeadKey.expectBytes}). */
  readonly bytes?: number;
  /**
   * The key's job is small though its size is not known: a transfer channel's records, a few
   * messages (a folder's manifest at most) beside a payload that has a key of its own.
   */
  readonly light?: boolean;
}

/** Chooses a backend at a key's first use; may answer differently for a small job. */
export type BackendChooser = (hint: BackendHint) => AeadBackend;

let chooseDefault: BackendChooser = () => WEBCRYPTO_AEAD;

/**
 * Sets how the default backend is chosen. The entry point calls this once; `choose` runs at
 * each key import, so a command that never seals pays nothing for loading a library, and a
 * chooser may keep a small job off a library that is not loaded yet (src/native/libcrypto.ts).
 */
export function setDefaultAeadBackend(choose: BackendChooser): void {
  chooseDefault = choose;
}

/** The backend keys use unless told otherwise (WebCrypto unless the entry point chose). */
export function defaultAeadBackend(hint: BackendHint = {}): AeadBackend {
  return chooseDefault(hint);
}

/** An AES-256-GCM key on one backend; {@link dispose} frees it. */
export class AeadKey implements Disposable {
  #cipher: AeadCipher | undefined;
  #backend: AeadBackend["name"] | undefined;
  /** A deferred key's own copy of the raw bytes, until it is imported or disposed. */
  #raw: Bytes | undefined;
  #choose: BackendChooser = defaultAeadBackend;
  /** What {@link expectBytes} said, for the choice at the first use. */
  #hint: BackendHint = {};
  #importing: Promise<AeadCipher> | undefined;
  #disposed = false;

  private constructor() {}

  /**
   * Imports 32 raw bytes now, on `options.backend` (or what it chooses for `options.hint`); the
   * caller keeps `raw` and should wipe it once imported.
   */
  static async import(
    raw: Bytes,
    options: { backend?: AeadBackend | BackendChooser; hint?: BackendHint } = {},
  ): Promise<AeadKey> {
    checkKey(raw);
    const choose = options.backend ?? defaultAeadBackend;
    const backend = typeof choose === "function" ? choose(options.hint ?? {}) : choose;
    const key = new AeadKey();
    key.#cipher = await backend.importKey(raw);
    key.#backend = backend.name;
    return key;
  }

  /** Wraps a cipher a backend made already (a WebCrypto CryptoKey the caller holds). */
  static wrap(cipher: AeadCipher, backend: AeadBackend["name"]): AeadKey {
    const key = new AeadKey();
    key.#cipher = cipher;
    key.#backend = backend;
    return key;
  }

  /**
   * A key imported at its first use, on the backend chosen then: a channel that never carries
   * a payload (an index connection) never loads a library. It copies `raw` (the caller may wipe
   * its own at once) and wipes the copy when it imports it or is disposed.
   */
  static deferred(
    raw: Bytes,
    options: { backend?: AeadBackend | BackendChooser } = {},
  ): AeadKey {
    checkKey(raw);
    const key = new AeadKey();
    key.#raw = raw.slice();
    const backend = options.backend;
    if (typeof backend === "function") key.#choose = backend;
    else if (backend) key.#choose = () => backend;
    return key;
  }

  /**
   * Tells a deferred key, before its first use, how many bytes it will seal or open in all, so
   * its backend can suit the job: a 1 KiB transfer need not load a library (see
   * {@link BackendChooser}). Ignored once the key is imported.
   */
  expectBytes(total: number): void {
    if (this.#cipher === undefined && this.#importing === undefined) this.#hint = { bytes: total };
  }

  /** The backend holding this key; undefined while a deferred key waits for its first use. */
  get backend(): AeadBackend["name"] | undefined {
    return this.#backend;
  }

  /** Seals `plaintext` under `nonce`; returns ciphertext ‖ tag. */
  async seal(nonce: Bytes, plaintext: Bytes, options: AeadOptions = {}): Promise<Bytes> {
    // Once imported, nothing is awaited before the backend runs: OpenSSL seals inside this call.
    const cipher = this.#cipher ?? await this.#imported();
    checkCall(nonce, plaintext, options.aad);
    if (plaintext.length > MAX_AEAD_BYTES) {
      throw new SfsError("INTERNAL", `Cannot seal ${plaintext.length} bytes in one call`);
    }
    const out = outputView(options.into, plaintext.length + TAG_BYTES, plaintext);
    return await cipher.seal(nonce, plaintext, options.aad, out);
  }

  /**
   * Opens ciphertext ‖ tag under `nonce`; throws DECRYPT_FAILED, and reveals nothing else, when
   * it is too short, too long or does not authenticate.
   */
  async open(nonce: Bytes, sealed: Bytes, options: AeadOptions = {}): Promise<Bytes> {
    const cipher = this.#cipher ?? await this.#imported();
    checkCall(nonce, sealed, options.aad);
    if (sealed.length < TAG_BYTES || sealed.length > MAX_AEAD_BYTES + TAG_BYTES) {
      throw new SfsError("DECRYPT_FAILED", "Authentication failed");
    }
    const out = outputView(options.into, sealed.length - TAG_BYTES, sealed);
    const opened = await cipher.open(nonce, sealed, options.aad, out);
    if (opened === null) throw new SfsError("DECRYPT_FAILED", "Authentication failed");
    return opened;
  }

  /** Frees the key (OpenSSL wipes its key schedule); later calls fail. Safe to call twice. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#raw?.fill(0);
    this.#raw = undefined;
    this.#cipher?.dispose();
    this.#cipher = undefined;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** The cipher, importing a deferred key once however many calls wait for it. */
  #imported(): Promise<AeadCipher> {
    if (this.#disposed) {
      return Promise.reject(new SfsError("INTERNAL", "AES key used after it was disposed"));
    }
    return this.#importing ??= this.#import();
  }

  async #import(): Promise<AeadCipher> {
    const raw = this.#raw;
    if (raw === undefined) throw new SfsError("INTERNAL", "AES key has no key material");
    try {
      const backend = this.#choose(this.#hint);
      const cipher = await backend.importKey(raw);
      if (this.#disposed) {
        cipher.dispose();
        throw new SfsError("INTERNAL", "AES key used after it was disposed");
      }
      this.#cipher = cipher;
      this.#backend = backend.name;
      return cipher;
    } finally {
      raw.fill(0);
      this.#raw = undefined;
    }
  }
}

function checkKey(raw: Bytes): void {
  if (raw.length !== KEY_BYTES) {
    throw new SfsError("INTERNAL", `AES-256 key has ${raw.length} bytes, expected ${KEY_BYTES}`);
  }
}

function checkCall(nonce: Bytes, input: Bytes, aad: Bytes | undefined): void {
  if (nonce.length !== NONCE_BYTES) {
    throw new SfsError("INTERNAL", `Nonce has ${nonce.length} bytes, expected ${NONCE_BYTES}`);
  }
  if (aad !== undefined && aad.length > MAX_AEAD_BYTES) {
    throw new SfsError("INTERNAL", `Associated data of ${aad.length} bytes is too large`);
  }
  if (input.length > MAX_AEAD_BYTES + TAG_BYTES) {
    throw new SfsError("INTERNAL", `Input of ${input.length} bytes is too large`);
  }
}

/**
 * The first `length` bytes of `into`, checked: large enough, and not partly overlapping
 * `input` (a backend may write output before it has read all input; in place is fine, since
 * GCM writes each byte only after reading the one at the same offset).
 */
function outputView(into: Bytes | undefined, length: number, input: Bytes): Bytes | undefined {
  if (into === undefined) return undefined;
  if (into.length < length) {
    throw new SfsError("INTERNAL", `Output buffer holds ${into.length} bytes, needs ${length}`);
  }
  const out = into.subarray(0, length);
  if (overlaps(out, input) && out.byteOffset !== input.byteOffset) {
    throw new SfsError("INTERNAL", "Output buffer partly overlaps the input");
  }
  return out;
}

function overlaps(a: Uint8Array, b: Uint8Array): boolean {
  return a.buffer === b.buffer && a.length > 0 && b.length > 0 &&
    a.byteOffset < b.byteOffset + b.length && b.byteOffset < a.byteOffset + a.length;
}
