/**
 * Runners of the kinds of testdata/vectors/ above the wire format: file id (§7.1), FINAL data
 * (§7.3), sealed records (§9.2), tickets (§10), proofs (§12.2) and announcements (§12.5). Each
 * checks both ways: the code encodes the fields to the vector's bytes, and decodes or verifies
 * the bytes back. Signatures are checked by verifying (RSA-PSS is randomised); Ed25519 ones are
 * also made again from the signer's seed and compared byte for byte.
 */
import assert from "node:assert/strict";
import { AeadKey } from "../../src/crypto/aead.ts";
import { type Bytes, concat, fromHex } from "../../src/crypto/bytes.ts";
import { decodePublicIdentity, type PublicIdentity } from "../../src/crypto/identity.ts";
import { aesKey } from "../../src/crypto/kdf.ts";
import { LABEL, labelled } from "../../src/crypto/labels.ts";
import {
  SIGNATURE_POLICIES,
  type SignaturePolicy,
  type Signatures,
  verify,
} from "../../src/crypto/sign.ts";
import {
  decodeAnnouncement,
  encodeAnnouncement,
  type FileAnnouncement,
  verifyAnnouncement,
} from "../../src/index/protocol/announcement.ts";
import { proofData, verifyProof } from "../../src/index/protocol/proof.ts";
import { formatTicket, parseTicket } from "../../src/peer/ticket.ts";
import { formatHostPort } from "../../src/net/address.ts";
import { finalSignedData } from "../../src/peer/final_signed_data.ts";
import { Channel, DEFAULT_MAX_RECORD } from "../../src/wire/channel.ts";
import { fileIdOf } from "../../src/crypto/file_id.ts";
import { FrameReader, FrameWriter } from "../../src/wire/frame.ts";
import { decodeMessage, encodeMessage, MessageType } from "../../src/wire/messages.ts";
import { assertHex, BytesTransport, type Runner, type Vector } from "./vector.ts";

const ED25519_PKCS8_PREFIX = "302e020100300506032b657004220420";
/** Bytes before a SEALED frame's body: u32 length ‖ u8 kind. */
const FRAME_HEADER_BYTES = 5;

/** The signature set of a vector; an empty field means "not signed with this algorithm" (§5). */
export function signaturesOf(v: Vector): Signatures {
  const rsa = v.hex("rsa_signature");
  const ed25519 = v.hex("ed25519_signature");
  return {
    rsa: rsa.length > 0 ? rsa : undefined,
    ed25519: ed25519.length > 0 ? ed25519 : undefined,
  };
}

export function policyOf(v: Vector): SignaturePolicy {
  const policy = v.text("required");
  assert.ok((SIGNATURE_POLICIES as string[]).includes(policy), `${v.file}: bad policy`);
  return policy as SignaturePolicy;
}

/**
 * For an `ok` vector, checks the labelled bytes and remakes the Ed25519 signature from the seed;
 * returns the signer to verify against.
 */
export async function signerOf(
  v: Vector,
  label: string,
  data: Uint8Array,
): Promise<PublicIdentity> {
  const signer = await decodePublicIdentity(v.hex("signer_identity"));
  if (v.expect !== "ok") return signer;
  const signed = labelled(label, data);
  assertHex(signed, v.hex("signed"), "signed bytes");
  const seed = await crypto.subtle.importKey(
    "pkcs8",
    concat(fromHex(ED25519_PKCS8_PREFIX)!, v.hex("signer_ed25519_seed")),
    "Ed25519",
    false,
    ["sign"],
  );
  const again = new Uint8Array(await crypto.subtle.sign("Ed25519", seed, signed));
  assertHex(again, v.hex("ed25519_signature"), "Ed25519 signature made again");
  return signer;
}

/** A channel over `transport` with fixed record keys; records never look at the rest. */
async function channelOn(transport: BytesTransport, key: Bytes): Promise<Channel> {
  const aes = await AeadKey.import(key);
  return new Channel({
    reader: new FrameReader(transport),
    writer: new FrameWriter(transport),
    transport,
    peer: undefined as unknown as PublicIdentity,
    transcriptHash: new Uint8Array(32),
    authHash: new Uint8Array(32),
    sendKey: aes,
    receiveKey: aes,
    payloadKey: AeadKey.deferred(key),
    maxRecordBytes: DEFAULT_MAX_RECORD,
    peerName: "peer",
  });
}

function typed(type: number, body: Uint8Array): Bytes {
  return concat(Uint8Array.of(type), body);
}

/** The announcement fields a vector lists, in the code's shape. */
function announcementOf(v: Vector): FileAnnouncement {
  assert.equal(v.int("version"), 2, "version");
  const [address, ...alternates] = v.textAll("address");
  return {
    fileId: v.hex("file_id"),
    owner: v.text("owner"),
    ownerFingerprint: v.hex("owner_fingerprint"),
    name: v.text("name"),
    size: v.int("size"),
    sha256: v.hex("sha256"),
    keywords: v.textAll("keyword"),
    recipients: v.textAll("recipient"),
    address,
    ...(alternates.length > 0 ? { alternates } : {}),
    createdAt: v.int("created_at"),
  };
}

/** Runner per kind. */
export const PROTOCOL_RUNNERS: Record<string, Runner> = {
  "file-id": async (v) => {
    const id = await fileIdOf(v.hex("owner_fingerprint"), v.hex("sha256"), v.text("name"));
    assertHex(id, v.hex("file_id"), "file id");
  },

  final: async (v) => {
    const body = v.hex("manifest_body");
    const manifest = decodeMessage(MessageType.MANIFEST, body);
    assert.ok(manifest.type === MessageType.MANIFEST);
    assertHex(encodeMessage(manifest), body, "re-encoded manifest");
    const data = await finalSignedData(v.hex("transcript_hash"), manifest);
    if (v.expect === "ok") assertHex(data, v.hex("final_data"), "final data");
    const signer = await signerOf(v, LABEL.FINAL_SIGNATURE, data);
    await verify(signer, LABEL.FINAL_SIGNATURE, data, signaturesOf(v), policyOf(v));
  },

  record: async (v) => {
    const key = v.hex("key");
    const frames = v.hexAll("record_frame");
    const plaintexts = v.hexAll("record_plaintext");
    if (v.expect === "ok") {
      const nonces = v.hexAll("record_nonce");
      assert.equal(nonces.length, frames.length, "one nonce per record");
      assert.equal(plaintexts.length, frames.length, "one plaintext per record");
      const aes = await aesKey(key);
      for (const [i, frame] of frames.entries()) {
        const body = frame.subarray(FRAME_HEADER_BYTES);
        const opened = await crypto.subtle.decrypt({ name: "AES-GCM", iv: nonces[i] }, aes, body);
        assertHex(new Uint8Array(opened), plaintexts[i], `record ${i} under its nonce`);
      }
      const out = new BytesTransport(new Uint8Array());
      const sender = await channelOn(out, key);
      for (const plaintext of plaintexts) {
        await sender.send(decodeMessage(plaintext[0], plaintext.subarray(1)));
      }
      await sender.flush();
      assertHex(concat(...out.written), concat(...frames), "records as sent");
    }
    const receiver = await channelOn(new BytesTransport(concat(...frames)), key);
    for (const [i] of frames.entries()) {
      const message = await receiver.receive();
      assert.ok(!("data" in message), "a message, not a chunk");
      if (v.expect === "ok") {
        assertHex(typed(message.type, encodeMessage(message)), plaintexts[i], `record ${i}`);
      }
    }
  },

  ticket: (v) => {
    const ticket = parseTicket(v.text("ticket"));
    assert.equal(ticket.host, v.text("host"));
    assert.equal(ticket.port, v.int("port"));
    assertHex(ticket.fileId, v.hex("file_id"), "file id");
    assertHex(ticket.fingerprint, v.hex("fingerprint"), "fingerprint");
    assert.deepEqual((ticket.alternates ?? []).map(formatHostPort), v.textAll("alternate"));
    assert.equal(
      ticket.relay && formatHostPort(ticket.relay),
      v.has("relay") ? v.text("relay") : undefined,
    );
    if (v.has("relay_token")) assertHex(ticket.relay!.token, v.hex("relay_token"), "relay token");
    assert.equal(ticket.relay?.fingerprint !== undefined, v.has("relay_fingerprint"));
    if (v.has("relay_fingerprint")) {
      assertHex(ticket.relay!.fingerprint!, v.hex("relay_fingerprint"), "relay fingerprint");
    }
    const canonical = v.has("canonical") ? v.text("canonical") : v.text("ticket");
    assert.equal(formatTicket(ticket), canonical);
    return Promise.resolve();
  },

  proof: async (v) => {
    const transcriptHash = v.hex("transcript_hash");
    const username = v.text("username");
    const data = proofData(transcriptHash, username);
    if (v.expect === "ok") assertHex(data, v.hex("proof_data"), "proof data");
    const signer = await signerOf(v, LABEL.AUTH_SIGNATURE, data);
    await verifyProof(signer, transcriptHash, username, signaturesOf(v), policyOf(v));
  },

  announcement: async (v) => {
    const bytes = v.hex("announcement");
    const signer = await signerOf(v, LABEL.ANNOUNCEMENT_SIGNATURE, bytes);
    if (v.expect === "ok") {
      const fields = announcementOf(v);
      assertHex(encodeAnnouncement(fields), bytes, "encoded announcement");
      assert.deepEqual(decodeAnnouncement(bytes), fields, "decoded announcement");
    }
    const verified = await verifyAnnouncement(bytes, signaturesOf(v), signer);
    assert.deepEqual(verified, announcementOf(v), "verified announcement");
  },
};
