/**
 * Who learns what in the handshake (docs/PROTOCOL.md §6.6), end to end over 127.0.0.1 against
 * the real `sfs send`, `sfs get` and `sfs server`: a prober claiming a recipient's key, a passive
 * tap, an impostor without the expected key, replayed flights, and a v1 peer.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Identity } from "../src/crypto/identity.ts";
import { isSfsError } from "../src/errors.ts";
import { parseTicket } from "../src/peer/ticket.ts";
import { initiate } from "../src/wire/handshake.ts";
import { randomFile, tempDir } from "./harness.ts";
import { testIdentity } from "./identities.ts";
import {
  registeredHome,
  seedServerIdentity,
  startSender as startSharing,
  startServer,
} from "./index_fixture.ts";

/** `claimed`'s public identity on mallory's private keys: a claim without the key. */
function claiming(claimed: Identity, mallory: Identity): Identity {
  return {
    public: claimed.public,
    oaepPrivate: mallory.oaepPrivate,
    pssPrivate: mallory.pssPrivate,
    ed25519Private: mallory.ed25519Private,
  };
}

/** Runs the handshake to `port` as `identity`; resolves to the error code it ends with. */
async function probe(port: number, identity: Identity): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const channel = await initiate(conn, identity, {
      idleTimeoutMs: 10_000,
      verifyResponder: () => {},
    });
    channel.close();
    return "OK";
  } catch (err) {
    if (isSfsError(err)) return err.code;
    throw err;
  } finally {
    try {
      conn.close();
    } catch {
      // Already closed by the handshake.
    }
  }
}

Deno.test("a sender sharing --to bob tells a prober nothing about whether bob is a recipient", async () => {
  await using dir = await tempDir();
  const serverDir = join(dir.path, "server");
  await seedServerIdentity(serverDir);
  await using server = await startServer(serverDir);
  const [aliceHome] = await Promise.all([
    registeredHome(dir.path, server, "alice"),
    registeredHome(dir.path, server, "bob"),
  ]);
  const file = join(dir.path, "for-bob.bin");
  await randomFile(file, 5000);
  await using sharing = await startSharing(aliceHome, [file], ["--to", "bob", "--yes"]);
  const ticket = String((sharing.ready.files as { ticket: string }[])[0].ticket);
  const { port } = parseTicket(ticket);
  const [bob, carol, mallory] = await Promise.all(
    ["bob", "carol", "mallory"].map((name) => testIdentity(name)),
  );

  // In v1 the sender judged the HELLO's claimed key before any proof: bob's key got a reply,
  // carol's an ABORT REFUSED. Both claims must now end the same way, at the signature check.
  const asBob = await probe(port, claiming(bob, mallory));
  const asCarol = await probe(port, claiming(carol, mallory));
  assert.equal(asBob, "BAD_SIGNATURE");
  assert.equal(asCarol, "BAD_SIGNATURE");
  // mallory with her own key is refused only after her signature checked out.
  assert.equal(await probe(port, mallory), "REFUSED");
});
