/**
 * Vectors for what peers compute above the wire format: the file id (§7.1), the data FINAL signs
 * (§7.3), sealed records (§9.2) and tickets (§10). Built field by field from docs/PROTOCOL.md,
 * like the rest (see scripts/gen_vectors.ts); signatures come from ./signer.ts.
 */
import { handshakeV2 } from "./handshake_v2.ts";
import { type Bytes, concat, toHex } from "../../src/crypto/bytes.ts";
import {
  draw,
  fileId,
  flip,
  formatFingerprint,
  handshakeValues,
  type Scenario,
  seal,
  sha256,
  w,
} from "./common.ts";
import {
  type Fields,
  ownerIdentity,
  ownerSign,
  type Policy,
  signatureFields,
  signerFields,
} from "./signer.ts";

/** File ids of one owner for three names (§7.1). */
export async function fileIdScenarios(): Promise<Scenario[]> {
  const fingerprint = (await ownerIdentity()).fingerprint;
  const cases: [string, string, string][] = [
    ["ascii", "report-2025.pdf", "an ASCII name"],
    ["nfc", "r\u00e9sum\u00e9 \u2713.txt", "a name in NFC"],
    ["nfd", "re\u0301sume\u0301 \u2713.txt", "the same name in NFD: the bytes count, not the text"],
  ];
  const scenarios: Scenario[] = [];
  for (const [name, fileName, note] of cases) {
    const contentHash = await draw(`file-id/${name}`, 32);
    scenarios.push({
      name: `file-id-${name}`,
      expect: "ok",
      kind: "file-id",
      note: `${note} (§7.1)`,
      fields: [
        ["owner_fingerprint", fingerprint],
        ["sha256", contentHash],
        ["name", fileName],
        ["file_id", await fileId(fingerprint, contentHash, fileName)],
      ],
    });
  }
  return scenarios;
}

/**
 * §7.1 MANIFEST body, field by field: flags, mtime and created at, and no signatures (the FINAL
 * covers the body whatever it holds).
 */
function manifestBody(id: Uint8Array, name: string, size: number, contentHash: Uint8Array) {
  return w().raw(id).text(name).u64(size).raw(contentHash).u32(256 * 1024).u64(0).u8(0)
    .u64(1_789_999_999_123).u64(1_790_000_000_000).u16(0).u16(0).finish();
}

/** §7.3: transcript hash ‖ SHA-256(MANIFEST body) ‖ content SHA-256 ‖ u64 size. */
async function finalData(
  transcriptHash: Uint8Array,
  manifest: Uint8Array,
  contentHash: Uint8Array,
  size: number,
): Promise<Bytes> {
  return concat(transcriptHash, await sha256(manifest), contentHash, w().u64(size).finish());
}

/** The data FINAL signs, signed and tampered with (§7.3). */
export async function finalScenarios(): Promise<Scenario[]> {
  // FINAL binds to H_F, the hash of the whole handshake (§7.3).
  const transcriptHash = (await handshakeV2()).hashes.hF;
  const owner = await ownerIdentity();
  const contentHash = await draw("final/sha256", 32);
  const size = 3 * 256 * 1024 + 5;
  const name = "holiday.mov";
  const manifest = manifestBody(
    await fileId(owner.fingerprint, contentHash, name),
    name,
    size,
    contentHash,
  );
  const data = await finalData(transcriptHash, manifest, contentHash, size);
  const signed = await ownerSign("sfs/v2/final-signature", data);
  const ok = async (suffix: string, policy: Policy, note: string): Promise<Scenario> => ({
    name: `final-${suffix}`,
    expect: "ok",
    kind: "final",
    note: `${note} (§7.3)`,
    fields: [
      ...await signerFields(),
      ["transcript_hash", transcriptHash],
      ["manifest_body", manifest],
      ["final_data", data],
      ["signed", signed.signed],
      ["required", policy],
      ...signatureFields(signed, policy),
    ],
  });
  const otherTranscript = await draw("final/other-transcript", 32);
  const bad = (suffix: string, note: string, transcript: Uint8Array, body: Uint8Array) => ({
    name: `final-error-${suffix}`,
    expect: "error BAD_SIGNATURE" as const,
    kind: "final",
    note,
    fields: [
      ["signer_identity", owner.identity],
      ["transcript_hash", transcript],
      ["manifest_body", body],
      ["required", "both"],
      ...signatureFields(signed),
    ] as Fields,
  });
  return [
    await ok("both", "both", "FINAL signed with both algorithms"),
    await ok("ed25519-only", "ed25519", "FINAL signed with Ed25519 only, --require ed25519"),
    bad("other-transcript", "signatures made on another connection", otherTranscript, manifest),
    bad(
      "other-size",
      "the manifest claims one byte more than was signed",
      transcriptHash,
      manifestBody(manifest.slice(0, 16), name, size + 1, contentHash),
    ),
  ];
}

/** §9.2: four zero bytes ‖ u64 sequence. */
function recordNonce(sequence: number): Bytes {
  return w().u32(0).u64(sequence).finish();
}

/** Sealed SEALED frames (§8, §9.2) for `plaintexts` (type ‖ body), sequence 0 upwards. */
async function sealRecords(key: Uint8Array, plaintexts: Uint8Array[]) {
  const records: { nonce: Bytes; plaintext: Uint8Array; frame: Bytes }[] = [];
  for (const [sequence, plaintext] of plaintexts.entries()) {
    const nonce = recordNonce(sequence);
    const sealed = await seal(key, nonce, plaintext);
    records.push({
      nonce,
      plaintext,
      frame: w().u32(sealed.length + 1).u8(2).raw(sealed).finish(),
    });
  }
  return records;
}

/** The first sealed records of each direction, and broken sequences (§9.2). */
export async function recordScenarios(): Promise<Scenario[]> {
  const h = await handshakeValues();
  const sigs = w().bytes16(new Uint8Array()).bytes16(await draw("record/ed25519", 64)).finish();
  const directions: [string, Bytes, string, Uint8Array[]][] = [
    ["initiator", h.initiatorKey, "AUTH, SEARCH, HEARTBEAT", [
      concat(Uint8Array.of(34), w().text("alice").finish(), sigs),
      concat(Uint8Array.of(41), w().text("holiday").u16(20).u32(0).finish()),
      Uint8Array.of(39),
    ]],
    ["responder", h.responderKey, "OK, empty LISTINGS, OK", [
      Uint8Array.of(35),
      Uint8Array.of(44, 0, 0),
      Uint8Array.of(35),
    ]],
  ];
  const scenarios: Scenario[] = [];
  for (const [side, key, what, plaintexts] of directions) {
    const records = await sealRecords(key, plaintexts);
    scenarios.push({
      name: `record-${side}`,
      expect: "ok",
      kind: "record",
      note: `the ${side}'s first three records, ${what}, under its key from key-schedule (§9.2)`,
      fields: [
        ["key", key],
        ...records.flatMap((r): Fields => [
          ["record_nonce", r.nonce],
          ["record_plaintext", r.plaintext],
          ["record_frame", r.frame],
        ]),
      ],
    });
  }
  const records = await sealRecords(h.initiatorKey, directions[0][3]);
  const frames = (order: number[]): Fields => order.map((i) => ["record_frame", records[i].frame]);
  const bad: [string, string, Bytes, Fields][] = [
    ["reordered", "records 0 and 1 swapped", h.initiatorKey, frames([1, 0, 2])],
    ["dropped", "record 1 left out", h.initiatorKey, frames([0, 2])],
    ["replayed", "record 0 sent twice", h.initiatorKey, frames([0, 0])],
    [
      "other-direction",
      "the initiator's records opened with the responder's key",
      h.responderKey,
      frames([0]),
    ],
    ["flipped-tag", "last tag byte flipped", h.initiatorKey, [[
      "record_frame",
      flip(records[0].frame, -1),
    ]]],
  ];
  for (const [name, note, key, fields] of bad) {
    scenarios.push({
      name: `record-error-${name}`,
      expect: "error DECRYPT_FAILED",
      kind: "record",
      note,
      fields: [["key", key], ...fields],
    });
  }
  return scenarios;
}

/** Tickets that parse, and tickets that must be refused (§10). */
export async function ticketScenarios(): Promise<Scenario[]> {
  const id = await draw("ticket/file-id", 16);
  const token = await draw("ticket/relay-token", 16);
  const server = await draw("ticket/server-fingerprint", 32);
  const serverPrinted = formatFingerprint(server);
  const fingerprint = (await ownerIdentity()).fingerprint;
  const printed = formatFingerprint(fingerprint);
  const tail = `${toHex(id)}#${printed}`;
  const ok: [string, string, string, number, string][] = [
    ["dns", "a DNS name", "files.example.net", 7070, `sfs://files.example.net:7070/${tail}`],
    ["ipv4", "an IPv4 address", "127.0.0.1", 40001, `sfs://127.0.0.1:40001/${tail}`],
    ["ipv6", "a bracketed IPv6 address", "2001:db8::7", 65535, `sfs://[2001:db8::7]:65535/${tail}`],
  ];
  const scenarios: Scenario[] = ok.map(([name, note, host, port, ticket]) => ({
    name: `ticket-${name}`,
    expect: "ok",
    kind: "ticket",
    note: `${note} (§10)`,
    fields: [["ticket", ticket], ["host", host], ["port", port], ["file_id", id], [
      "fingerprint",
      fingerprint,
    ]],
  }));
  const bare = printed.slice("SHA256:".length).replaceAll("-", "");
  scenarios.push({
    name: "ticket-lenient",
    expect: "ok",
    kind: "ticket",
    note: "upper-case id, fingerprint without prefix and dashes; formats back canonically (§10)",
    fields: [
      ["ticket", `sfs://127.0.0.1:40001/${toHex(id).toUpperCase()}#${bare.toUpperCase()}`],
      ["host", "127.0.0.1"],
      ["port", 40001],
      ["file_id", id],
      ["fingerprint", fingerprint],
      ["canonical", `sfs://127.0.0.1:40001/${tail}`],
    ],
  });
  const relayPart = `/relay/${toHex(token)}@index.example.org:7000`;
  scenarios.push({
    name: "ticket-extended",
    expect: "ok",
    kind: "ticket",
    note: "three direct candidates and a relay hint with its token and server fingerprint (§10)",
    fields: [
      [
        "ticket",
        `sfs://192.0.2.7:40001,[2001:db8::7]:40001,files.example.net:7070/${
          toHex(id)
        }${relayPart}/${serverPrinted}#${printed}`,
      ],
      ["host", "192.0.2.7"],
      ["port", 40001],
      ["alternate", "[2001:db8::7]:40001"],
      ["alternate", "files.example.net:7070"],
      ["relay", "index.example.org:7000"],
      ["relay_token", token],
      ["relay_fingerprint", server],
      ["file_id", id],
      ["fingerprint", fingerprint],
    ],
  });
  scenarios.push({
    name: "ticket-relay-lenient-fingerprint",
    expect: "ok",
    kind: "ticket",
    note: "the relay's fingerprint without prefix and dashes, upper case; formats back (§10)",
    fields: [
      [
        "ticket",
        `sfs://127.0.0.1:40001/${toHex(id)}${relayPart}/${
          serverPrinted.slice("SHA256:".length).replaceAll("-", "").toUpperCase()
        }#${printed}`,
      ],
      ["host", "127.0.0.1"],
      ["port", 40001],
      ["relay", "index.example.org:7000"],
      ["relay_token", token],
      ["relay_fingerprint", server],
      ["file_id", id],
      ["fingerprint", fingerprint],
      ["canonical", `sfs://127.0.0.1:40001/${toHex(id)}${relayPart}/${serverPrinted}#${printed}`],
    ],
  });
  scenarios.push({
    name: "ticket-relay-only-hint",
    expect: "ok",
    kind: "ticket",
    note: "a relay hint without the server's fingerprint (the first form); upper-case token " +
      "formats back lower-case (§10)",
    fields: [
      [
        "ticket",
        `sfs://127.0.0.1:40001/${toHex(id)}/relay/${
          toHex(token).toUpperCase()
        }@index.example.org:7000#${printed}`,
      ],
      ["host", "127.0.0.1"],
      ["port", 40001],
      ["relay", "index.example.org:7000"],
      ["relay_token", token],
      ["file_id", id],
      ["fingerprint", fingerprint],
      ["canonical", `sfs://127.0.0.1:40001/${toHex(id)}${relayPart}#${printed}`],
    ],
  });
  const many = Array.from({ length: 9 }, (_, i) => `192.0.2.${i + 1}:40001`).join(",");
  const bad: [string, string, string][] = [
    ["scheme-http", "another scheme", `http://127.0.0.1:40001/${tail}`],
    ["scheme-one-slash", "sfs:/ instead of sfs://", `sfs:/127.0.0.1:40001/${tail}`],
    ["ipv6-unbracketed", "an IPv6 host without brackets", `sfs://2001:db8::7:7070/${tail}`],
    ["port-0", "port 0", `sfs://127.0.0.1:0/${tail}`],
    ["port-65536", "port 65536", `sfs://127.0.0.1:65536/${tail}`],
    ["no-port", "no port", `sfs://127.0.0.1/${tail}`],
    ["id-31-digits", "file id of 31 hex digits", `sfs://127.0.0.1:40001/${tail.slice(1)}`],
    ["id-34-digits", "file id of 17 bytes", `sfs://127.0.0.1:40001/00${tail}`],
    [
      "fingerprint-short",
      "fingerprint one base32 digit short",
      `sfs://127.0.0.1:40001/${toHex(id)}#${printed.slice(0, -1)}`,
    ],
    [
      "fingerprint-bad-digit",
      "fingerprint holds 1, not a base32 digit",
      `sfs://127.0.0.1:40001/${toHex(id)}#${printed.slice(0, -1)}1`,
    ],
    [
      "too-long",
      "1025 characters",
      `sfs://${"a".repeat(1025 - `sfs://:1/${tail}`.length)}:1/${tail}`,
    ],
    ["nine-candidates", "nine direct candidates, one more than allowed", `sfs://${many}/${tail}`],
    [
      "candidate-twice",
      "one direct candidate twice",
      `sfs://127.0.0.1:40001,127.0.0.1:40001/${tail}`,
    ],
    ["empty-candidate", "an empty candidate after a comma", `sfs://127.0.0.1:40001,/${tail}`],
    [
      "token-15-bytes",
      "relay token of 30 hex digits",
      `sfs://127.0.0.1:40001/${toHex(id)}/relay/${
        toHex(token).slice(2)
      }@index.example.org:7000#${printed}`,
    ],
    [
      "relay-no-port",
      "relay address without a port",
      `sfs://127.0.0.1:40001/${toHex(id)}/relay/${toHex(token)}@index.example.org#${printed}`,
    ],
    [
      "relay-fingerprint-short",
      "relay fingerprint one base32 digit short",
      `sfs://127.0.0.1:40001/${toHex(id)}${relayPart}/${serverPrinted.slice(0, -1)}#${printed}`,
    ],
    [
      "relay-fingerprint-empty",
      "a slash after the relay address but no fingerprint",
      `sfs://127.0.0.1:40001/${toHex(id)}${relayPart}/#${printed}`,
    ],
    [
      "relay-no-token",
      "relay hint without its token",
      `sfs://127.0.0.1:40001/${toHex(id)}/relay/@index.example.org:7000#${printed}`,
    ],
  ];
  for (const [name, note, ticket] of bad) {
    scenarios.push({
      name: `ticket-error-${name}`,
      expect: "error BAD_TICKET",
      kind: "ticket",
      note,
      fields: [["ticket", ticket]],
    });
  }
  return scenarios;
}
