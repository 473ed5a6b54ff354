/**
 * The owner identity behind the signed vectors (announcements, proofs, final signatures), and
 * signatures made without randomness so that the files come out the same on every run.
 *
 * Ed25519 (RFC 8032) is deterministic; its private key is a seed drawn from SEED. RSA-PSS is
 * randomised by its salt and WebCrypto always draws the salt itself, so RSA-PSS signatures are made
 * here by hand: EMSA-PSS (RFC 8017 §9.1.1) with SHA-256, MGF1-SHA-256 and a 32-byte salt drawn from
 * SEED, then `m^d mod n`. Every signature is verified with WebCrypto before it is used, so a
 * mistake here stops the generator instead of writing a bad vector.
 *
 * The RSA-PSS key is data (RSA key generation cannot be seeded): generated once with WebCrypto and
 * kept as the JWK fields `n` and `d`. The owner's RSA-OAEP key is the responder's public one:
 * nothing is ever wrapped for the owner, so its private half is not needed.
 */
import { type Bytes, concat, toHex } from "../../src/crypto/bytes.ts";
import { draw, hexOf, labelled, RESPONDER_IDENTITY, type Scenario, sha256, w } from "./common.ts";

/** PKCS#8 header of a raw 32-byte Ed25519 private key (RFC 8410). */
const ED25519_PKCS8_PREFIX = "302e020100300506032b657004220420";
const PSS = { name: "RSA-PSS", hash: "SHA-256" } as const;
const SALT_BYTES = 32;
const HASH_BYTES = 32;

const PSS_N = [
  "qUC7zGPkA0INAdlDdEstoc8XCgGYk_-fXRtglffY8h1AF5lglzlWgzdVg6TqqG8s_cVimBRY6n0MhA5xSNIZJVeG",
  "6fMCWuXD0Qg7ywEosFEMAGQvZUi3852rlXcOVy_-VoN5jFnUt94UOChqog4PQdGcAXcfZ2LIY6z10QziFP9wwsmu",
  "HxKnOrNSgFX3VLjFDiDKhVt0xtaRx2XITs66e_H4QuRnAuwg80wXvy0lZllJiofnPOCQkc79BzI49B6UpB3CiiwA",
  "1G_jjxdeBMXGrkNkMX36ml3DUzGABp21N9Ek6fSI_klnep2TxhJ7-3LV_A_2QBYsrpfbJ7mQNeHYLPnfO47tQXEv",
  "tVQK6t3a1MqEtxi7AjIypaUAlQ6A4hHtkgza2wD1D8ZhOE4mp4cK_Zp7tHgAp38ykUrsQbyx1MiOTjtUcW1338L3",
  "42jQWOEyAJ9VNPnxxY43QSqQ3KXWoEULzGZAczC8rXkDk0xtJNeTeWUVZVTCFOO3g5OYf-2f",
].join("");

const PSS_D = [
  "MfpDeh8k_TFL1ffpyzVHzDfyfanq_AjHbh7fbmk5ToUEn_NSalUsDqMQRUc1Y3cwud7HNlEL0HIMeBIrsW0Yr8Yg",
  "uIRhdaXTJK5huZgmA6pq-NKcjDPk3bL5L7FwMp6hY7p-8cq03XZeUhbdJe0w5CaZAnXCeCzbL1OrYoeDWt_y1BHp",
  "sJM5fkPlYLAB0KqexYU5SBexa-WANnj_pQW2W1MgE-CN6nb_Y9hcSr9yA77p0FZBGeDVz7hnTvCtkKhWkM9CgOnR",
  "gBTj0XalXohRbhb74B7mo39OGoqI94_kebQIP6nodX1gSeQtFugyU9n6izlKFx6qvcNv7gRNsuG3QWeFckLIVrKB",
  "KFIPb68E_RYmumNwaMK4l3LdVh1RkETqGPaDR0dZer-cCtELoD97DUPPXGD_a8MAxTRrBdaS67AHHu9JaRdFuKor",
  "rVJDmZHg5-B8Gx2H-OiwE40unFHzl0xLJTXeFTVut3SV5yLtQQz3OOXl7jUv4LUBqzKyz6JB",
].join("");

/** The owner: its public identity (§4.1), fingerprint (§4.2) and Ed25519 private seed. */
export interface Owner {
  readonly identity: Bytes;
  readonly fingerprint: Bytes;
  readonly ed25519Seed: Bytes;
  readonly ed25519: CryptoKey;
  readonly pss: CryptoKey;
}

/** Signed data as a verifier sees it: the labelled bytes and one signature per algorithm. */
export interface SignedData {
  /** `label ‖ 0x00 ‖ data`, the exact bytes both algorithms sign (§5). */
  readonly signed: Bytes;
  readonly rsa: Bytes;
  readonly ed25519: Bytes;
}

/** The fields of a scenario. */
export type Fields = Scenario["fields"];
/** Which signatures a signed vector carries and its verifier requires. */
export type Policy = "both" | "ed25519";

let owner: Promise<Owner> | undefined;

/** The owner identity, built once. */
export function ownerIdentity(): Promise<Owner> {
  owner ??= buildOwner();
  return owner;
}

async function buildOwner(): Promise<Owner> {
  const ed25519Seed = await draw("owner/ed25519-seed", 32);
  const ed25519 = await crypto.subtle.importKey(
    "pkcs8",
    concat(hexOf(ED25519_PKCS8_PREFIX), ed25519Seed),
    "Ed25519",
    true,
    ["sign"],
  );
  const edPublic = base64url((await crypto.subtle.exportKey("jwk", ed25519)).x ?? "");
  const pssPublic = await crypto.subtle.importKey(
    "jwk",
    { kty: "RSA", n: PSS_N, e: "AQAB" },
    PSS,
    true,
    ["verify"],
  );
  const pssSpki = new Uint8Array(await crypto.subtle.exportKey("spki", pssPublic));
  // Version byte, then the responder's OAEP key as a bytes16 field.
  const oaepLength = (RESPONDER_IDENTITY[1] << 8) | RESPONDER_IDENTITY[2];
  const oaepSpki = RESPONDER_IDENTITY.slice(3, 3 + oaepLength);
  const identity = w().u8(1).bytes16(oaepSpki).bytes16(pssSpki).raw(edPublic).finish();
  return {
    identity,
    fingerprint: await sha256(labelled("sfs/v1/fingerprint", identity)),
    ed25519Seed,
    ed25519,
    pss: pssPublic,
  };
}

/** Signs `(label, data)` with both of the owner's keys (§5), reproducibly. */
export async function ownerSign(label: string, data: Uint8Array): Promise<SignedData> {
  const o = await ownerIdentity();
  const signed = labelled(label, data);
  const ed25519 = new Uint8Array(await crypto.subtle.sign("Ed25519", o.ed25519, signed));
  const rsa = await pssSign(signed);
  if (!await crypto.subtle.verify({ ...PSS, saltLength: SALT_BYTES }, o.pss, rsa, signed)) {
    throw new Error("The hand-made RSA-PSS signature does not verify");
  }
  return { signed, rsa, ed25519 };
}

/** RSASSA-PSS-SIGN (RFC 8017 §8.1.1) with a salt drawn from SEED under the message's hash. */
async function pssSign(message: Uint8Array): Promise<Bytes> {
  const n = bigintOf(base64url(PSS_N));
  const d = bigintOf(base64url(PSS_D));
  const modBits = n.toString(2).length;
  const emLength = Math.ceil((modBits - 1) / 8);
  const messageHash = await sha256(message);
  const salt = await draw(`owner/pss-salt/${toHex(messageHash)}`, SALT_BYTES);
  const h = await sha256(concat(new Uint8Array(8), messageHash, salt));
  const db = concat(new Uint8Array(emLength - SALT_BYTES - HASH_BYTES - 2), Uint8Array.of(1), salt);
  const mask = await mgf1(h, db.length);
  const maskedDb = db.map((byte, i) => byte ^ mask[i]);
  maskedDb[0] &= 0xff >> (8 * emLength - (modBits - 1));
  const encoded = concat(maskedDb, h, Uint8Array.of(0xbc));
  return bytesOf(modPow(bigintOf(encoded), d, n), Math.ceil(modBits / 8));
}

/** MGF1 with SHA-256 (RFC 8017 §B.2.1). */
async function mgf1(seed: Uint8Array, length: number): Promise<Bytes> {
  const blocks: Uint8Array[] = [];
  for (let counter = 0; blocks.length * HASH_BYTES < length; counter++) {
    blocks.push(await sha256(concat(seed, w().u32(counter).finish())));
  }
  return concat(...blocks).slice(0, length);
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

function bigintOf(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${toHex(bytes)}`);
}

function bytesOf(value: bigint, length: number): Bytes {
  return hexOf(value.toString(16).padStart(length * 2, "0"));
}

function base64url(text: string): Bytes {
  const base64 = text.replaceAll("-", "+").replaceAll("_", "/");
  return Uint8Array.from(
    atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "=")),
    (c) => c.charCodeAt(0),
  );
}

/** The signer's public identity and Ed25519 seed, which every signed vector carries. */
export async function signerFields(): Promise<Fields> {
  const owner = await ownerIdentity();
  return [["signer_identity", owner.identity], ["signer_ed25519_seed", owner.ed25519Seed]];
}

/** A signature set as a verifier gets it; `ed25519` policy leaves the RSA field empty. */
export function signatureFields(signed: SignedData, policy: Policy = "both"): Fields {
  return [
    ["rsa_signature", policy === "both" ? signed.rsa : new Uint8Array()],
    ["ed25519_signature", signed.ed25519],
  ];
}
