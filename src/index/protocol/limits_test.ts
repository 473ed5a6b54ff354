import assert from "node:assert/strict";
import { DEFAULT_MAX_RECORD } from "../../wire/channel.ts";
import {
  encodeMessage,
  MAX_ANNOUNCEMENT_BYTES,
  MAX_IDENTITY_BYTES,
  MAX_LIST_OFFSET,
  MAX_LISTINGS,
  MAX_PASSWORD_BYTES,
  MessageType,
} from "../../wire/messages.ts";
import * as password from "../server/password.ts";
import * as store from "../server/store.ts";

Deno.test("wire limits of the index protocol agree with the store and the hasher", () => {
  assert.equal(MAX_PASSWORD_BYTES, password.MAX_PASSWORD_BYTES);
  assert.equal(MAX_LIST_OFFSET, store.MAX_OFFSET);
  assert.ok(MAX_LISTINGS <= store.MAX_PAGE_SIZE);
  assert.ok(MAX_ANNOUNCEMENT_BYTES <= store.MAX_ANNOUNCEMENT_BYTES);
});

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
