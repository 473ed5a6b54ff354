/**
 * CPace on ristretto255 with SHA-512 (CPACE-RISTR255-SHA512, draft-irtf-cfrg-cpace-21), in the
 * initiator-responder setting, plus the explicit key confirmation the draft suggests in its section
 * "Key confirmation": `mac_key = H(b"CPaceMac" ‖ sid ‖ ISK)`, each side MACs the message it sent.
 *
 * Why this is safe with a short code as the password: the generator is derived from the password,
 * so a public share `Y = y·g` looks uniformly random whatever the password, and an attacker who
 * talks to one party can test exactly one password guess per run (the one it built its own share
 * with); a passive one learns nothing it can test offline. The group arithmetic, the RFC 9496
 * encode/decode and element derivation all come from @noble/curves: nothing here touches a field.
 *
 * Pure: no I/O. Vectors: testdata/cpace/ (the draft's own), checked by cpace_test.ts.
 */
import { ristretto255, ristretto255_hasher } from "@noble/curves/ed25519.js";
import { bytesToNumberLE } from "@noble/curves/utils.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { SfsError } from "../errors.ts";
import { type Bytes, concat, constantTimeEqual, utf8 } from "./bytes.ts";

type Point = InstanceType<typeof ristretto255.Point>;

/** G.DSI of G_Ristretto255: the domain-separation identifier of the group. */
export const CPACE_DSI: Bytes = utf8("CPaceRistretto255");
/** Size of a CPace message (an encoded ristretto255 element) and of an encoded K. */
export const CPACE_MESSAGE_BYTES = 32;
/** Size of the ISK (a SHA-512 output) and of each confirmation tag (HMAC-SHA-512). */
export const CPACE_ISK_BYTES = 64;
/** H.s_in_bytes for SHA-512: the input block size that the zero padding fills. */
const SHA512_BLOCK_BYTES = 128;
/** G.I: the encoding of the neutral element. */
const IDENTITY: Bytes = new Uint8Array(CPACE_MESSAGE_BYTES);
const ISK_DSI: Bytes = concat(CPACE_DSI, utf8("_ISK"));
const MAC_LABEL: Bytes = utf8("CPaceMac");

/** Which side of the initiator-responder setting a party plays: A speaks first. */
export type CpaceRole = "initiator" | "responder";

/** Inputs of {@link cpaceStart}; both parties MUST agree on all but `ad` and `role`. */
export interface CpaceStartOptions {
  /** PRS: the password-related string (for short codes, the UTF-8 of the canonical code). */
  password: Uint8Array;
  /** CI: the channel identifier, never sent; binds the key to who is talking through what. */
  channelId: Uint8Array;
  /** sid: the public, fresh session identifier both parties hold before starting. */
  sid: Uint8Array;
  /** ADa or ADb: this party's associated data, sent in clear next to the message. */
  ad: Uint8Array;
  /** @default "initiator" */
  role?: CpaceRole;
  /** Source of the scalar's bytes; tests inject the draft's scalars. @default crypto.getRandomValues */
  random?: (length: number) => Uint8Array;
}

/** The secret half of one CPace run: its scalar, usable by exactly one {@link cpaceFinish}. */
export class CpaceState {
  readonly role: CpaceRole;
  readonly message: Bytes;
  readonly ad: Bytes;
  readonly sid: Bytes;
  #scalar: bigint | undefined;

  constructor(role: CpaceRole, scalar: bigint, message: Bytes, ad: Bytes, sid: Bytes) {
    this.role = role;
    this.#scalar = scalar;
    this.message = message;
    this.ad = ad;
    this.sid = sid;
  }

  /** Returns the scalar and forgets it: the draft forbids reusing ya or yb. */
  takeScalar(): bigint {
    const scalar = this.#scalar;
    if (scalar === undefined) throw new SfsError("INTERNAL", "CPace state was already used");
    this.#scalar = undefined;
    return scalar;
  }
}

/** What {@link cpaceFinish} yields: the ISK and the two confirmation tags. */
export interface CpaceResult {
  /** ISK: 64 bytes, to be put through a KDF before use (draft, "Key derivation"). */
  readonly isk: Bytes;
  readonly confirm: {
    /** The tag this party sends: MAC over its own message and AD. */
    readonly mine: Bytes;
    /** The tag the peer must send: MAC over the peer's message and AD. */
    readonly theirs: Bytes;
  };
}

/** Starts a run: derives the generator from the password and returns this party's message. */
export function cpaceStart(options: CpaceStartOptions): { message: Bytes; state: CpaceState } {
  const random = options.random ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)));
  const g = calculateGenerator(options.password, options.channelId, options.sid);
  const scalar = sampleScalar(random);
  const message = g.multiply(scalar).toBytes() as Bytes;
  const state = new CpaceState(
    options.role ?? "initiator",
    scalar,
    message,
    Uint8Array.from(options.ad),
    Uint8Array.from(options.sid),
  );
  return { message, state };
}

/**
 * Finishes a run with the peer's message and AD. Throws BAD_KEY when the peer's message is not a
 * valid ristretto255 encoding, is the identity, or is our own message reflected back.
 */
export function cpaceFinish(
  state: CpaceState,
  peerMessage: Uint8Array,
  peerAd: Uint8Array,
): CpaceResult {
  const scalar = state.takeScalar();
  if (peerMessage.length !== CPACE_MESSAGE_BYTES) {
    throw new SfsError("BAD_KEY", `CPace message has ${peerMessage.length} bytes, not 32`);
  }
  // A reflected message would make the peer's expected tag equal to ours, so an attacker could
  // pass confirmation by echoing our own tag back.
  if (constantTimeEqual(peerMessage, state.message)) {
    throw new SfsError("BAD_KEY", "CPace message is our own message reflected");
  }
  const k = scalarMultVfy(scalar, peerMessage);
  if (constantTimeEqual(k, IDENTITY)) {
    throw new SfsError("BAD_KEY", "CPace message is not a valid group element");
  }
  const mine = lvCat(state.message, state.ad);
  const theirs = lvCat(peerMessage, peerAd);
  const transcript = state.role === "initiator" ? concat(mine, theirs) : concat(theirs, mine);
  const iskInput = concat(lvCat(ISK_DSI, state.sid, k), transcript);
  const isk = sha512(iskInput) as Bytes;
  const macKey = sha512(concat(MAC_LABEL, state.sid, isk));
  const confirm = {
    mine: hmac(sha512, macKey, mine) as Bytes,
    theirs: hmac(sha512, macKey, theirs) as Bytes,
  };
  // K and the MAC key are not needed again; the ISK is the caller's to zero once used.
  for (const secret of [k, iskInput, macKey]) secret.fill(0);
  return { isk, confirm };
}

/**
 * Checks the peer's confirmation tag in constant time. Throws PAKE_FAILED on a mismatch: the
 * codes differ, or someone in between changed a message; either way nothing may be sent.
 */
export function checkConfirmation(result: CpaceResult, peerTag: Uint8Array): void {
  if (!constantTimeEqual(result.confirm.theirs, peerTag)) {
    throw new SfsError(
      "PAKE_FAILED",
      "Key confirmation failed: the code is wrong or was tampered with",
    );
  }
}

/** prepend_len: the LEB128 encoding of `data.length`, then `data`. */
export function prependLen(data: Uint8Array): Bytes {
  const length: number[] = [];
  let rest = data.length;
  do {
    length.push(rest < 128 ? rest : (rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  } while (rest > 0);
  return concat(Uint8Array.from(length), data);
}

/** lv_cat: the prefix-free concatenation of `parts`, each with its length prepended. */
export function lvCat(...parts: Uint8Array[]): Bytes {
  return concat(...parts.map(prependLen));
}

/**
 * generator_string: `lv_cat(DSI, PRS, zero_bytes(len_zpad), CI, sid)`, the zero padding making
 * DSI and a short PRS fill the first SHA-512 block, so the hashing time of that block does not
 * depend on the password's length.
 */
export function generatorString(
  password: Uint8Array,
  channelId: Uint8Array,
  sid: Uint8Array,
): Bytes {
  const zpad = Math.max(
    0,
    SHA512_BLOCK_BYTES - 1 - prependLen(password).length - prependLen(CPACE_DSI).length,
  );
  return lvCat(CPACE_DSI, password, new Uint8Array(zpad), channelId, sid);
}

/** calculate_generator: RFC 9496 element derivation of the 64-byte SHA-512 of the generator string. */
export function calculateGenerator(
  password: Uint8Array,
  channelId: Uint8Array,
  sid: Uint8Array,
): Point {
  // deriveToCurve is optional in the hasher type (only ristretto255 and decaf448 have it).
  const derive = ristretto255_hasher.deriveToCurve;
  if (derive === undefined) {
    throw new SfsError("INTERNAL", "ristretto255 element derivation missing");
  }
  return derive(sha512(generatorString(password, channelId, sid)));
}

/**
 * scalar_mult_vfy: `encode(y · decode(X))`, or G.I when X does not decode. The identity itself
 * decodes, and every multiple of it encodes to G.I, which the caller rejects; ristretto255 has
 * prime order and no small subgroup, so no other valid point can force a known K.
 */
export function scalarMultVfy(scalar: bigint, encoded: Uint8Array): Bytes {
  let point: Point;
  try {
    point = ristretto255.Point.fromBytes(encoded);
  } catch {
    return IDENTITY;
  }
  return point.multiply(scalar).toBytes() as Bytes;
}

/**
 * sample_scalar as the draft recommends for ristretto255: 32 random bytes with the bits above the
 * 252nd cleared, read little-endian. The result is below 2^252 < the group order, so no reduction
 * is needed; only zero (probability 2^-252, or a broken random source) is refused.
 */
function sampleScalar(random: (length: number) => Uint8Array): bigint {
  const bytes = Uint8Array.from(random(32));
  if (bytes.length !== 32) throw new SfsError("INTERNAL", "Random source returned a short read");
  bytes[31] &= 0x0f;
  const scalar = bytesToNumberLE(bytes);
  bytes.fill(0);
  if (scalar === 0n) throw new SfsError("INTERNAL", "Random source returned a zero scalar");
  return scalar;
}
