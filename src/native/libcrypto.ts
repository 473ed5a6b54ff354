/**
 * Finds and opens OpenSSL 3's libcrypto for the fast AES-GCM backend
 * (src/crypto/aead_openssl.ts), and chooses the process's AEAD backend.
 *
 * This is the one module that calls Deno.dlopen. It lives outside crypto/ because crypto/ is
 * pure (no Deno APIs), and it is small on purpose: it knows where libcrypto usually lives, asks
 * Deno whether it may load it (never prompting), and checks the version before anything uses
 * the library. Every failure is quiet: WebCrypto does the same job, only slower.
 *
 * Only full paths are tried, never a bare name the loader would search for: `--allow-ffi` is
 * scoped to exactly these paths (deno.json, scripts/compile.ts), and a search path could be
 * steered by the environment. macOS's unversioned /usr/lib/libcrypto.dylib is deliberately
 * absent: loading it aborts the process.
 *
 * @module
 */
import { SfsError } from "../errors.ts";
import {
  type AeadBackend,
  type BackendChooser,
  type BackendHint,
  setDefaultAeadBackend,
} from "../crypto/aead.ts";
import { type LibcryptoAes, opensslAead } from "../crypto/aead_openssl.ts";
import {
  isSmallHashJob,
  portableSha256,
  setSha256Factory,
  type Sha256Factory,
  type Sha256Hasher,
} from "../crypto/sha256.ts";
import { type LibcryptoSha256, OpenSslSha256 } from "../crypto/sha256_openssl.ts";
import { WEBCRYPTO_AEAD } from "../crypto/aead_webcrypto.ts";

/** Where libcrypto 3 usually lives, per OS, most common first. */
export const LIBCRYPTO_PATHS = {
  linux: [
    "/usr/lib/x86_64-linux-gnu/libcrypto.so.3", // Debian, Ubuntu
    "/usr/lib/aarch64-linux-gnu/libcrypto.so.3",
    "/usr/lib64/libcrypto.so.3", // Fedora, RHEL, openSUSE
    "/usr/lib/libcrypto.so.3", // Arch, Alpine
    "/lib/libcrypto.so.3", // Alpine before /usr merge
  ],
  darwin: [
    "/opt/homebrew/opt/openssl@3/lib/libcrypto.3.dylib", // Homebrew, Apple silicon
    "/usr/local/opt/openssl@3/lib/libcrypto.3.dylib", // Homebrew, Intel
    "/opt/local/lib/libcrypto.3.dylib", // MacPorts
  ],
  windows: [
    "C:\\Program Files\\OpenSSL-Win64\\bin\\libcrypto-3-x64.dll", // slproweb installer
    "C:\\Program Files\\OpenSSL\\bin\\libcrypto-3-x64.dll", // the same, as GitHub runners have it
    "C:\\Program Files\\Git\\mingw64\\bin\\libcrypto-3-x64.dll", // Git for Windows
  ],
} as const;

/** An OS that has a list in {@link LIBCRYPTO_PATHS}. */
export type LibcryptoOs = keyof typeof LIBCRYPTO_PATHS;

/** Every path of every OS, in table order: the value of `--allow-ffi`. */
export function allLibcryptoPaths(): string[] {
  return Object.values(LIBCRYPTO_PATHS).flat();
}

function pathsForThisOs(): readonly string[] {
  return LIBCRYPTO_PATHS[Deno.build.os as LibcryptoOs] ?? [];
}

const SYMBOLS = {
  OpenSSL_version_num: { parameters: [], result: "u32" }, // unsigned long: 32 bits on Windows
  EVP_CIPHER_CTX_new: { parameters: [], result: "pointer" },
  EVP_CIPHER_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_aes_256_gcm: { parameters: [], result: "pointer" },
  EVP_EncryptInit_ex: {
    parameters: ["pointer", "pointer", "pointer", "buffer", "buffer"],
    result: "i32",
  },
  EVP_DecryptInit_ex: {
    parameters: ["pointer", "pointer", "pointer", "buffer", "buffer"],
    result: "i32",
  },
  EVP_EncryptUpdate: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "i32"],
    result: "i32",
  },
  EVP_DecryptUpdate: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "i32"],
    result: "i32",
  },
  EVP_EncryptFinal_ex: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  EVP_DecryptFinal_ex: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  EVP_CIPHER_CTX_ctrl: { parameters: ["pointer", "i32", "i32", "buffer"], result: "i32" },
  ERR_clear_error: { parameters: [], result: "void" },
  EVP_MD_CTX_new: { parameters: [], result: "pointer" },
  EVP_MD_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_sha256: { parameters: [], result: "pointer" },
  EVP_DigestInit_ex: { parameters: ["pointer", "pointer", "pointer"], result: "i32" },
  EVP_DigestUpdate: { parameters: ["pointer", "buffer", "usize"], result: "i32" },
  EVP_DigestFinal_ex: { parameters: ["pointer", "buffer", "pointer"], result: "i32" },
  EVP_MD_CTX_copy_ex: { parameters: ["pointer", "pointer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** A libcrypto that loaded and reported version 3. */
export interface Libcrypto {
  /** The file it was loaded from. */
  readonly path: string;
  /** Its version, e.g. "OpenSSL 3.0.19". */
  readonly version: string;
  /** The AES-256-GCM backend over it. */
  readonly aead: AeadBackend;
  /** A new SHA-256 hasher over it. */
  readonly sha256: () => Sha256Hasher;
}

/**
 * Opens the first libcrypto 3 among `paths` that this process may load; undefined when none
 * can be. A path is tried only when `--allow-ffi` already grants it, so this never prompts.
 */
export function loadLibcrypto(paths: readonly string[] = pathsForThisOs()): Libcrypto | undefined {
  for (const path of paths) {
    if (Deno.permissions.querySync({ name: "ffi", path }).state !== "granted") continue;
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = Deno.dlopen(path, SYMBOLS);
    } catch {
      continue; // not there, or not an OpenSSL (a missing symbol fails the whole open)
    }
    try {
      const version = versionOf(lib.symbols.OpenSSL_version_num());
      if (version === undefined) {
        lib.close();
        continue;
      }
      const symbols: LibcryptoAes<Deno.PointerValue> & LibcryptoSha256<Deno.PointerValue> =
        lib.symbols;
      return {
        path,
        version,
        aead: opensslAead(symbols, `${version} (${path})`),
        sha256: () => new OpenSslSha256(symbols),
      };
    } catch {
      lib.close();
    }
  }
  return undefined;
}

/**
 * "OpenSSL 3.m.p" from OPENSSL_VERSION_NUMBER (0xMNN00PP0), or undefined unless the major
 * version is 3: 1.1 and LibreSSL differ in ways that matter (EVP rules, aborts on misuse).
 */
export function versionOf(versionNumber: number): string | undefined {
  const major = versionNumber >>> 28;
  if (major !== 3) return undefined;
  return `OpenSSL ${major}.${(versionNumber >>> 20) & 0xff}.${(versionNumber >>> 4) & 0xff}`;
}

/** What `SFS_CRYPTO` may say: unset or "auto" tries OpenSSL first. */
export type CryptoSetting = "auto" | "openssl" | "webcrypto";

/** Reads the `SFS_CRYPTO` value; anything unknown is USAGE, not silently ignored. */
export function parseCryptoSetting(value: string | undefined): CryptoSetting {
  if (value === undefined || value === "" || value === "auto") return "auto";
  if (value === "openssl" || value === "webcrypto") return value;
  throw new SfsError(
    "USAGE",
    `SFS_CRYPTO must be "auto", "openssl" or "webcrypto", got "${value}"`,
  );
}

/** The chosen backend and, when it is the fallback, why. */
export interface CryptoChoice {
  readonly backend: AeadBackend;
  readonly reason?: string;
  /** OpenSSL's SHA-256, when the backend is OpenSSL's. */
  readonly sha256?: () => Sha256Hasher;
}

/**
 * Chooses the backend for `setting`: OpenSSL when it loads, else WebCrypto; "openssl" makes a
 * missing libcrypto an error (for benchmarks and CI that must measure the fast path).
 */
export function chooseAeadBackend(
  setting: CryptoSetting,
  load: () => Libcrypto | undefined = loadLibcrypto,
): CryptoChoice {
  if (setting === "webcrypto") return { backend: WEBCRYPTO_AEAD, reason: "SFS_CRYPTO=webcrypto" };
  const libcrypto = load();
  if (libcrypto) return { backend: libcrypto.aead, sha256: libcrypto.sha256 };
  if (setting === "openssl") {
    throw new SfsError("USAGE", 'SFS_CRYPTO is "openssl" but libcrypto 3 cannot be loaded', {
      hint: `sfs looks for it at ${pathsForThisOs().join(", ")} (and needs --allow-ffi for it)`,
    });
  }
  return { backend: WEBCRYPTO_AEAD, reason: "libcrypto 3 not found or not allowed" };
}

/** One line saying which AES-GCM implementation runs, e.g. for `sfs --version --verbose`. */
export function describeChoice(choice: CryptoChoice): string {
  const { backend, reason } = choice;
  return `${backend.name}: ${backend.description}${reason ? ` (${reason})` : ""}`;
}

/**
 * Below this many bytes in all, or for a light job (a transfer's records), a key uses WebCrypto
 * while libcrypto is not loaded yet: loading it and keying the first context take about 8 ms
 * here (dlopen 5–6 ms), which WebCrypto spends on about 1 MiB, and a 1 KiB transfer paid them on
 * both sides (docs/PERFORMANCE.md).
 */
export const LIGHT_JOB_BYTES = 1024 * 1024;

/** How keys choose their backend under one setting, and what was chosen for the large jobs. */
export interface BackendChoice {
  /** For {@link setDefaultAeadBackend}. */
  readonly choose: BackendChooser;
  /** The backend of every job that is not small, loading libcrypto if needed. */
  readonly chosen: () => CryptoChoice;
  /** For {@link setSha256Factory}: OpenSSL's for large jobs when it is the backend. */
  readonly sha256: Sha256Factory;
}

/**
 * The backend choice for `setting`: the library loads at the first key import that is not a
 * small job (see {@link LIGHT_JOB_BYTES}), so a command that never seals pays nothing;
 * "openssl" loads at once, so a missing library fails before any work, and an explicit setting
 * is used for every job, small or not.
 */
export function backendChoice(
  setting: CryptoSetting,
  load: () => Libcrypto | undefined = loadLibcrypto,
): BackendChoice {
  let choice = setting === "openssl" ? chooseAeadBackend(setting, load) : undefined;
  const chosen = () => choice ??= chooseAeadBackend(setting, load);
  const choose = (hint: BackendHint) => {
    const small = hint.light === true ||
      (hint.bytes !== undefined && hint.bytes < LIGHT_JOB_BYTES);
    return setting === "auto" && choice === undefined && small ? WEBCRYPTO_AEAD : chosen().backend;
  };
  const sha256 = (job: { bytes?: number }) => {
    const native = isSmallHashJob(job) ? undefined : chosen().sha256;
    return native ? Promise.resolve(native()) : portableSha256(job);
  };
  return { choose, chosen, sha256 };
}

/**
 * Makes the backend `SFS_CRYPTO` asks for the process default (see {@link backendChoice}), with
 * its SHA-256 for whole-file hashes, and returns how to see what was chosen.
 */
export function installAeadBackend(value: string | undefined): () => CryptoChoice {
  const { choose, chosen, sha256 } = backendChoice(parseCryptoSetting(value));
  setDefaultAeadBackend(choose);
  setSha256Factory(sha256);
  return chosen;
}
