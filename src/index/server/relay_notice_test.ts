import assert from "node:assert/strict";
import { isSfsError } from "../../errors.ts";
import { decodeDialNotice, encodeDialNotice } from "./relay_notice.ts";

const GOOD = {
  type: "dial",
  connection: "c0".repeat(16),
  file: "0f".repeat(16),
  pairing: "9a".repeat(16),
  receiver: "bob",
  relay: "127.0.0.1:7070",
};

Deno.test("decodeDialNotice() round-trips what encodeDialNotice() wrote", () => {
  const notice = decodeDialNotice(JSON.stringify(GOOD));
  assert.equal(notice.connection, GOOD.connection);
  assert.equal(notice.receiver, "bob");
  assert.equal(notice.relay, "127.0.0.1:7070");
  assert.equal(encodeDialNotice(notice), JSON.stringify(GOOD));
  const anonymous = decodeDialNotice(JSON.stringify({ ...GOOD, receiver: "", relay: "[::1]:9" }));
  assert.equal(anonymous.receiver, "");
  // As the account spells it: RELAY_DIAL names the receiver as stored.
  assert.equal(decodeDialNotice(JSON.stringify({ ...GOOD, receiver: "Bob" })).receiver, "Bob");
});

Deno.test("decodeDialNotice() refuses anything but a well-formed dial request", async (t) => {
  const cases: Record<string, string> = {
    "not JSON": "dial me",
    "an array": "[]",
    "null": "null",
    "another type": JSON.stringify({ ...GOOD, type: "splice" }),
    "a field missing": JSON.stringify({ ...GOOD, relay: undefined }),
    "an extra field": JSON.stringify({ ...GOOD, secret: "x" }),
    "a short file id": JSON.stringify({ ...GOOD, file: "0f".repeat(15) }),
    "an upper-case pairing token": JSON.stringify({ ...GOOD, pairing: "9A".repeat(16) }),
    "a connection id with a quote": JSON.stringify({ ...GOOD, connection: 'c0"' }),
    "a numeric receiver": JSON.stringify({ ...GOOD, receiver: 7 }),
    "an invalid receiver": JSON.stringify({ ...GOOD, receiver: "bob!" }),
    "a receiver with controls": JSON.stringify({ ...GOOD, receiver: "bob\u001b[2J" }),
    "a relay without port": JSON.stringify({ ...GOOD, relay: "relay.example" }),
    "a relay with white space": JSON.stringify({ ...GOOD, relay: " 127.0.0.1:7070" }),
    "a relay in octal": JSON.stringify({ ...GOOD, relay: "010.0.0.1:7070" }),
    "an empty relay": JSON.stringify({ ...GOOD, relay: "" }),
    "too long": JSON.stringify({ ...GOOD, receiver: "b".repeat(2000) }),
  };
  for (const [what, payload] of Object.entries(cases)) {
    await t.step(what, () => {
      assert.throws(() => decodeDialNotice(payload), (e) => isSfsError(e, "BAD_MESSAGE"));
    });
  }
});
