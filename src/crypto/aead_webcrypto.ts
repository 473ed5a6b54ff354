/**
 * The WebCrypto AES-256-GCM backend: available everywhere, and the fallback when libcrypto 3
 * cannot be loaded. Each call allocates its result (WebCrypto has no output parameter), so an
 * `out` buffer only saves the caller's own copy.
 */
import type { AeadBackend, AeadCipher } from "./aead.ts";
import type { Bytes } from "./bytes.ts";

/** The WebCrypto backend. */
export const WEBCRYPTO_AEAD: AeadBackend = {
  name: "webcrypto",
  description: "WebCrypto",
  async importKey(raw: Bytes): Promise<AeadCipher> {
    const key = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
    return new WebCryptoCipher(key);
  },
};

/** Wraps an AES-GCM CryptoKey that already exists as a WebCrypto cipher. */
export function webCryptoCipher(key: CryptoKey): AeadCipher {
  return new WebCryptoCipher(key);
}

class WebCryptoCipher implements AeadCipher {
  /** Non-extractable: the raw key never comes back into JavaScript. */
  #key: CryptoKey | undefined;

  constructor(key: CryptoKey) {
    this.#key = key;
  }

  async seal(nonce: Bytes, plaintext: Bytes, aad: Bytes | undefined, out: Bytes | undefined) {
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt(params(nonce, aad), this.#live(), plaintext),
    );
    if (out === undefined) return sealed;
    out.set(sealed);
    return out;
  }

  async open(nonce: Bytes, sealed: Bytes, aad: Bytes | undefined, out: Bytes | undefined) {
    const key = this.#live();
    let opened: Bytes;
    try {
      opened = new Uint8Array(await crypto.subtle.decrypt(params(nonce, aad), key, sealed));
    } catch {
      // WebCrypto says only OperationError; the reason is never worth more than "it failed".
      return null;
    }
    if (out === undefined) return opened;
    out.set(opened);
    return out;
  }

  dispose(): void {
    this.#key = undefined;
  }

  #live(): CryptoKey {
    if (this.#key === undefined) throw new Error("AES key used after it was disposed");
    return this.#key;
  }
}

function params(nonce: Bytes, aad: Bytes | undefined): AesGcmParams {
  return aad === undefined ? { name: "AES-GCM", iv: nonce } : {
    name: "AES-GCM",
    iv: nonce,
    additionalData: aad,
  };
}
