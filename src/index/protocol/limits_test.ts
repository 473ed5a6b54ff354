import assert from "node:assert/strict";
import { DEFAULT_MAX_RECORD } from "../../wire/channel.ts";
import { encodeMessage, MessageType } from "../../wire/messages.ts";
import {
  MAX_ANNOUNCEMENT_BYTES,
  MAX_IDENTITY_BYTES,
  MAX_LISTINGS,
  MAX_SIGNATURE_SET_BYTES,
} from "./limits.ts";

Deno.test("the largest LISTINGS reply fits one sealed record", () => {
  const listing = {
    announcement: new Uint8Array(MAX_ANNOUNCEMENT_BYTES),
    signatures: { rsa: new Uint8Array(512), ed25519: new Uint8Array(64) },
    ownerIdentity: new Uint8Array(MAX_IDENTITY_BYTES),
    online: true,
    lastSeen: Number.MAX_SAFE_INTEGER,
  };
  const body = encodeMessage({
    type: MessageType.LISTINGS,
    listings: Array.from({ length: MAX_LISTINGS }, () => listing),
  });
  // One type byte precedes the body in a record.
  assert.ok(1 + body.length <= DEFAULT_MAX_RECORD, `${body.length} bytes`);
});

Deno.test("MAX_SIGNATURE_SET_BYTES is the size of the largest signature set", () => {
  const body = encodeMessage({
    type: MessageType.FINAL,
    signatures: { rsa: new Uint8Array(512), ed25519: new Uint8Array(64) },
  });
  assert.equal(body.length, MAX_SIGNATURE_SET_BYTES);
});
