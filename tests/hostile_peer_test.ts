/**
 * Hostile peers against the real CLI: raw TCP clients that send `sfs send` garbage or nothing,
 * and an in-process sender that speaks the protocol correctly but announces a hostile file name
 * to a real `sfs get`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Bytes, sha256, toHex } from "../src/crypto/bytes.ts";
import { ByteWriter } from "../src/crypto/encoding.ts";
import { generateEphemeral, NONCE_BYTES } from "../src/crypto/exchange.ts";
import type { Identity } from "../src/crypto/identity.ts";
import { LABEL } from "../src/crypto/labels.ts";
import { sign } from "../src/crypto/sign.ts";
import { chunkCount, chunkLength, DEFAULT_CHUNK_SIZE, sealChunk } from "../src/crypto/stream.ts";
import { fileIdOf } from "../src/crypto/file_id.ts";
import { finalSignedData } from "../src/peer/final_signed_data.ts";
import { signFileManifest } from "../src/peer/file_manifest.ts";
import { formatTicket } from "../src/peer/ticket.ts";
import { isDisplaySafe } from "../src/text.ts";
import { respond } from "../src/wire/handshake.ts";
import { FRAME_HEADER_BYTES, FrameKind } from "../src/wire/frame.ts";
import { decodeMessage, type Manifest, MessageType } from "../src/wire/messages.ts";
import { runSfs, sha256File, tempDir } from "./harness.ts";
import { testHome, testIdentity } from "./identities.ts";
import { serveLoopback } from "./loopback_server.ts";
import { closeQuietly, doneOf, errorOf, get, listTree, shareFile, writeAll } from "./peers.ts";

/** A real sender lets the receiver's GET ride in the handshake (§6.4); so do these fakes. */
const EARLY_GET: ReadonlySet<number> = new Set([MessageType.GET]);

/** A frame as a raw client would put it on the wire. */
function frame(kind: number, body: Uint8Array): Bytes {
  const out = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  new DataView(out.buffer).setUint32(0, body.length + 1);
  out[4] = kind;
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}

function random(length: number): Bytes {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

/**
 * A HELLO in the layout both versions share (§6.2): version 1 put its identity in the slot
 * where version 2 has its (empty) options.
 */
async function hello(version: number, slot: Uint8Array, ephemeral?: Uint8Array): Promise<Bytes> {
  const body = new ByteWriter().u16(version).bytes16(slot)
    .raw(ephemeral ?? (await generateEphemeral()).publicKey).raw(random(NONCE_BYTES)).finish();
  return frame(FrameKind.PLAIN, new Uint8Array([MessageType.HELLO, ...body]));
}

/**
 * Connects, sends `data`, then reads until the sender closes (true) or `timeoutMs` passes
 * (false). With `endInput` our side of the stream is ended after the data.
 */
async function exchange(
  port: number,
  data: Uint8Array,
  options: { endInput?: boolean; timeoutMs?: number } = {},
): Promise<{ closed: boolean; reply: Bytes }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    closeQuietly(conn);
  }, options.timeoutMs ?? 5000);
  const received: number[] = [];
  try {
    // The sender may close before reading everything; that is its right.
    await writeAll(conn, data).catch(() => {});
    if (options.endInput) await conn.closeWrite().catch(() => {});
    const buffer = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      received.push(...buffer.subarray(0, n));
    }
  } catch {
    // A reset also means the sender closed, unless our own timer did it.
  } finally {
    clearTimeout(timer);
    closeQuietly(conn);
  }
  return { closed: !timedOut, reply: new Uint8Array(received) };
}

/** The code of the ABORT frame a sender answered with, if that is what it sent. */
function abortCode(reply: Uint8Array): string | undefined {
  if (reply.length < FRAME_HEADER_BYTES + 1 || reply[4] !== FrameKind.PLAIN) return undefined;
  const length = new DataView(reply.buffer, reply.byteOffset).getUint32(0);
  const body = reply.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES - 1 + length);
  if (body[0] !== MessageType.ABORT) return undefined;
  const message = decodeMessage(MessageType.ABORT, body.subarray(1));
  return message.type === MessageType.ABORT ? message.code : undefined;
}

Deno.test("sfs send closes a connection that opens with a bad frame, and keeps serving", async (t) => {
  await using s = await shareFile("served.bin", 200_000);
  const { dir, bob, sender, source, ready } = s;
  const bobIdentity = (await testIdentity("bob")).public.encoded;

  const cases: Array<[string, Uint8Array, { code?: string; endInput?: boolean }]> = [
    ["a header announcing 0xFFFFFFF0 bytes", new Uint8Array([0xff, 0xff, 0xff, 0xf0, 1]), {
      code: "FRAME_TOO_LARGE",
    }],
    ["a frame of length 0", new Uint8Array([0, 0, 0, 0, 1]), { code: "BAD_FRAME" }],
    ["an unknown frame kind", frame(9, random(10)), { code: "BAD_FRAME" }],
    ["a sealed frame before the handshake", frame(FrameKind.SEALED, random(40)), {
      code: "UNEXPECTED_MESSAGE",
    }],
    ["a chunk frame before the handshake", frame(FrameKind.CHUNK, random(40)), {
      code: "UNEXPECTED_MESSAGE",
    }],
    ["a hello of protocol version 1", await hello(1, bobIdentity), { code: "VERSION_MISMATCH" }],
    ["a hello with options", await hello(2, random(300)), { code: "BAD_MESSAGE" }],
    [
      "a hello with a low-order ephemeral key",
      await hello(2, new Uint8Array(), new Uint8Array(32)),
      {
        code: "BAD_KEY",
      },
    ],
    ["a plain frame of random bytes", frame(FrameKind.PLAIN, random(500)), {}],
    ["64 KiB of random bytes", random(64 * 1024), {}],
    ["half a header, then the end of input", new Uint8Array([0, 0]), { endInput: true }],
  ];
  for (const [name, data, expected] of cases) {
    await t.step(name, async () => {
      const { closed, reply } = await exchange(ready.port, data, { endInput: expected.endInput });
      assert.ok(closed, "the sender closed the connection");
      const failed = await sender.nextEvent((e) => e.event === "transfer_failed");
      if (expected.code) {
        assert.equal(abortCode(reply), expected.code, `reply: ${toHex(reply.subarray(0, 64))}`);
        assert.equal(failed.code, expected.code);
      }
    });
  }

  await t.step("a real receiver afterwards", async () => {
    const done = doneOf(await get(bob, ready.ticket, join(dir.path, "out")));
    assert.equal(done.sha256, await sha256File(source));
  });
  // The garbage never got as far as a transfer: the real receiver's is the only one started.
  await sender.nextEvent((e) => e.event === "sent");
  assert.equal(sender.events.filter((e) => e.event === "start").length, 1);
});

Deno.test("sfs send keeps serving others while clients stay silent", async () => {
  await using s = await shareFile("served.bin", 200_000);
  const { dir, bob, sender, source, ready } = s;

  const silent = await Deno.connect({ hostname: "127.0.0.1", port: ready.port });
  // And one that starts a frame and stalls in the middle of its header.
  const stalled = await Deno.connect({ hostname: "127.0.0.1", port: ready.port });
  await writeAll(stalled, new Uint8Array([0, 0, 1]));
  try {
    for (const out of ["out-1", "out-2"]) {
      const done = doneOf(await get(bob, ready.ticket, join(dir.path, out)));
      assert.equal(done.sha256, await sha256File(source));
    }
  } finally {
    silent.close();
    stalled.close();
  }
  // Once they hang up, the sender notices and reports each as a failed transfer.
  for (let i = 0; i < 2; i++) {
    const failed = await sender.nextEvent((e) => e.event === "transfer_failed");
    assert.equal(failed.code, "CONNECTION_CLOSED");
  }
});

Deno.test("sfs send still serves a receiver while a flood of silent connections exceeds its limits", async () => {
  await using s = await shareFile("served.bin", 100_000);
  const { dir, bob, source, ready } = s;
  // More silent connections than DEFAULT_SERVE_LIMITS allows in the handshake stage (64) and
  // at work (32) together: the oldest are dropped to make room, so the real receiver gets in.
  const flood: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < 100; i++) {
      flood.push(await Deno.connect({ hostname: "127.0.0.1", port: ready.port }));
    }
    const done = doneOf(await get(bob, ready.ticket, join(dir.path, "out")));
    assert.equal(done.sha256, await sha256File(source));
  } finally {
    for (const conn of flood) closeQuietly(conn);
  }
});

/** How a hostile sender departs from the protocol, besides the name it announces. */
type Lie =
  | "none"
  | "chunk-after-last"
  | "manifest-hash"
  | "final-signature"
  | "other-file-id";

/**
 * A sender that follows the protocol to the letter (handshake, manifest, chunks, signed final)
 * but announces `name` instead of the file's real name, and tells `lie` if asked to.
 */
async function startHostileSender(
  identity: Identity,
  name: string,
  content: Bytes,
  lie: Lie = "none",
): Promise<AsyncDisposable & { ticket: string }> {
  const contentSha256 = await sha256(content);
  // A sender lying about the hash names the file by that hash too, or the id gives it away.
  const announcedSha256 = lie === "manifest-hash" ? random(32) : contentSha256;
  const fileId = await fileIdOf(identity.public.fingerprint, announcedSha256, name);
  const serve = async (conn: Deno.Conn): Promise<void> => {
    const channel = await respond(conn, identity, { idleTimeoutMs: 10_000, earlyTypes: EARLY_GET });
    try {
      const request = await channel.expect(MessageType.GET);
      const fields = {
        name,
        size: content.length,
        sha256: announcedSha256,
        executable: false,
        mtime: 0,
        createdAt: 0,
      };
      const manifest: Manifest = {
        type: MessageType.MANIFEST,
        fileId: lie === "other-file-id" ? random(16) : request.fileId,
        ...fields,
        chunkSize: DEFAULT_CHUNK_SIZE,
        offset: 0,
        // The owner signs the one-entry manifest, as a real sender does (none for names no
        // manifest can hold).
        manifestSignatures: (await signFileManifest(identity, fields)).signatures,
      };
      await channel.send(manifest);
      const count = chunkCount(content.length, DEFAULT_CHUNK_SIZE);
      for (let i = 0; i < count; i++) {
        const start = i * DEFAULT_CHUNK_SIZE;
        const plaintext = content.subarray(
          start,
          start + chunkLength(content.length, DEFAULT_CHUNK_SIZE, i),
        );
        await channel.sendChunk(
          await sealChunk(channel.payloadKey, i, i === count - 1, plaintext),
        );
      }
      if (lie === "chunk-after-last") {
        await channel.sendChunk(await sealChunk(channel.payloadKey, count, true, random(10)));
      }
      // Signing another size is what a sender would do to pass off a longer or shorter file.
      const signedManifest = lie === "final-signature"
        ? { ...manifest, size: manifest.size + 1 }
        : manifest;
      const signed = await finalSignedData(channel.transcriptHash, signedManifest);
      const signatures = await sign(identity, LABEL.FINAL_SIGNATURE, signed, "both");
      await channel.send({ type: MessageType.FINAL, signatures });
      await channel.expect(MessageType.RECEIPT);
    } finally {
      channel.close();
    }
  };
  const server = serveLoopback(serve);
  return {
    ticket: formatTicket({
      host: "127.0.0.1",
      port: server.port,
      fileId,
      fingerprint: identity.public.fingerprint,
    }),
    [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
  };
}

Deno.test("sfs get stores a hostile file name inside --out, sanitised, or refuses it", async (t) => {
  await using dir = await tempDir();
  const bob = await testHome(dir.path, "bob");
  const alice = await testIdentity("alice");
  // --out sits two levels down, so "../../x" would land in the temp folder we inspect.
  const out = join(dir.path, "one", "two", "out");
  await Deno.mkdir(join(dir.path, "one", "two"), { recursive: true });
  const content = random(3000);
  const contentSha256 = toHex(await sha256(content));

  // The third column is the name stored in --out, or the code of the refusal.
  const refusals = new Set(["UNSAFE_NAME", "BAD_MESSAGE"]);
  const cases: Array<[string, string, string]> = [
    ["parent traversal", "../../evil.txt", "evil.txt"],
    ["an absolute path", "/etc/passwd", "passwd"],
    ["an absolute path into the temp folder", join(dir.path, "planted.txt"), "planted.txt"],
    ["Windows separators", "a\\b\\..\\c.txt", "c.txt"],
    ["a Windows drive path", "C:\\Windows\\System32\\evil.dll", "evil.dll"],
    ["a Windows device name", "CON", "_CON"],
    // Control and bidi characters make the manifest malformed, as they would an announcement.
    ["a right-to-left override", "invoice\u202etxt.exe", "BAD_MESSAGE"],
    ["terminal escapes and controls", "a\u0007\u001b[2J\nb.txt", "BAD_MESSAGE"],
    ["a left-to-right mark", "a\u200eb.txt", "BAD_MESSAGE"],
    ["a 1000-byte name", "n".repeat(996) + ".txt", "n".repeat(241) + ".txt"],
    ["our part-file suffix", "x.sfs-part", "UNSAFE_NAME"],
    ["our part-file suffix behind a path", "../x.txt.sfs-part", "UNSAFE_NAME"],
    ["a parent reference", "..", "UNSAFE_NAME"],
    ["a trailing separator", "dir/", "UNSAFE_NAME"],
    ["an empty name", "", "UNSAFE_NAME"],
  ];
  for (const [what, name, expected] of cases) {
    const shown = expected.length > 40 ? `${expected.slice(0, 8)}….txt` : expected;
    await t.step(`${what}: ${shown}`, async () => {
      const before = await listTree(dir.path);
      await using hostile = await startHostileSender(alice, name, content);
      const result = await get(bob, hostile.ticket, out);
      if (refusals.has(expected)) {
        assert.equal(result.code, 1, result.stderr);
        assert.equal(errorOf(result).code, expected);
        // Refused before anything was created: --out holds nothing, and nothing is elsewhere.
        assert.deepEqual(await listTree(out), []);
        const outRel = join("one", "two", "out");
        assert.deepEqual((await listTree(dir.path)).filter((p) => p !== outRel), before);
      } else {
        const done = doneOf(result);
        assert.equal(done.path, join(out, expected));
        assert.equal(done.sha256, contentSha256);
        assert.equal(await sha256File(join(out, expected)), contentSha256);
        // Exactly one new file, inside --out; nothing anywhere else in the temp folder.
        const outRel = join("one", "two", "out");
        assert.deepEqual(
          await listTree(dir.path),
          [...before, outRel, join(outRel, expected)].sort(),
        );
      }
      await Deno.remove(out, { recursive: true }).catch(() => {});
    });
  }
});

Deno.test("sfs get refuses what an authenticated sender cannot vouch for", async (t) => {
  await using dir = await tempDir();
  const bob = await testHome(dir.path, "bob");
  const alice = await testIdentity("alice");
  const content = random(1024 * 1024 + 5000); // two chunks
  const cases: Array<[string, Lie, string, number]> = [
    ["a chunk after the last one", "chunk-after-last", "TRAILING_DATA", 3],
    ["content that does not match the manifest's SHA-256", "manifest-hash", "HASH_MISMATCH", 3],
    ["final signatures over another size", "final-signature", "BAD_SIGNATURE", 3],
    ["a manifest for another file", "other-file-id", "BAD_MESSAGE", 1],
  ];
  let n = 0;
  for (const [what, lie, code, exit] of cases) {
    await t.step(`${what}: ${code}`, async () => {
      await using hostile = await startHostileSender(alice, "data.bin", content, lie);
      const out = join(dir.path, `out-${n++}`);
      const result = await get(bob, hostile.ticket, out);
      assert.equal(result.code, exit, result.stderr);
      assert.equal(errorOf(result).code, code);
      assert.deepEqual(await listTree(out), [], "no final file, no part file");
    });
  }
  await t.step("the same sender telling no lie: the control", async () => {
    await using hostile = await startHostileSender(alice, "data.bin", content);
    const out = join(dir.path, "out-honest");
    const done = doneOf(await get(bob, hostile.ticket, out));
    assert.equal(done.sha256, toHex(await sha256(content)));
    assert.deepEqual(await listTree(out), ["data.bin", "data.bin.sfs-proof"]);
  });
});

Deno.test("sfs get refuses a name with terminal escapes, and no escape reaches its output", async (t) => {
  await using dir = await tempDir();
  const bob = await testHome(dir.path, "bob");
  const alice = await testIdentity("alice");
  // OSC 52 asks the terminal to put text on the clipboard; U+202E flips what follows.
  const name = "\u001b]52;c;cm0gLXJmIH4K\u0007report\u202efdp.exe";
  await using hostile = await startHostileSender(alice, name, random(3000));
  for (const mode of ["human", "json"]) {
    await t.step(`${mode} output`, async () => {
      const out = join(dir.path, `out-${mode}`);
      const args = ["get", hostile.ticket, "--out", out, ...(mode === "json" ? ["--json"] : [])];
      const result = await runSfs(args, { home: bob });
      assert.equal(result.code, 1, result.stderr);
      if (mode === "json") assert.equal(errorOf(result).code, "BAD_MESSAGE");
      for (const [stream, text] of [["stdout", result.stdout], ["stderr", result.stderr]]) {
        // Line breaks are the CLI's own; anything else refused must not be there.
        assert.ok(isDisplaySafe(text.replaceAll("\n", "")), `${stream}: ${JSON.stringify(text)}`);
      }
      assert.deepEqual(await listTree(out), []);
    });
  }
});
