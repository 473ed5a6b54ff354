/** Keys and identity files that the identity targets mutate. */
import type { Bytes } from "../../src/crypto/bytes.ts";
import type { Identity } from "../../src/crypto/identity.ts";
import { exportIdentity } from "../../src/crypto/keystore.ts";

/** Keys and texts the identity targets mutate. */
export interface IdentityMaterial {
  /** The test identity whose files are mutated. */
  readonly identity: Identity;
  /** Its identity.json, unencrypted and encrypted (cheap scrypt), with the passphrase. */
  readonly plainText: string;
  readonly sealedText: string;
  readonly passphrase: string;
  /** SPKI and raw keys to splice into public identities. */
  readonly spkis: readonly Bytes[];
  readonly edKeys: readonly Bytes[];
  /** Valid public identity encodings. */
  readonly encodings: readonly Bytes[];
}

/** Builds the identity material from two test identities (RSA keygen is the slow part). */
export async function identityMaterial(a: Identity, b: Identity): Promise<IdentityMaterial> {
  const spki = async (key: CryptoKey) => new Uint8Array(await crypto.subtle.exportKey("spki", key));
  const raw = async (key: CryptoKey) => new Uint8Array(await crypto.subtle.exportKey("raw", key));
  const small = await crypto.subtle.generateKey(
    {
      name: "RSA-PSS",
      hash: "SHA-256",
      modulusLength: 1024,
      publicExponent: new Uint8Array([1, 0, 1]),
    },
    true,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  const ed = await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const x = await crypto.subtle.generateKey({ name: "X25519" }, true, [
    "deriveBits",
  ]) as CryptoKeyPair;
  const passphrase = "correct horse battery staple";
  return {
    identity: a,
    plainText: await exportIdentity(a),
    sealedText: await exportIdentity(a, { passphrase, scrypt: { n: 16, r: 1, p: 1 } }),
    passphrase,
    spkis: [
      await spki(a.public.oaep),
      await spki(a.public.pss),
      await spki(b.public.oaep),
      await spki(small.publicKey),
      await spki(ed.publicKey),
      await spki(x.publicKey),
    ],
    edKeys: [
      await raw(a.public.ed25519),
      await raw(b.public.ed25519),
      new Uint8Array(32),
      Uint8Array.of(1, ...new Uint8Array(31)),
      new Uint8Array(32).fill(0xff),
    ],
    encodings: [a.public.encoded, b.public.encoded],
  };
}
