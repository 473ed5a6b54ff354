/**
 * Identities (docs/PROTOCOL.md §4): three key pairs — RSA-OAEP-3072 for key transport, RSA-PSS-3072
 * and Ed25519 for signatures — and a fingerprint over the canonical encoding of the public keys.
 */
import { SfsError } from "../errors.ts";
import { type Bytes, fromBase32, sha256, toBase32 } from "./bytes.ts";
import { ByteReader, ByteWriter } from "./encoding.ts";
import { LABEL, labelled } from "./labels.ts";

/** RSA modulus size for new identities. */
export const RSA_BITS = 3072;
/** Smallest and largest RSA modulus accepted from a peer. */
export const RSA_BITS_MIN = 3072;
export const RSA_BITS_MAX = 4096;
/** Largest SPKI accepted for one RSA key (a 4096-bit key encodes to 550 bytes). */
const MAX_SPKI_BYTES = 1024;
const PUBLIC_IDENTITY_VERSION = 1;
const ED25519_KEY_BYTES = 32;

const RSA_OAEP = { name: "RSA-OAEP", hash: "SHA-256" } as const;
const RSA_PSS = { name: "RSA-PSS", hash: "SHA-256" } as const;

/** The public half of an identity, imported and ready to use. */
export interface PublicIdentity {
  /** Canonical encoding (§4.1); what the fingerprint covers and what goes on the wire. */
  readonly encoded: Bytes;
  /** SHA-256 fingerprint (§4.2). */
  readonly fingerprint: Bytes;
  readonly oaep: CryptoKey;
  readonly pss: CryptoKey;
  readonly ed25519: CryptoKey;
}

/** A full identity: public keys and the matching private keys. */
export interface Identity {
  readonly public: PublicIdentity;
  readonly oaepPrivate: CryptoKey;
  readonly pssPrivate: CryptoKey;
  readonly ed25519Private: CryptoKey;
}

/** Generates a fresh identity with extractable private keys (so they can be stored). */
export async function generateIdentity(): Promise<Identity> {
  const rsa = {
    modulusLength: RSA_BITS,
    publicExponent: new Uint8Array([1, 0, 1]),
  };
  const [oaep, pss, ed] = await Promise.all([
    crypto.subtle.generateKey({ ...RSA_OAEP, ...rsa }, true, ["encrypt", "decrypt"]),
    crypto.subtle.generateKey({ ...RSA_PSS, ...rsa }, true, ["sign", "verify"]),
    crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]),
  ]) as [CryptoKeyPair, CryptoKeyPair, CryptoKeyPair];
  const encoded = encodePublicKeys(
    new Uint8Array(await crypto.subtle.exportKey("spki", oaep.publicKey)),
    new Uint8Array(await crypto.subtle.exportKey("spki", pss.publicKey)),
    new Uint8Array(await crypto.subtle.exportKey("raw", ed.publicKey)),
  );
  return {
    public: await decodePublicIdentity(encoded),
    oaepPrivate: oaep.privateKey,
    pssPrivate: pss.privateKey,
    ed25519Private: ed.privateKey,
  };
}

/** Canonical encoding of three public keys (§4.1). */
export function encodePublicKeys(
  oaepSpki: Uint8Array,
  pssSpki: Uint8Array,
  ed25519: Uint8Array,
): Bytes {
  return new ByteWriter()
    .u8(PUBLIC_IDENTITY_VERSION)
    .bytes16(oaepSpki)
    .bytes16(pssSpki)
    .raw(ed25519)
    .finish();
}

/**
 * Decodes and imports a public identity received from anywhere. Rejects unknown versions, RSA
 * keys outside 3072–4096 bits or with an exponent other than 65537, and trailing bytes.
 */
export async function decodePublicIdentity(encoded: Uint8Array): Promise<PublicIdentity> {
  const reader = new ByteReader(encoded, "public identity");
  const version = reader.u8();
  if (version !== PUBLIC_IDENTITY_VERSION) reader.fail(`unknown version ${version}`);
  const oaepSpki = reader.bytes16(MAX_SPKI_BYTES);
  const pssSpki = reader.bytes16(MAX_SPKI_BYTES);
  const edRaw = reader.raw(ED25519_KEY_BYTES);
  reader.end();
  const [oaep, pss, ed25519] = await Promise.all([
    importRsa(oaepSpki, RSA_OAEP, ["encrypt"]),
    importRsa(pssSpki, RSA_PSS, ["verify"]),
    crypto.subtle.importKey("raw", edRaw, { name: "Ed25519" }, true, ["verify"]).catch((cause) => {
      throw new SfsError("BAD_KEY", "Invalid Ed25519 public key", { cause });
    }),
  ]);
  const copy = new Uint8Array(encoded);
  return { encoded: copy, fingerprint: await fingerprintOf(copy), oaep, pss, ed25519 };
}

async function importRsa(
  spki: Bytes,
  algorithm: typeof RSA_OAEP | typeof RSA_PSS,
  usages: KeyUsage[],
): Promise<CryptoKey> {
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("spki", spki, algorithm, true, usages);
  } catch (cause) {
    throw new SfsError("BAD_KEY", `Invalid ${algorithm.name} public key`, { cause });
  }
  const { modulusLength, publicExponent } = key.algorithm as RsaHashedKeyAlgorithm;
  const exponent = Array.from(publicExponent).join(",");
  if (modulusLength < RSA_BITS_MIN || modulusLength > RSA_BITS_MAX || exponent !== "1,0,1") {
    throw new SfsError(
      "BAD_KEY",
      `${algorithm.name} key of ${modulusLength} bits is outside the accepted ${RSA_BITS_MIN}–${RSA_BITS_MAX}`,
    );
  }
  // The importer ignores parts of the DER (the algorithm's NULL parameters, the BIT STRING's
  // unused-bits byte), so one key would have many encodings and as many fingerprints. Only the
  // encoding WebCrypto exports is canonical (§2).
  const canonical = new Uint8Array(await crypto.subtle.exportKey("spki", key));
  if (canonical.length !== spki.length || canonical.some((byte, i) => byte !== spki[i])) {
    throw new SfsError("BAD_KEY", `${algorithm.name} public key is not in canonical DER form`);
  }
  return key;
}

/** The fingerprint of a canonical public identity encoding (§4.2). */
export function fingerprintOf(encoded: Uint8Array): Promise<Bytes> {
  return sha256(labelled(LABEL.FINGERPRINT, encoded));
}

/** Formats a fingerprint as `SHA256:` and base32 in groups of four, easy to read aloud. */
export function formatFingerprint(fingerprint: Uint8Array): string {
  const groups = toBase32(fingerprint).match(/.{1,4}/g) ?? [];
  return `SHA256:${groups.join("-")}`;
}

/** The first three groups of a formatted fingerprint, for tables. */
export function shortFingerprint(fingerprint: Uint8Array): string {
  return formatFingerprint(fingerprint).slice(0, "SHA256:".length + 14);
}

/**
 * Parses a fingerprint as printed by {@link formatFingerprint}, tolerating a missing `SHA256:`
 * prefix, missing dashes and upper case (people retype these).
 */
export function parseFingerprint(text: string): Bytes {
  const body = text.trim().replace(/^sha256:/i, "").replaceAll("-", "");
  const bytes = fromBase32(body);
  if (!bytes || bytes.length !== 32) {
    throw new SfsError("BAD_FINGERPRINT", `Not a fingerprint: "${text.slice(0, 80)}"`, {
      hint: "A fingerprint looks like SHA256:abcd-efgh-… (52 base32 letters)",
    });
  }
  return bytes;
}
