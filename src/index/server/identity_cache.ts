/**
 * Owner identities by fingerprint, for the listing queries: most listings in a page share a few
 * owners, and an identity is about 1 KiB. A fingerprint is a hash of the identity, so an entry
 * can never go stale; the bound keeps the map small, and past it the oldest entry goes.
 */
import type { Bytes } from "../../crypto/bytes.ts";

/** Entries kept by default. */
export const DEFAULT_IDENTITY_CACHE_SIZE = 1024;

/** A bounded map from fingerprint to identity bytes, oldest entry evicted first. */
export class IdentityCache {
  readonly #entries = new Map<string, Bytes>();
  readonly #max: number;

  constructor(max: number = DEFAULT_IDENTITY_CACHE_SIZE) {
    this.#max = max;
  }

  /** The identity with `fingerprint`, if cached. */
  get(fingerprint: string): Bytes | undefined {
    return this.#entries.get(fingerprint);
  }

  /** Caches `identity` under its `fingerprint`, evicting the oldest entry when full. */
  set(fingerprint: string, identity: Bytes): void {
    if (this.#entries.size >= this.#max) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    this.#entries.set(fingerprint, identity);
  }
}
