/**
 * The AEAD backends the tests compare. WebCrypto is always there; OpenSSL is found by the real
 * loader. On Linux it must load (every distribution sfs supports ships libcrypto 3, and CI
 * runs there), so a test that would silently skip it fails instead; elsewhere a missing
 * libcrypto skips the OpenSSL half.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { AeadBackend } from "../crypto/aead.ts";
import { WEBCRYPTO_AEAD } from "../crypto/aead_webcrypto.ts";
import { loadLibcrypto } from "./libcrypto.ts";

const LOADED = loadLibcrypto()?.aead;

/** True when tests comparing the two backends must not be skipped here. */
export const OPENSSL_REQUIRED = Deno.build.os === "linux";

/** Skip flag for a test that needs OpenSSL: never skipped where it is required. */
export const NO_OPENSSL = LOADED === undefined && !OPENSSL_REQUIRED;

/** The OpenSSL backend; fails the calling test when libcrypto 3 did not load. */
export function openssl(): AeadBackend {
  assert.ok(
    LOADED,
    "libcrypto 3 did not load: run the tests with the test task's --allow-ffi (deno task test)",
  );
  return LOADED;
}

/** Both backends, WebCrypto first. */
export function bothBackends(): [AeadBackend, AeadBackend] {
  return [WEBCRYPTO_AEAD, openssl()];
}
