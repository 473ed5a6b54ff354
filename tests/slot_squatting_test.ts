/**
 * Slot squatting: raw clients that send a well-formed HELLO claiming bob's public identity
 * (copied; they hold no private key), read the reply and then say nothing. A claim is not a proof
 * (PROTOCOL §6.4): only a first sealed record that opens shows that the peer holds the keys, so
 * until then such connections must not take the slots that real transfers and index sessions
 * need. The real bob, arriving while they hold on, must still get his file and reach the index.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Bytes } from "../src/crypto/bytes.ts";
import { generateEphemeral, NONCE_BYTES } from "../src/crypto/exchange.ts";
import { parseTicket } from "../src/peer/ticket.ts";
import { DEFAULT_SERVE_LIMITS } from "../src/peer/serve.ts";
import { FRAME_HEADER_BYTES, FrameKind } from "../src/wire/frame.ts";
import { encodeMessage, MessageType } from "../src/wire/messages.ts";
import { randomFile, sha256File, startSfs, tempDir } from "./harness.ts";
import { testHome, testIdentity } from "./identities.ts";
import {
  registeredHome,
  seedServerIdentity,
  sfs,
  startSender,
  startServer,
} from "./index_fixture.ts";
import { closeQuietly, doneOf, get, readFull, writeAll } from "./peers.ts";

/** A connection that claimed an identity and then went silent. */
interface Squatter {
  readonly conn: Deno.TcpConn;
  /** The type of the first plaintext message the listener answered with. */
  readonly answer: number;
  /** True until the listener closes the connection. */
  isOpen(): boolean;
}

/**
 * A complete PLAIN HELLO frame with a fresh ephemeral key and nonce. Version 2's HELLO names no
 * one (§6.2): whoever sends it, it claims nothing, so `_claimed` only says whom it stands for.
 */
async function helloClaiming(_claimed: Uint8Array): Promise<Bytes> {
  const body = encodeMessage({
    type: MessageType.HELLO,
    version: 2,
    options: new Uint8Array(),
    ephemeral: (await generateEphemeral()).publicKey,
    nonce: crypto.getRandomValues(new Uint8Array(NONCE_BYTES)),
  });
  const frame = new Uint8Array(FRAME_HEADER_BYTES + 1 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length + 2);
  frame[4] = FrameKind.PLAIN;
  frame[5] = MessageType.HELLO;
  frame.set(body, FRAME_HEADER_BYTES + 1);
  return frame;
}

/** Sends the HELLO, reads the listener's answer (HELLO_REPLY or ABORT), then holds on silently. */
async function squat(port: number, identity: Uint8Array): Promise<Squatter> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(conn, await helloClaiming(identity));
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  assert.ok(await readFull(conn, header), "the listener answered the hello");
  const body = new Uint8Array(new DataView(header.buffer).getUint32(0) - 1);
  assert.ok(await readFull(conn, body));
  let open = true;
  (async () => {
    const buffer = new Uint8Array(1024);
    try {
      while (await conn.read(buffer) !== null) { /* an ABORT or sealed ERROR, then the end */ }
    } catch {
      // A reset is a close too, or our own cleanup.
    }
    open = false;
  })();
  return { conn, answer: body[0], isOpen: () => open };
}

Deno.test("sfs send --to bob serves the real bob while 40 key-less hellos claiming bob hold on", async () => {
  await using dir = await tempDir();
  const serverDir = join(dir.path, "server");
  await seedServerIdentity(serverDir);
  await using server = await startServer(serverDir);
  const [aliceHome, bobHome] = await Promise.all([
    registeredHome(dir.path, server, "alice"),
    registeredHome(dir.path, server, "bob"),
  ]);
  const file = join(dir.path, "for-bob.bin");
  await randomFile(file, 300_000);
  await using sharing = await startSender(aliceHome, [file], ["--to", "bob", "--yes"]);
  const ticket = String((sharing.ready.files as { ticket: string }[])[0].ticket);
  const { port } = parseTicket(ticket);

  // More than the sender's active limit (32), fewer than its pending limit (64): before the
  // fix the first 32 were promoted on their claim alone and bob was told BUSY.
  const squatters: Squatter[] = [];
  const bobKey = (await testIdentity("bob")).public.encoded;
  try {
    for (let i = 0; i < DEFAULT_SERVE_LIMITS.maxActive + 8; i++) {
      squatters.push(await squat(port, bobKey));
    }
    const done = doneOf(await get(bobHome, ticket, join(dir.path, "out")));
    assert.equal(done.sha256, await sha256File(file));
    // They were all there while bob downloaded: he got in beside them, not after them.
    assert.ok(squatters.every((s) => s.isOpen()), "every squatter still connected");
    assert.ok(squatters.every((s) => s.answer === MessageType.HELLO_REPLY));
  } finally {
    for (const s of squatters) closeQuietly(s.conn);
  }
});

Deno.test("sfs server lets the real bob search while key-less hellos claiming bob fill --max-connections", async () => {
  await using dir = await tempDir();
  const serverDir = join(dir.path, "server");
  await seedServerIdentity(serverDir);
  const maxConnections = 4;
  await using server = startSfs([
    "server",
    "--listen",
    "127.0.0.1:0",
    "--db",
    join(serverDir, "index.db"),
    "--json",
    "--max-connections",
    String(maxConnections),
  ], { home: serverDir });
  const listening = await server.nextEvent((e) => e.event === "listening", 30_000);
  const port = Number(listening.port);
  const bob = await testHome(dir.path, "bob");
  const bobKey = (await testIdentity("bob")).public.encoded;

  const squatters: Squatter[] = [];
  try {
    for (let i = 0; i < 2 * maxConnections; i++) squatters.push(await squat(port, bobKey));
    const search = await sfs(bob, [
      "search",
      "anything",
      "--server",
      `127.0.0.1:${port}`,
      "--server-fingerprint",
      String(listening.fingerprint),
      "--json",
    ]);
    assert.equal(search.code, 0, search.stderr);
    assert.ok(squatters.every((s) => s.isOpen()), "every squatter still connected");
    assert.ok(squatters.every((s) => s.answer === MessageType.HELLO_REPLY));
  } finally {
    for (const s of squatters) closeQuietly(s.conn);
  }
});
