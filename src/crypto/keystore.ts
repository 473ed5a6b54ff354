/**
 * Identities at rest (docs/PROTOCOL.md §4.3): a JSON document holding the public identity and
 * the private keys, the latter optionally sealed with AES-256-GCM under a key derived from a
 * passphrase with scrypt. Pure: the caller reads and writes the file.
 */
import { SfsError } from "../errors.ts";
import { type Bytes, fromBase64, toBase64 } from "./bytes.ts";
import { ByteReader, ByteWriter } from "./encoding.ts";
import {
  decodePublicIdentity,
  formatFingerprint,
  type Identity,
  type PublicIdentity,
} from "./identity.ts";
import { aesKey } from "./kdf.ts";

/** scrypt cost parameters; stored with the file so they can be raised later. */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. @default 2 ** 17 */
  n: number;
  /** Block size. @default 8 */
  r: number;
  /** Parallelism. @default 1 */
  p: number;
}

/** Default cost: 128 MiB of memory, 0.4 s measured on the 2-core build machine. */
export const DEFAULT_SCRYPT: ScryptParams = { n: 2 ** 17, r: 8, p: 1 };
/**
 * Bounds on the scrypt cost an identity file may ask for (docs/PROTOCOL.md §4.3): memory
 * 128·N·r ≤ 256 MiB, r ≤ 32 and p ≤ 4, so a planted file costs at most a few seconds before the
 * passphrase is checked (the widest bounds once allowed, N = 2^20, r = 32, p = 16, took 196 s and
 * 4.2 GB here). Inside them, N < 2^(16·r) is RFC 7914's own limit, which node:crypto enforces.
 */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;
const MAX_SCRYPT_R = 32;
const MAX_SCRYPT_P = 4;
/**
 * The `maxmem` passed to scrypt. scrypt allocates V (128·N·r bytes), B (128·r·p) and XY (256·r);
 * within the bounds above B + XY ≤ 24 KiB, so 1 MiB of headroom means node:crypto never refuses
 * parameters that passed {@linkcode scryptProblem}, whatever its own default.
 */
const SCRYPT_MAXMEM = MAX_SCRYPT_MEMORY + 1024 * 1024;
const FORMAT = "sfs-identity";
const PRIVATE_VERSION = 1;
const MAX_PKCS8_BYTES = 4096;

interface StoredIdentity {
  format: typeof FORMAT;
  version: 1;
  fingerprint: string;
  public: string;
  private:
    | { protection: "none"; keys: string }
    | {
      protection: "scrypt-aes-256-gcm";
      n: number;
      r: number;
      p: number;
      salt: string;
      nonce: string;
      ciphertext: string;
    };
}

/** Serialises an identity; with a passphrase the private keys are encrypted. */
export async function exportIdentity(
  identity: Identity,
  options: { passphrase?: string; scrypt?: ScryptParams } = {},
): Promise<string> {
  const keys = new ByteWriter()
    .u8(PRIVATE_VERSION)
    .bytes16(new Uint8Array(await crypto.subtle.exportKey("pkcs8", identity.oaepPrivate)))
    .bytes16(new Uint8Array(await crypto.subtle.exportKey("pkcs8", identity.pssPrivate)))
    .bytes16(new Uint8Array(await crypto.subtle.exportKey("pkcs8", identity.ed25519Private)))
    .finish();
  const stored: StoredIdentity = {
    format: FORMAT,
    version: 1,
    fingerprint: formatFingerprint(identity.public.fingerprint),
    public: toBase64(identity.public.encoded),
    private: { protection: "none", keys: toBase64(keys) },
  };
  if (options.passphrase !== undefined) {
    const params = options.scrypt ?? DEFAULT_SCRYPT;
    const salt = crypto.getRandomValues(new Uint8Array(32));
    const nonce = crypto.getRandomValues(new Uint8Array(12));
    const key = await aesKey(await deriveKey(options.passphrase, salt, params));
    // The public identity is the associated data, so sealed private keys cannot be paired with
    // someone else's public keys.
    const ciphertext = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv: nonce, additionalData: identity.public.encoded },
        key,
        keys,
      ),
    );
    keys.fill(0);
    stored.private = {
      protection: "scrypt-aes-256-gcm",
      ...params,
      salt: toBase64(salt),
      nonce: toBase64(nonce),
      ciphertext: toBase64(ciphertext),
    };
  }
  return JSON.stringify(stored, null, 2) + "\n";
}

/** True when a stored identity needs a passphrase to open. */
export function isEncrypted(text: string): boolean {
  return parseStored(text).private.protection !== "none";
}

/**
 * Parses a stored identity, decrypting it with `passphrase` when needed, and checks that the
 * private keys belong to the public ones.
 */
export async function importIdentity(text: string, passphrase?: string): Promise<Identity> {
  const stored = parseStored(text);
  const publicBytes = decodeField(stored.public, "public");
  const publicIdentity = await decodePublicIdentity(publicBytes);
  const keys = await openPrivateKeys(stored.private, publicBytes, passphrase);
  let identity: Identity;
  try {
    identity = { public: publicIdentity, ...await importPrivateKeys(keys) };
  } finally {
    keys.fill(0);
  }
  await checkKeysMatch(identity);
  return identity;
}

/** The private-key blob of a stored identity, decrypted with `passphrase` if it is sealed. */
async function openPrivateKeys(
  stored: StoredIdentity["private"],
  publicBytes: Bytes,
  passphrase: string | undefined,
): Promise<Bytes> {
  if (stored.protection === "none") return decodeField(stored.keys, "private keys");
  if (passphrase === undefined) {
    throw new SfsError("BAD_PASSPHRASE", "The identity is encrypted and no passphrase was given", {
      remedy: "give-passphrase",
    });
  }
  const key = await aesKey(await deriveKey(passphrase, decodeField(stored.salt, "salt"), stored));
  try {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        // The public identity is the associated data (see exportIdentity).
        { name: "AES-GCM", iv: decodeField(stored.nonce, "nonce"), additionalData: publicBytes },
        key,
        decodeField(stored.ciphertext, "ciphertext"),
      ),
    );
  } catch {
    throw new SfsError("BAD_PASSPHRASE", "Wrong passphrase, or the identity file was altered");
  }
}

/** Parses the private-key blob and imports its three PKCS#8 keys; BAD_IDENTITY if malformed. */
async function importPrivateKeys(keys: Bytes): Promise<Omit<Identity, "public">> {
  try {
    // Inside the try: a malformed key blob is a bad identity file, not a wire BAD_MESSAGE.
    const reader = new ByteReader(keys, "private keys");
    if (reader.u8() !== PRIVATE_VERSION) reader.fail("unknown version");
    const oaepPkcs8 = reader.bytes16(MAX_PKCS8_BYTES);
    const pssPkcs8 = reader.bytes16(MAX_PKCS8_BYTES);
    const edPkcs8 = reader.bytes16(MAX_PKCS8_BYTES);
    reader.end();
    const pkcs8 = (
      bytes: Bytes,
      algorithm: AlgorithmIdentifier | RsaHashedImportParams,
      use: KeyUsage,
    ) => crypto.subtle.importKey("pkcs8", bytes, algorithm, true, [use]);
    return {
      oaepPrivate: await pkcs8(oaepPkcs8, { name: "RSA-OAEP", hash: "SHA-256" }, "decrypt"),
      pssPrivate: await pkcs8(pssPkcs8, { name: "RSA-PSS", hash: "SHA-256" }, "sign"),
      ed25519Private: await pkcs8(edPkcs8, { name: "Ed25519" }, "sign"),
    };
  } catch (cause) {
    throw new SfsError("BAD_IDENTITY", "The identity file holds an invalid private key", { cause });
  }
}

/** Proves each private key matches its public key, so a mixed-up file fails now, not mid-transfer. */
async function checkKeysMatch(identity: Identity): Promise<void> {
  // WebCrypto imports some damaged PKCS#8 keys and only fails once a key is used or exported,
  // with a plain Error ("PKCS#8 cryptographic key data malformed"): a key that cannot be
  // exported matches nothing.
  if (!await keysMatch(identity).catch(() => false)) {
    throw new SfsError(
      "BAD_IDENTITY",
      "The identity file's private keys do not match its public keys",
    );
  }
}

/**
 * True when each private key's public values equal the stored public key's: the RSA modulus and
 * exponent, the Ed25519 public point (which WebCrypto derives from the private seed when it
 * exports). With it a whole identity load took 1.6–2.8 ms where two signs and a decrypt made it
 * 12–14 ms (docs/PERFORMANCE.md, section cli12). What it does not prove, a private RSA exponent
 * that is garbage beside a right modulus, only a crafted file has, and that key then fails its
 * first use, as any damaged key.
 */
async function keysMatch(identity: Identity): Promise<boolean> {
  const pub = identity.public;
  const pairs: Array<[CryptoKey, CryptoKey, readonly (keyof JsonWebKey)[]]> = [
    [identity.oaepPrivate, pub.oaep, ["n", "e"]],
    [identity.pssPrivate, pub.pss, ["n", "e"]],
    [identity.ed25519Private, pub.ed25519, ["x"]],
  ];
  for (const [privateKey, publicKey, fields] of pairs) {
    const [mine, theirs] = await Promise.all([
      crypto.subtle.exportKey("jwk", privateKey),
      crypto.subtle.exportKey("jwk", publicKey),
    ]);
    const same = fields.every((field) =>
      typeof mine[field] === "string" && mine[field] !== "" && mine[field] === theirs[field]
    );
    if (!same) return false;
  }
  return true;
}

/** Why `params` are outside §4.3's bounds, or undefined when scrypt may run with them. */
function scryptProblem({ n, r, p }: ScryptParams): string | undefined {
  if (!Number.isInteger(r) || r < 1 || r > MAX_SCRYPT_R) return `r must be 1 to ${MAX_SCRYPT_R}`;
  if (!Number.isInteger(p) || p < 1 || p > MAX_SCRYPT_P) return `p must be 1 to ${MAX_SCRYPT_P}`;
  // r ≥ 2 makes 2^(16·r) at least 2^32, beyond what the memory bound allows anyway.
  if (!Number.isInteger(n) || n < 2 || (n & (n - 1)) !== 0 || (r === 1 && n >= 2 ** 16)) {
    return "N must be a power of two from 2 to below 2^(16·r)";
  }
  if (128 * n * r > MAX_SCRYPT_MEMORY) return "128·N·r must be at most 256 MiB";
  return undefined;
}

async function deriveKey(passphrase: string, salt: Bytes, params: ScryptParams): Promise<Bytes> {
  const problem = scryptProblem(params);
  if (problem !== undefined) {
    throw new SfsError(
      "BAD_IDENTITY",
      `The identity file has unacceptable scrypt parameters: ${problem}`,
    );
  }
  const { n, r, p } = params;
  // Loaded only here: node:crypto costs every command ~20 ms, and most identities need no KDF.
  const { scrypt } = await import("./scrypt_node.ts");
  return await new Promise((resolve, reject) => {
    const fail = (cause: unknown) =>
      reject(new SfsError("BAD_IDENTITY", "Cannot derive the key to open the identity", { cause }));
    try {
      // node:crypto checks some parameters synchronously: a throw here must not escape as a
      // RangeError (scryptProblem() should make it unreachable).
      scrypt(
        passphrase.normalize("NFC"),
        salt,
        32,
        { N: n, r, p, maxmem: SCRYPT_MAXMEM },
        (err, key) => err ? fail(err) : resolve(new Uint8Array(key)),
      );
    } catch (err) {
      fail(err);
    }
  });
}

function parseStored(text: string): StoredIdentity {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SfsError("BAD_IDENTITY", "The identity file is not valid JSON");
  }
  const v = value as Partial<StoredIdentity> | null;
  const priv = v?.private as Record<string, unknown> | undefined;
  const shapeOk = v !== null && typeof v === "object" && v.format === FORMAT && v.version === 1 &&
    typeof v.public === "string" && typeof priv === "object" && priv !== null &&
    ((priv.protection === "none" && typeof priv.keys === "string") ||
      (priv.protection === "scrypt-aes-256-gcm" &&
        ["n", "r", "p"].every((k) => typeof priv[k] === "number") &&
        ["salt", "nonce", "ciphertext"].every((k) => typeof priv[k] === "string")));
  if (!shapeOk) throw new SfsError("BAD_IDENTITY", "The identity file has an unknown format");
  return v as StoredIdentity;
}

function decodeField(text: string, what: string): Bytes {
  const bytes = fromBase64(text);
  if (!bytes) throw new SfsError("BAD_IDENTITY", `The identity file's ${what} is not base64`);
  return bytes;
}

/** Reads only the public identity of a stored identity; no passphrase needed. */
export async function importPublicIdentity(text: string): Promise<PublicIdentity> {
  return await decodePublicIdentity(decodeField(parseStored(text).public, "public"));
}
