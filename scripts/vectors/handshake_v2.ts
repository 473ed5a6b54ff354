/**
 * One handshake of version 2 (docs/PROTOCOL.md §6), built field by field: fixed ephemeral keys,
 * nonces, secret and early GET; the vector owner (./signer.ts) on both ends, as a sender
 * fetching from itself. Every flight's bytes, the five transcript hashes and the seven keys.
 * Deterministic except where the protocol is not: the responder's RSA-PSS signature uses a salt
 * drawn from SEED here (a verifier checks it, it cannot recompute it), and RSA-OAEP is
 * randomised, so the wrapped secret is a stand-in of the right size (nobody unwraps it; the
 * secret itself is a field of the vector).
 */
import { type Bytes, concat } from "../../src/crypto/bytes.ts";
import {
  draw,
  hkdf,
  labelled,
  seal,
  sha256,
  w,
  x25519,
  x25519Private,
  x25519Public,
} from "./common.ts";
import { ownerIdentity, ownerSign } from "./signer.ts";

/** Plaintext of every handshake record (§6.3). */
const RECORD_PLAINTEXT = 3072;

/** `u8 type ‖ body`, the content a transcript entry hashes (§6.5). */
function content(type: number, body: Uint8Array): Bytes {
  return concat(Uint8Array.of(type), body);
}

/** A frame: u32 length ‖ u8 kind ‖ body (§8). */
function frame(kind: number, body: Uint8Array): Bytes {
  return w().u32(body.length + 1).u8(kind).raw(body).finish();
}

/** A padded handshake record (§6.3) sealed under `key` with sequence `seq`, as a SEALED frame. */
async function record(key: Uint8Array, seq: number, data: Uint8Array): Promise<Bytes> {
  const plaintext = concat(
    w().u16(data.length).finish(),
    data,
    new Uint8Array(RECORD_PLAINTEXT - 2 - data.length),
  );
  return frame(2, await seal(key, w().u32(0).u64(seq).finish(), plaintext));
}

/** SHA-256 of the labelled transcript entries `bytes32(content)` (§6.5). */
async function transcript(...contents: Uint8Array[]): Promise<Bytes> {
  return await sha256(
    labelled("sfs/v2/transcript", ...contents.map((c) => w().bytes32(c).finish())),
  );
}

/** Everything one v2 handshake exchanges and derives. */
export async function handshakeV2() {
  const owner = await ownerIdentity();
  const initiatorSeed = await draw("hs2/initiator-x25519", 32);
  const responderSeed = await draw("hs2/responder-x25519", 32);
  const initiatorKey = await x25519Private(initiatorSeed);
  const responderKey = await x25519Private(responderSeed);
  const initiatorPublic = await x25519Public(initiatorKey);
  const responderPublic = await x25519Public(responderKey);
  const dh = await x25519(initiatorKey, responderPublic);
  const initiatorNonce = await draw("hs2/initiator-nonce", 32);
  const responderNonce = await draw("hs2/responder-nonce", 32);
  const hello = content(
    1,
    w().u16(2).bytes16(new Uint8Array()).raw(initiatorPublic).raw(initiatorNonce).finish(),
  );
  const reply = content(
    2,
    w().u16(2).bytes16(new Uint8Array()).raw(responderPublic).raw(responderNonce).finish(),
  );
  const h1 = await transcript(hello, reply);
  const hsInitiator = await hkdf(dh, h1, "sfs/v2/key/handshake/initiator");
  const hsResponder = await hkdf(dh, h1, "sfs/v2/key/handshake/responder");

  const hR = await transcript(hello, reply, w().u8(4).bytes16(owner.identity).finish());
  const rSigned = await ownerSign("sfs/v2/handshake-signature/responder", hR);
  const responderAuth = content(
    4,
    w().bytes16(owner.identity).bytes16(rSigned.rsa).bytes16(rSigned.ed25519).finish(),
  );
  const hI = await transcript(
    hello,
    reply,
    responderAuth,
    w().u8(5).bytes16(owner.identity).u8(1).finish(),
  );
  const iSigned = await ownerSign("sfs/v2/handshake-signature/initiator", hI);
  // The initiator signs Ed25519 only (its default, §6.4).
  const initiatorAuth = content(
    5,
    w().bytes16(owner.identity).u8(1).bytes16(new Uint8Array()).bytes16(iSigned.ed25519).finish(),
  );
  const hA = await transcript(hello, reply, responderAuth, initiatorAuth);
  const early = content(16, w().raw(await draw("hs2/file-id", 16)).u64(0).finish());
  const keyTransport = content(6, w().bytes16(await draw("hs2/wrapped-secret", 384)).finish());
  const hF = await transcript(hello, reply, responderAuth, initiatorAuth, early, keyTransport);
  const secret = await draw("hs2/secret", 32);
  const ikm = concat(dh, secret);
  return {
    initiatorSeed,
    responderSeed,
    initiatorNonce,
    responderNonce,
    identity: owner.identity,
    secret,
    contents: { hello, reply, responderAuth, initiatorAuth, early, keyTransport },
    flights: {
      hello: frame(1, hello),
      reply: frame(1, reply),
      responderAuth: await record(hsResponder, 0, responderAuth),
      initiatorAuth: await record(hsInitiator, 0, initiatorAuth),
      early: await record(hsInitiator, 1, early),
      keyTransport: await record(hsResponder, 1, keyTransport),
    },
    dh,
    initiatorPublic,
    responderPublic,
    hsInitiator,
    hsResponder,
    hashes: { h1, hR, hI, hA, hF },
    responderKey: await hkdf(ikm, hF, "sfs/v2/key/responder"),
    initiatorKey: await hkdf(ikm, hF, "sfs/v2/key/initiator"),
    payloadKey: await hkdf(ikm, hF, "sfs/v2/key/payload"),
  };
}
