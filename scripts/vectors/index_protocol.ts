/**
 * Vectors for the index protocol: proofs of possession (§12.2) and signed announcements (§12.5).
 * Built field by field from docs/PROTOCOL.md, like the rest (see scripts/gen_vectors.ts);
 * signatures come from ./signer.ts.
 */
import { handshakeV2 } from "./handshake_v2.ts";
import type { Bytes } from "../../src/crypto/bytes.ts";
import {
  draw,
  fileId,
  flip,
  labelled,
  RESPONDER_IDENTITY,
  type Scenario,
  sha256,
  w,
} from "./common.ts";
import {
  type Fields,
  ownerIdentity,
  ownerSign,
  type Policy,
  signatureFields,
  type SignedData,
  signerFields,
} from "./signer.ts";

/** §12.2: transcript hash ‖ bytes16 UTF-8 username. */
function proofData(transcriptHash: Uint8Array, username: string): Bytes {
  return w().raw(transcriptHash).text(username).finish();
}

/** Proofs of possession, good and bad (§12.2). */
export async function proofScenarios(): Promise<Scenario[]> {
  // Proofs bind to H_A, the transcript through INITIATOR_AUTH (§12.2).
  const transcriptHash = (await handshakeV2()).hashes.hA;
  const owner = await ownerIdentity();
  const data = proofData(transcriptHash, "alice");
  const signed = await ownerSign("sfs/v2/auth-signature", data);
  const ok = async (suffix: string, policy: Policy, note: string): Promise<Scenario> => ({
    name: `proof-${suffix}`,
    expect: "ok",
    kind: "proof",
    note: `${note} (§12.2)`,
    fields: [
      ...await signerFields(),
      ["transcript_hash", transcriptHash],
      ["username", "alice"],
      ["proof_data", data],
      ["signed", signed.signed],
      ["required", policy],
      ...signatureFields(signed, policy),
    ],
  });
  const otherTranscript = await draw("proof/other-transcript", 32);
  const bad = (suffix: string, note: string, username: string, transcript: Uint8Array) => ({
    name: `proof-error-${suffix}`,
    expect: "error BAD_SIGNATURE" as const,
    kind: "proof",
    note,
    fields: [
      ["signer_identity", owner.identity],
      ["transcript_hash", transcript],
      ["username", username],
      ["required", "both"],
      ...signatureFields(signed),
    ] as Fields,
  });
  return [
    await ok("register", "both", "REGISTER or LOGIN: both signatures required"),
    await ok("auth-ed25519-only", "ed25519", "AUTH: Ed25519 alone suffices"),
    bad("other-connection", "proof made on another connection", "alice", otherTranscript),
    bad("other-username", "proof for alice presented for alicf", "alicf", transcriptHash),
    {
      name: "proof-error-missing-rsa",
      expect: "error BAD_SIGNATURE",
      kind: "proof",
      note: "REGISTER without the RSA-PSS signature",
      fields: [
        ["signer_identity", owner.identity],
        ["transcript_hash", transcriptHash],
        ["username", "alice"],
        ["required", "both"],
        ...signatureFields(signed, "ed25519"),
      ],
    },
  ];
}

interface AnnouncementFields {
  id?: Uint8Array;
  owner: string;
  fingerprint: Uint8Array;
  name: string;
  size: number;
  sha256: Uint8Array;
  keywords: string[];
  recipients: string[];
  /** The direct candidates, in the owner's order (§10.1). */
  addresses: string[];
  createdAt: number;
}

/** §12.5, field by field; the file id is derived unless given. */
async function announcementBytes(a: AnnouncementFields): Promise<Bytes> {
  const writer = w().u8(2).raw(a.id ?? await fileId(a.fingerprint, a.sha256, a.name)).text(a.owner)
    .raw(a.fingerprint).text(a.name).u64(a.size).raw(a.sha256).u16(a.keywords.length);
  for (const keyword of a.keywords) writer.text(keyword);
  writer.u16(a.recipients.length);
  for (const recipient of a.recipients) writer.text(recipient);
  writer.u16(a.addresses.length);
  for (const address of a.addresses) writer.text(address);
  return writer.u64(a.createdAt).finish();
}

function announcementFields(a: AnnouncementFields, bytes: Uint8Array): Fields {
  return [
    ["version", 2],
    ["file_id", bytes.slice(1, 17)],
    ["owner", a.owner],
    ["owner_fingerprint", a.fingerprint],
    ["name", a.name],
    ["size", a.size],
    ["sha256", a.sha256],
    ...a.keywords.map((k): Fields[number] => ["keyword", k]),
    ...a.recipients.map((r): Fields[number] => ["recipient", r]),
    ...a.addresses.map((x): Fields[number] => ["address", x]),
    ["created_at", a.createdAt],
  ];
}

/** Signed announcements, and ones a verifier must refuse (§12.5). */
export async function announcementScenarios(): Promise<Scenario[]> {
  const owner = await ownerIdentity();
  const base: AnnouncementFields = {
    owner: "alice",
    fingerprint: owner.fingerprint,
    name: "holiday.mov",
    size: 3 * 256 * 1024 + 5,
    sha256: await draw("announcement/sha256", 32),
    keywords: ["holiday", "2025"],
    recipients: [],
    addresses: ["files.example.net:7070"],
    createdAt: 1_790_000_000_000,
  };
  const variants: [string, string, AnnouncementFields][] = [
    ["public", "public, two keywords, DNS address", base],
    ["recipients", "for two recipients, non-ASCII name and keyword, IPv6 address", {
      ...base,
      name: "r\u00e9sum\u00e9 \u2713.pdf",
      keywords: ["\u00e9t\u00e9"],
      recipients: ["bob", "carol"],
      addresses: ["[2001:db8::7]:7070"],
    }],
    ["addresses", "three direct candidates in the owner's order", {
      ...base,
      addresses: ["192.0.2.7:7070", "[2001:db8::7]:7070", "files.example.net:7070"],
    }],
  ];
  const scenarios: Scenario[] = [];
  for (const [name, note, a] of variants) {
    const bytes = await announcementBytes(a);
    const signed = await ownerSign("sfs/v1/announcement-signature", bytes);
    scenarios.push({
      name: `announcement-${name}`,
      expect: "ok",
      kind: "announcement",
      note: `${note} (§12.5)`,
      fields: [
        ...await signerFields(),
        ...announcementFields(a, bytes),
        ["announcement", bytes],
        ["signed", signed.signed],
        ...signatureFields(signed),
      ],
    });
  }
  const bytes = await announcementBytes(base);
  const signed = await ownerSign("sfs/v1/announcement-signature", bytes);
  const responderFingerprint = await sha256(labelled("sfs/v1/fingerprint", RESPONDER_IDENTITY));
  /** Announcements that are signed correctly but break a rule other than the signature. */
  const signedBad: [string, string, string, AnnouncementFields][] = [
    ["other-owner-key", "KEY_MISMATCH", "names another key as owner", {
      ...base,
      fingerprint: responderFingerprint,
    }],
    ["id-not-derived", "BAD_MESSAGE", "file id not derived from owner, hash and name", {
      ...base,
      id: await draw("announcement/random-id", 16),
    }],
    ["recipients-unsorted", "BAD_MESSAGE", "recipients not in ascending order", {
      ...base,
      recipients: ["carol", "bob"],
    }],
    ["keyword-twice", "BAD_MESSAGE", "one keyword twice", { ...base, keywords: ["a", "a"] }],
    ["name-bidi", "BAD_MESSAGE", "name holds a right-to-left override", {
      ...base,
      name: "cod\u202eexe.txt",
    }],
    ["address-no-port", "BAD_MESSAGE", "address without a port", {
      ...base,
      addresses: ["files.example.net"],
    }],
    ["addresses-nine", "BAD_MESSAGE", "nine addresses, one more than allowed", {
      ...base,
      addresses: Array.from({ length: 9 }, (_, i) => `192.0.2.${i + 1}:7070`),
    }],
    ["addresses-twice", "BAD_MESSAGE", "one address twice", {
      ...base,
      addresses: ["192.0.2.7:7070", "192.0.2.7:7070"],
    }],
    ["addresses-none", "BAD_MESSAGE", "an empty address list", { ...base, addresses: [] }],
  ];
  for (const [name, code, note, a] of signedBad) {
    const badBytes = await announcementBytes(a);
    const badSigned = await ownerSign("sfs/v1/announcement-signature", badBytes);
    scenarios.push(badAnnouncement(name, code, note, owner.identity, badBytes, badSigned));
  }
  // The file id does not cover the size, so only the signature catches this change.
  const otherSize = await announcementBytes({ ...base, size: base.size + 1 });
  const unsigned: [string, string, Uint8Array, SignedData][] = [
    ["flipped-rsa", "last RSA-PSS signature byte flipped", bytes, {
      ...signed,
      rsa: flip(signed.rsa, -1),
    }],
    ["flipped-ed25519", "last Ed25519 signature byte flipped", bytes, {
      ...signed,
      ed25519: flip(signed.ed25519, -1),
    }],
    ["other-size", "size changed after signing", otherSize, signed],
    ["missing-rsa", "RSA-PSS signature missing: both are required", bytes, {
      ...signed,
      rsa: new Uint8Array(),
    }],
  ];
  for (const [name, note, badBytes, badSigned] of unsigned) {
    scenarios.push(
      badAnnouncement(name, "BAD_SIGNATURE", note, owner.identity, badBytes, badSigned),
    );
  }
  return scenarios;
}

function badAnnouncement(
  name: string,
  code: string,
  note: string,
  identity: Uint8Array,
  bytes: Uint8Array,
  signed: SignedData,
): Scenario {
  return {
    name: `announcement-error-${name}`,
    expect: `error ${code}`,
    kind: "announcement",
    note,
    fields: [
      ["signer_identity", identity],
      ["announcement", bytes],
      ["rsa_signature", signed.rsa],
      ["ed25519_signature", signed.ed25519],
    ],
  };
}
