/**
 * What every vector generator shares (see scripts/gen_vectors.ts): the seeded byte source, the
 * two fixed public identities, hand-written primitives built on WebCrypto and one handshake's
 * worth of values. Nothing here calls the code under test except ByteWriter and the hex/base32
 * helpers.
 */
import { type Bytes, concat, fromBase64, toBase32, toHex, utf8 } from "../../src/crypto/bytes.ts";
import { ByteWriter } from "../../src/crypto/encoding.ts";

/** Every "random" byte of the vectors derives from this. */
export const SEED = utf8("sfs test vectors v1");
/** PKCS#8 header of a raw 32-byte X25519 private key (RFC 8410). */
export const X25519_PKCS8_PREFIX = "302e020100300506032b656e04220420";

/** Joins base64 lines and decodes them; the identities are kept as data, not regenerated. */
function fromBase64Strict(lines: string[]): Bytes {
  const bytes = fromBase64(lines.join(""));
  if (!bytes) throw new Error("Embedded identity is not base64");
  return bytes;
}

/** The responder's public identity (§4.1), generated once and kept. */
export const RESPONDER_IDENTITY = fromBase64Strict([
  "AQGmMIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEAv4uLOoaVLr2HrrBv4Qqr7quc49pmtJ07+nojyAZn",
  "rCR14ik2xrb7HDFRe1p0grN9dmc/lg20KZ4q0X4Gm/e3Nxxst1oFYwkSeehh0iOQxtV1SmZGNEyaayTzMDaBx/ZK",
  "tcGwFLCNm6B/w4D+lkgebZr4vIBW4h8KguPAMlh9FKX7NSW/F1e+98H2eCf8JK2uzViAe8JnL+BwKOJgLTiPaUt2",
  "FCCpAqDaT85a30bDmyO1lNFGggy56z4RgNhu7Ic6yHdn7MKGdW98y2IDWrz2XzsDlEoOqbyq4qnJFw0I+xyVme5t",
  "dcoXg3adVWgTbiGXLGRfMSErpWuxCulB9RzdhwCmUibXLkOQUahF02kkUMnuJyPetPvXqrR/u8WjGFODbHZC7zbS",
  "zcZeJn/1MfSdVHEq4i/UetV1LaGb2QZOKKvIVMnumlUzwrugP/HQtvS1ij5gGIhNSWg3mnbM3DbBJ82MezjOMGT0",
  "wk4L31fIvU9GtcwkARZM8Kr9309n8JV9AgMBAAEBpjCCAaIwDQYJKoZIhvcNAQEBBQADggGPADCCAYoCggGBANDe",
  "uCZNeCRV9MSr02jtifQQF1xmSuo5ZiDcSKe0pFywxeQW73YsbkRvpy0x48gm0U6i6jdj1svxGlxBQ0rpzhw7Yhyt",
  "eG/h/yvAJKMUv2r4CY7juPSytg50OKUcolJVhe6l5TeP83OZNv1CEsgbtXfmf5IMbmKlE4gudUIpE9y8Yt6fDyK+",
  "68aPsAEpyaKa5TdnmIkAOJtr1KM0fK9ULvHIx31i02ShuQ7yJHz8WFV9CRPmIbNPo3bj4NYPED53oN1W/t2bJ9xe",
  "3vROVJKi+1szfhnc10GLTrV/+a7H8yKKsS8JcKUxNy589oSgT14wgzwc1GXXF2rnKIhJLSi1iw8yuAr8jt9MPflg",
  "ZNw/8eNOpeIcze0KIH/Uy9dZoMFO9HVdex2vL+H98+tr9wp7sTeV4l/EOLuCBvXCyFUlmcLSkp8GMSH+GlZitOmv",
  "mI6+FBM0XAPndX6mML+RUCG+ybzJjtuUHroc9sJ6qIPToet32FRkTRy6g5OT9w1zbmZv8QIDAQAB1mP4M/Km/4+R",
  "/Cv8I5pxS4xc0fYbwwDXbicLHevqv5I=",
]);

/** The initiator's public identity (§4.1), generated once and kept. */
export const INITIATOR_IDENTITY = fromBase64Strict([
  "AQGmMIIBojANBgkqhkiG9w0BAQEFAAOCAY8AMIIBigKCAYEAp/yUN+S7RGCDtoBmi6G2TCQyX45CDrQSR73YZSX5",
  "ZRs3uRrXVhdMkJ71ahRsXA9ss8L1BQ9yIkQdzRl4rSYMcvgPFgJsuHclJjob5/Cg5bEanUe66ZLltKEL4+P+iaWs",
  "C9C8lLIwLpDQibGKElc/CSDUin4cBZitfSQuha4/Mnln26ddRIC63G446MCYqwPmpFvPoDuV+kg2oAfwoHnBFCDq",
  "lRu6EAuYourjrELBIQuz8HzZoNdPiCd4Kp5dti7VntIn3yF5hqwQa9nLyDulVeg9XhV/O9tM+ZRXZ3KiPlMVGtnr",
  "qmpRmRjTbiXo0ffz2HxGtPW9cyIhVuW+BQjQSxR8KmIgNLKGL6Nkxcp0wPVcd4Y1/WE64u9sYWTwpVlg6W5GgYAT",
  "kJ2CqKz2gryHRYhokl+1GWcSAQtXah/S517bY4ykp9+ihysXytXmajorUGPTvfiyf02kZxvVAN//7a1trhs5oFgv",
  "6+z6SjDd39yEbHGXcin9Xr3TiuBvj9NDAgMBAAEBpjCCAaIwDQYJKoZIhvcNAQEBBQADggGPADCCAYoCggGBAL1U",
  "mX+XCM7OVgq10ndRKrXX64e70q/0r3U61iIJlnmyCvHyKx/vYQlzvjHfC6840Qya6pR5flvVZhkPMLxlSoR8X5gw",
  "u/jHkBqfH4P5SVdU5d7BmBHyP1z78kKHYqBXcx0+abUC7H+ajkykvuKtwI+mFyayd3ktOWsOnnWPB0942cMa5cd0",
  "p8d6CniPXIqCsNotaFf/rK+H6SDU0Bwh98TTTLrMKo8uB1dWCjncGxYHRb8KrhbdSnTy7i5X0HsY6npiWvBa7i68",
  "hQaGqkZLX7eLsZEzVp3rE85rcgbE5CTzocDCLX64gXwzplPPJXCfng1/TM8g1Wdl1/fEz3qc0eCFoaxYaltqZ66g",
  "K/YCJJD+0OfIoSCdYY1ya5ughK1hvYabN5Jv9RN+UxFk66g57kEycdjIgf/dlC7xCBk6CGlRsysgOz5BP1x4rQP5",
  "mt8NgmtYgbB66/7kkvt6bwOPUdLVRov9xX2SOxqVHcJqWgJv1o2Grst4ov+TviZyInUy/wIDAQABdUklTjhI7R+6",
  "Jyq2XWe13xbgYzwaGMWnIMTyNoebYLI=",
]);

/** One scenario: written as `NAME.txt`. */
export interface Scenario {
  name: string;
  expect: "ok" | `error ${string}`;
  kind: string;
  note: string;
  fields: [string, string | number | boolean | Uint8Array][];
}

/** `length` deterministic bytes drawn under `name`: SHA-256(SEED ‖ 0 ‖ name ‖ 0 ‖ u32 i)… */
export async function draw(name: string, length: number): Promise<Bytes> {
  const blocks: Uint8Array[] = [];
  for (let i = 0; blocks.length * 32 < length; i++) {
    const input = new ByteWriter().raw(SEED).u8(0).raw(utf8(name)).u8(0).u32(i).finish();
    blocks.push(new Uint8Array(await crypto.subtle.digest("SHA-256", input)));
  }
  return concat(...blocks).slice(0, length);
}

/** SHA-256 through WebCrypto. */
export async function sha256(data: Uint8Array): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(data)));
}

/** `label ‖ 0x00 ‖ data` (§3.1), written out here rather than imported. */
export function labelled(label: string, ...parts: Uint8Array[]): Bytes {
  return concat(utf8(label), Uint8Array.of(0), ...parts);
}

/** Lower-case hex to bytes (trusted input: the generator's own constants). */
export function hexOf(text: string): Bytes {
  return Uint8Array.from(text.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

/** Imports a 32-byte X25519 private key seed behind its PKCS#8 header. */
export async function x25519Private(seed: Uint8Array): Promise<CryptoKey> {
  return await crypto.subtle.importKey(
    "pkcs8",
    concat(hexOf(X25519_PKCS8_PREFIX), seed),
    "X25519",
    false,
    ["deriveBits"],
  );
}

/** X25519 of a private key and a raw peer public key (§6.5). */
export async function x25519(privateKey: CryptoKey, peer: Uint8Array): Promise<Bytes> {
  const key = await crypto.subtle.importKey("raw", new Uint8Array(peer), "X25519", false, []);
  return new Uint8Array(
    await crypto.subtle.deriveBits({ name: "X25519", public: key }, privateKey, 256),
  );
}

/** The public key of an X25519 private key: X25519 with the base point u = 9. */
export function x25519Public(privateKey: CryptoKey): Promise<Bytes> {
  const basePoint = new Uint8Array(32);
  basePoint[0] = 9;
  return x25519(privateKey, basePoint);
}

/** HKDF-SHA256 to 32 bytes (§6.5). */
export async function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string): Promise<Bytes> {
  const key = await crypto.subtle.importKey("raw", new Uint8Array(ikm), "HKDF", false, [
    "deriveBits",
  ]);
  return new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(salt), info: utf8(info) },
      key,
      256,
    ),
  );
}

/** Chunk nonce (§7.2): 11-byte big-endian index ‖ last flag, built byte by byte. */
export function chunkNonce(index: number, last: boolean): Bytes {
  const nonce = new Uint8Array(12);
  let rest = BigInt(index);
  for (let i = 10; i >= 0; i--) {
    nonce[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/** AES-256-GCM with a raw key and no associated data. */
export async function seal(
  rawKey: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
): Promise<Bytes> {
  const key = await crypto.subtle.importKey("raw", new Uint8Array(rawKey), "AES-GCM", false, [
    "encrypt",
  ]);
  return new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: new Uint8Array(nonce) },
      key,
      new Uint8Array(plaintext),
    ),
  );
}

/** A copy with one bit flipped at `index` (negative counts from the end). */
export function flip(bytes: Uint8Array, index: number): Bytes {
  const out = new Uint8Array(bytes);
  out[index < 0 ? out.length + index : index] ^= 0x01;
  return out;
}

/** A big-endian u64 from a bigint, so values past 2^53 can be written. */
export function u64(value: bigint): Bytes {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value);
  return out;
}

/** A fresh ByteWriter. */
export function w(): ByteWriter {
  return new ByteWriter();
}

/** §4.2: SHA256: and base32 in groups of four. */
export function formatFingerprint(fingerprint: Uint8Array): string {
  return `SHA256:${(toBase32(fingerprint).match(/.{1,4}/g) ?? []).join("-")}`;
}

/** A full handshake's worth of values, shared by the key-schedule and transcript scenarios. */
export async function handshakeValues() {
  const initiatorSeed = await draw("handshake/initiator-x25519", 32);
  const responderSeed = await draw("handshake/responder-x25519", 32);
  const initiatorKey = await x25519Private(initiatorSeed);
  const responderKey = await x25519Private(responderSeed);
  const initiatorPublic = await x25519Public(initiatorKey);
  const responderPublic = await x25519Public(responderKey);
  const shared = await x25519(initiatorKey, responderPublic);
  const other = await x25519(responderKey, initiatorPublic);
  if (toHex(shared) !== toHex(other)) throw new Error("X25519 disagrees with itself");
  const helloBody = w().u16(1).bytes16(INITIATOR_IDENTITY).raw(initiatorPublic).raw(
    await draw("handshake/initiator-nonce", 32),
  ).finish();
  const reply = {
    version: 1,
    identity: RESPONDER_IDENTITY,
    ephemeral: responderPublic,
    nonce: await draw("handshake/responder-nonce", 32),
    // RSA-OAEP is randomised: a stand-in of the size a 3072-bit key produces.
    wrappedSecret: await draw("handshake/wrapped-secret", 384),
  };
  const replyUnsigned = w().u16(reply.version).bytes16(reply.identity).raw(reply.ephemeral).raw(
    reply.nonce,
  ).bytes16(reply.wrappedSecret).finish();
  const transcriptHash = await sha256(
    labelled("sfs/v1/transcript", w().bytes32(helloBody).bytes32(replyUnsigned).finish()),
  );
  const secret = await draw("handshake/secret", 32);
  const ikm = concat(shared, secret);
  return {
    initiatorSeed,
    responderSeed,
    initiatorPublic,
    responderPublic,
    shared,
    secret,
    helloBody,
    reply,
    replyUnsigned,
    transcriptHash,
    responderKey: await hkdf(ikm, transcriptHash, "sfs/v1/key/responder"),
    initiatorKey: await hkdf(ikm, transcriptHash, "sfs/v1/key/initiator"),
    payloadKey: await hkdf(ikm, transcriptHash, "sfs/v1/key/payload"),
  };
}

/** §7.1: the first 16 bytes of SHA-256(labelled(file-id, fingerprint, content hash, name)). */
export async function fileId(
  fingerprint: Uint8Array,
  contentHash: Uint8Array,
  name: string,
): Promise<Bytes> {
  const digest = await sha256(labelled("sfs/v1/file-id", fingerprint, contentHash, utf8(name)));
  return digest.slice(0, 16);
}
