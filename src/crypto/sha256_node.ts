/**
 * SHA-256 through `node:crypto`: the hasher of large jobs where libcrypto cannot be loaded.
 * Imported only then (sha256.ts), since loading `node:crypto` costs a small command ~20 ms.
 */
import { createHash, type Hash } from "node:crypto";
import type { Bytes } from "./bytes.ts";
import { type Sha256Hasher, spentError } from "./sha256.ts";

/** SHA-256 on the calling thread. */
export class NodeSha256 implements Sha256Hasher {
  #hash: Hash | undefined;

  constructor(from?: Hash) {
    this.#hash = from ?? createHash("sha256");
  }

  update(data: Uint8Array): void {
    if (!this.#hash) throw spentError();
    this.#hash.update(data);
  }

  copy(): NodeSha256 {
    if (!this.#hash) throw spentError();
    return new NodeSha256(this.#hash.copy());
  }

  digest(): Promise<Bytes> {
    const hash = this.#hash;
    if (!hash) return Promise.reject(spentError());
    this.#hash = undefined;
    return Promise.resolve(new Uint8Array(hash.digest()));
  }
}
