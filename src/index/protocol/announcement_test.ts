import assert from "node:assert/strict";
import { type ErrorCode, isSfsError } from "../../errors.ts";
import { type Bytes, concat } from "../../crypto/bytes.ts";
import { ByteWriter } from "../../crypto/encoding.ts";
import type { Identity } from "../../crypto/identity.ts";
import { testIdentity } from "../../../tests/identities.ts";
import { fileIdOf } from "../../crypto/file_id.ts";
import {
  canonicalLists,
  decodeAnnouncement,
  decodeSignatureSet,
  encodeAnnouncement,
  encodeSignatureSet,
  type FileAnnouncement,
  signAnnouncement,
  verifyAnnouncement,
  verifyListing,
} from "./announcement.ts";

function code(expected: ErrorCode): (err: unknown) => boolean {
  return (err) => isSfsError(err, expected);
}

const SHA = new Uint8Array(32).fill(7);

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

async function sample(owner: Identity, fields: Partial<FileAnnouncement> = {}) {
  const name = fields.name ?? "report.pdf";
  return {
    fileId: await fileIdOf(owner.public.fingerprint, SHA, name),
    owner: "alice",
    ownerFingerprint: owner.public.fingerprint,
    name,
    size: 1234,
    sha256: SHA,
    keywords: ["quarterly", "finance"],
    recipients: ["bob", "carol"],
    address: "192.0.2.7:4444",
    createdAt: Date.UTC(2025, 0, 1),
    ...fields,
  } satisfies FileAnnouncement;
}

Deno.test("encodeAnnouncement() and decodeAnnouncement() round-trip", async (t) => {
  const alice = await testIdentity("alice");
  const cases: [string, Partial<FileAnnouncement>][] = [
    ["typical", {}],
    ["no keywords, public", { keywords: [], recipients: [] }],
    ["IPv6 address", { address: "[2001:db8::1]:9" }],
    ["three addresses", { alternates: ["[2001:db8::1]:9", "files.example.net:7070"] }],
    ["empty file", { size: 0 }],
    ["largest fields", {
      name: "n".repeat(255),
      keywords: Array.from({ length: 16 }, (_, i) => `${i}`.padEnd(64, "k")),
      recipients: Array.from({ length: 32 }, (_, i) => `user${String(i).padStart(2, "0")}`),
    }],
  ];
  for (const [label, fields] of cases) {
    await t.step(label, async () => {
      const a = await sample(alice, fields);
      const bytes = encodeAnnouncement(a);
      assert.deepEqual(decodeAnnouncement(bytes), a);
      assert.ok(bytes.length <= 4096);
    });
  }
});

/**
 * Writes the fields without encodeAnnouncement's checks: version 2's address list by default,
 * or the text of `addresses` when it is one string (version 1's layout).
 */
function raw(
  a: FileAnnouncement,
  version = 2,
  addresses: string | readonly string[] = [a.address, ...(a.alternates ?? [])],
): Bytes {
  const writer = new ByteWriter().u8(version).raw(a.fileId).text(a.owner).raw(a.ownerFingerprint)
    .text(a.name).u64(a.size).raw(a.sha256).list(a.keywords, (w, k) => w.text(k))
    .list(a.recipients, (w, r) => w.text(r));
  if (typeof addresses === "string") writer.text(addresses);
  else writer.list(addresses, (w, x) => w.text(x));
  return writer.u64(a.createdAt).finish();
}

const nineAddresses = Array.from({ length: 9 }, (_, i) => `192.0.2.${i + 1}:4444`);

Deno.test("decodeAnnouncement() reads version 1, with its single address", async () => {
  const alice = await testIdentity("alice");
  const a = await sample(alice);
  assert.deepEqual(decodeAnnouncement(raw(a, 1, a.address)), a);
});

Deno.test("verifyAnnouncement() accepts several addresses in the owner's order", async () => {
  const alice = await testIdentity("alice");
  const a = await sample(alice, {
    address: "192.0.2.7:4444",
    alternates: ["[2001:db8::7]:4444", "files.example.net:7070", "10.0.0.3:4444"],
  });
  const signed = await signAnnouncement(alice, a);
  assert.deepEqual(await verifyAnnouncement(signed.bytes, signed.signatures, alice.public), a);
});

Deno.test("encodeAnnouncement() refuses more than 8 addresses, or one twice", async (t) => {
  const alice = await testIdentity("alice");
  const [address, ...alternates] = nineAddresses;
  await t.step("nine", async () => {
    const a = await sample(alice, { address, alternates });
    assert.throws(() => encodeAnnouncement(a), code("USAGE"));
  });
  await t.step("eight is the most", async () => {
    const a = await sample(alice, { address, alternates: alternates.slice(0, 7) });
    assert.deepEqual(decodeAnnouncement(encodeAnnouncement(a)), a);
  });
  await t.step("twice, spelled in another case", async () => {
    const a = await sample(alice, {
      address: "Files.example.net:1",
      alternates: ["files.example.net:1"],
    });
    assert.throws(() => encodeAnnouncement(a), code("USAGE"));
  });
});

Deno.test("encodeAnnouncement() refuses an announcement over 4096 bytes", async () => {
  const alice = await testIdentity("alice");
  const long = (i: number) =>
    `${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(60)}x${i}:65535`;
  const a = await sample(alice, {
    name: "n".repeat(255),
    keywords: Array.from({ length: 16 }, (_, i) => `${i}`.padEnd(64, "k")),
    recipients: Array.from({ length: 32 }, (_, i) => `user${String(i).padStart(28, "0")}`),
    address: long(0),
    alternates: Array.from({ length: 7 }, (_, i) => long(i + 1)),
  });
  assert.throws(() => encodeAnnouncement(a), code("USAGE"));
});

Deno.test("decodeAnnouncement() rejects malformed and non-canonical bytes", async (t) => {
  const alice = await testIdentity("alice");
  const good = encodeAnnouncement(await sample(alice));
  const base = await sample(alice);
  const cases: [string, Bytes][] = [
    ["trailing byte", concat(good, new Uint8Array(1))],
    ["truncated", good.subarray(0, good.length - 1)],
    ["version 3", raw(base, 3)],
    ["version 1 with the address list of version 2", raw(base, 1, [base.address])],
    ["version 2 with the single address of version 1", raw(base, 2, base.address)],
    ["no address", raw(base, 2, [])],
    ["nine addresses", raw(base, 2, nineAddresses)],
    ["one address twice", raw(base, 2, ["192.0.2.7:4444", "192.0.2.7:4444"])],
    ["second address without port", raw(base, 2, ["192.0.2.7:4444", "example.org"])],
    ["recipients out of order", raw({ ...base, recipients: ["carol", "bob"] })],
    ["duplicate recipient", raw({ ...base, recipients: ["bob", "bob"] })],
    ["upper-case owner", raw({ ...base, owner: "Alice" })],
    ["duplicate keyword", raw({ ...base, keywords: ["x", "x"] })],
    ["keyword with spaces around", raw({ ...base, keywords: [" x"] })],
    ["control character in name", raw({ ...base, name: "a\u001b[2Jb" })],
    ["bidi override in name", raw({ ...base, name: "a\u202eb" })],
    ["bidi isolate in keyword", raw({ ...base, keywords: ["a\u2066b"] })],
    ["empty name", raw({ ...base, name: "" })],
    ["address without port", raw({ ...base, address: "example.org" })],
    ["port 0", raw({ ...base, address: "example.org:0" })],
  ];
  for (const [label, bytes] of cases) {
    await t.step(label, () => {
      assert.throws(() => decodeAnnouncement(bytes), code("BAD_MESSAGE"));
    });
  }
});

Deno.test("encodeAnnouncement() refuses invalid fields with USAGE", async () => {
  const alice = await testIdentity("alice");
  const a = await sample(alice, { keywords: ["k".repeat(65)] });
  assert.throws(() => encodeAnnouncement(a), code("USAGE"));
});

Deno.test("canonicalLists() trims, de-duplicates and sorts", () => {
  assert.deepEqual(canonicalLists([" a ", "a", "b"], ["Carol", "bob", "carol"]), {
    keywords: ["a", "b"],
    recipients: ["bob", "carol"],
  });
  assert.throws(() => canonicalLists([], ["no spaces allowed"]), code("USAGE"));
  assert.throws(() => canonicalLists([""], []), code("USAGE"));
});

Deno.test("verifyAnnouncement() accepts the owner's signed announcement", async () => {
  const alice = await testIdentity("alice");
  const a = await sample(alice);
  const signed = await signAnnouncement(alice, a);
  assert.deepEqual(await verifyAnnouncement(signed.bytes, signed.signatures, alice.public), a);
});

Deno.test("verifyAnnouncement() rejects altered, foreign and incomplete announcements", async (t) => {
  const alice = await testIdentity("alice");
  const bob = await testIdentity("bob");
  const signed = await signAnnouncement(alice, await sample(alice));

  await t.step("one byte of the name changed", async () => {
    const bytes = signed.bytes.slice();
    const at = indexOf(bytes, new TextEncoder().encode("report.pdf"));
    assert.ok(at > 0);
    bytes[at] = "R".charCodeAt(0);
    await assert.rejects(
      verifyAnnouncement(bytes, signed.signatures, alice.public),
      code("BAD_SIGNATURE"),
    );
  });
  await t.step("checked against someone else's key", async () => {
    await assert.rejects(
      verifyAnnouncement(signed.bytes, signed.signatures, bob.public),
      code("KEY_MISMATCH"),
    );
  });
  await t.step("RSA-PSS signature missing", async () => {
    await assert.rejects(
      verifyAnnouncement(signed.bytes, { ed25519: signed.signatures.ed25519 }, alice.public),
      code("BAD_SIGNATURE"),
    );
  });
  await t.step("Ed25519 signature of another announcement", async () => {
    const other = await signAnnouncement(alice, await sample(alice, { size: 1 }));
    await assert.rejects(
      verifyAnnouncement(signed.bytes, {
        rsa: signed.signatures.rsa,
        ed25519: other.signatures.ed25519,
      }, alice.public),
      code("BAD_SIGNATURE"),
    );
  });
  await t.step("signed, but the file id is not derived from owner, content and name", async () => {
    const forged = await signAnnouncement(alice, {
      ...await sample(alice),
      fileId: new Uint8Array(16),
    });
    await assert.rejects(
      verifyAnnouncement(forged.bytes, forged.signatures, alice.public),
      code("BAD_MESSAGE"),
    );
  });
});

Deno.test("signAnnouncement() refuses to sign for another owner key", async () => {
  const alice = await testIdentity("alice");
  const bob = await testIdentity("bob");
  await assert.rejects(signAnnouncement(bob, await sample(alice)), code("INTERNAL"));
});

Deno.test("verifyListing() checks the announcement against the identity it carries", async () => {
  const alice = await testIdentity("alice");
  const bob = await testIdentity("bob");
  const signed = await signAnnouncement(alice, await sample(alice));
  const listing = {
    announcement: signed.bytes,
    signatures: signed.signatures,
    ownerIdentity: alice.public.encoded,
    online: true,
    lastSeen: 5,
  };
  const verified = await verifyListing(listing);
  assert.equal(verified.announcement.name, "report.pdf");
  assert.equal(verified.online, true);
  await assert.rejects(
    verifyListing({ ...listing, ownerIdentity: bob.public.encoded }),
    code("KEY_MISMATCH"),
  );
});

Deno.test("encodeSignatureSet() round-trips and decodeSignatureSet() rejects junk", () => {
  const sigs = { rsa: new Uint8Array(384).fill(1), ed25519: new Uint8Array(64).fill(2) };
  assert.deepEqual(decodeSignatureSet(encodeSignatureSet(sigs)), sigs);
  assert.deepEqual(decodeSignatureSet(encodeSignatureSet({})), {
    rsa: undefined,
    ed25519: undefined,
  });
  assert.throws(() => decodeSignatureSet(new Uint8Array([0, 0, 0, 1, 9])), code("BAD_MESSAGE"));
  assert.throws(() => decodeSignatureSet(new Uint8Array([0, 0, 0, 0, 0])), code("BAD_MESSAGE"));
});
