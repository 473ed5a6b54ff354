/**
 * Requests an unauthenticated client may send to a real `sfs server` are refused with a code,
 * and the server stays up for the next client.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isSfsError } from "../src/errors.ts";
import { initiate } from "../src/wire/handshake.ts";
import { MessageType } from "../src/wire/messages.ts";
import { tempDir } from "./harness.ts";
import { testIdentity } from "./identities.ts";
import { startServer } from "./index_fixture.ts";

/** Sends RELAY_TOKEN before any AUTH on a fresh channel; returns the reply's error code. */
async function unauthenticatedRelayToken(port: number): Promise<string> {
  const mallory = await testIdentity("mallory");
  const channel = await initiate(await Deno.connect({ hostname: "127.0.0.1", port }), mallory, {
    verifyResponder: () => {},
  });
  try {
    await channel.send({
      type: MessageType.RELAY_TOKEN,
      fileId: crypto.getRandomValues(new Uint8Array(16)),
      token: crypto.getRandomValues(new Uint8Array(16)),
    });
    // An ERROR reply is thrown as an SfsError with its code.
    return await channel.receive().then(
      (reply) => `reply ${reply.type}`,
      (e) => isSfsError(e) ? e.code : String(e),
    );
  } finally {
    channel.close();
  }
}

Deno.test("sfs server refuses RELAY_TOKEN before AUTH and keeps serving", async () => {
  await using dir = await tempDir();
  await using server = await startServer(join(dir.path, "server"));
  assert.equal(await unauthenticatedRelayToken(server.port), "AUTH_FAILED");
  // A second client still gets an answer: the first request did not bring the server down.
  assert.equal(await unauthenticatedRelayToken(server.port), "AUTH_FAILED");
});
