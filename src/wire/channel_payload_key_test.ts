/** The channel's payload key: shared by both sides, loaded only when used, ended by close(). */
import assert from "node:assert/strict";
import { isSfsError } from "../errors.ts";
import { testIdentity } from "../../tests/identities.ts";
import { tcpPair } from "../../tests/transport.ts";
import { openChunk, sealChunk } from "../crypto/stream.ts";
import { initiate, respond } from "./handshake.ts";

Deno.test("Channel.payloadKey agrees on both sides, loads at first use, and close() ends it", async () => {
  const [alice, bob] = [await testIdentity("alice"), await testIdentity("bob")];
  await using pair = await tcpPair();
  const [initiator, responder] = await Promise.all([
    initiate(pair.client, alice, { verifyResponder: () => {} }),
    respond(pair.server, bob),
  ]);
  try {
    // A channel that never carries a payload (an index connection) never imports it.
    assert.equal(initiator.payloadKey.backend, undefined);
    const plaintext = crypto.getRandomValues(new Uint8Array(1000));
    const sealed = await sealChunk(responder.payloadKey, 3, true, plaintext);
    assert.deepEqual(await openChunk(initiator.payloadKey, 3, true, sealed), plaintext);
    assert.ok(initiator.payloadKey.backend !== undefined);
  } finally {
    initiator.close();
    responder.close();
  }
  const plaintext = new Uint8Array(10);
  for (const channel of [initiator, responder]) {
    await assert.rejects(
      sealChunk(channel.payloadKey, 0, true, plaintext),
      (err) => isSfsError(err, "INTERNAL"),
    );
  }
});
