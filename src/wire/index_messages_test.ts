import assert from "node:assert/strict";
import { ByteWriter } from "../crypto/encoding.ts";
import { isSfsError } from "../errors.ts";
import { type WireListing } from "./index_messages.ts";
import { decodeMessage, encodeMessage, MessageType } from "./messages.ts";

function bytes(length: number, fill: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(length).fill(fill);
}

/** §12.4's layout written field by field, as the encoder did before it used one buffer. */
function fieldByField(listings: WireListing[]): Uint8Array {
  return new ByteWriter().list(listings, (w, l) => {
    w.bytes16(l.announcement)
      .bytes16(l.signatures.rsa ?? new Uint8Array())
      .bytes16(l.signatures.ed25519 ?? new Uint8Array())
      .bytes16(l.ownerIdentity)
      .u8(l.online ? 1 : 0)
      .u64(l.lastSeen);
  }).finish();
}

Deno.test("encodeMessage() lays out LISTINGS as §12.4 says, from views too", async (t) => {
  // A view into a larger buffer, as the server's signature views are.
  const shared = Uint8Array.from({ length: 600 }, (_, i) => i & 0xff);
  const cases: [string, WireListing[]][] = [
    ["no listings", []],
    ["one with both signatures", [{
      announcement: bytes(300, 1),
      signatures: { rsa: bytes(384, 2), ed25519: bytes(64, 3) },
      ownerIdentity: bytes(900, 4),
      online: true,
      lastSeen: Number.MAX_SAFE_INTEGER,
    }]],
    ["views and absent signatures", [
      {
        announcement: shared.subarray(7, 207),
        signatures: { rsa: shared.subarray(210, 594), ed25519: undefined },
        ownerIdentity: shared.subarray(1, 3),
        online: false,
        lastSeen: 0,
      },
      {
        announcement: bytes(0, 0),
        signatures: { rsa: undefined, ed25519: shared.subarray(500, 564) },
        ownerIdentity: bytes(1, 9),
        online: true,
        lastSeen: 1_790_000_000_000,
      },
    ]],
  ];
  for (const [name, listings] of cases) {
    await t.step(name, () => {
      const encoded = encodeMessage({ type: MessageType.LISTINGS, listings });
      assert.deepEqual(encoded, fieldByField(listings));
      const decoded = decodeMessage(MessageType.LISTINGS, encoded);
      assert.equal(decoded.type, MessageType.LISTINGS);
      if (decoded.type === MessageType.LISTINGS) {
        assert.equal(decoded.listings.length, listings.length);
      }
    });
  }
});

Deno.test("encodeMessage() refuses LISTINGS fields that do not fit with INTERNAL", () => {
  const listing: WireListing = {
    announcement: bytes(1, 1),
    signatures: { rsa: undefined, ed25519: undefined },
    ownerIdentity: bytes(1, 1),
    online: true,
    lastSeen: 0,
  };
  for (
    const bad of [
      { ...listing, lastSeen: -1 },
      { ...listing, lastSeen: 1.5 },
      { ...listing, announcement: bytes(0x10000, 0) },
    ]
  ) {
    assert.throws(
      () => encodeMessage({ type: MessageType.LISTINGS, listings: [bad] }),
      (err) => isSfsError(err, "INTERNAL"),
    );
  }
});
