/**
 * The attacks of issue 5 against the real `sfs send` and `sfs get`, each end to end over
 * 127.0.0.1: a man in the middle with its own keys, a replayed sender handshake, a protocol
 * version downgrade, chunks reordered, duplicated, dropped or spliced in from another session,
 * a part file altered between two runs, and an announcement signed by another user. Each must
 * be refused, and nothing may appear under the final name. (Flipped bytes and cut streams:
 * tamper_test.ts; hostile names and symlinks: hostile_peer_test.ts and out_dir_test.ts.)
 */
import assert from "node:assert/strict";
import { DEFAULT_CHUNK_SIZE } from "../src/crypto/stream.ts";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { type Bytes, concat, fromHex } from "../src/crypto/bytes.ts";
import { generateEphemeral } from "../src/crypto/exchange.ts";
import type { Identity } from "../src/crypto/identity.ts";
import { LABEL } from "../src/crypto/labels.ts";
import { sign } from "../src/crypto/sign.ts";
import { chunkCount, openChunk, sealChunk, TAG_BYTES } from "../src/crypto/stream.ts";
import { type ErrorCode, isSfsError } from "../src/errors.ts";
import {
  encodeAnnouncement,
  encodeSignatureSet,
  type FileAnnouncement,
  signAnnouncement,
  type SignedAnnouncement,
  verifyListing,
} from "../src/index/protocol/announcement.ts";
import { HANDSHAKE_TIMEOUT_MS } from "../src/net/listener.ts";
import { formatTicket, parseTicket } from "../src/peer/ticket.ts";
import { finalSignedData } from "../src/peer/final_signed_data.ts";
import { signFileManifest } from "../src/peer/file_manifest.ts";
import { initiate, respond } from "../src/wire/handshake.ts";
import { fileIdOf } from "../src/crypto/file_id.ts";
import { FRAME_HEADER_BYTES, FrameKind } from "../src/wire/frame.ts";
import { decodeMessage, encodeMessage, MessageType } from "../src/wire/messages.ts";
import { randomFile, type SfsEvent, type SfsProcess, sha256File, tempDir } from "./harness.ts";
import { testHome, testIdentity } from "./identities.ts";
import { type LoopbackServer, serveLoopback } from "./loopback_server.ts";
import {
  assertFails,
  connectClient,
  registeredHome,
  seedServerIdentity,
  sfs,
  shareToBob,
  startSender as startSharing,
  startServer,
} from "./index_fixture.ts";
import {
  closedWithin,
  closeQuietly,
  connectWatched,
  doneOf,
  errorOf,
  get,
  listTree,
  readFull,
  shareFile,
  type Sharing,
  startProxy,
  trickle,
  withPort,
  writeAll,
} from "./peers.ts";

const MIB = 1024 * 1024;
const CHUNK = DEFAULT_CHUNK_SIZE;
/** Three full chunks, so a reordered chunk has the right length and only its nonce is wrong. */
const FILE_SIZE = 3 * CHUNK;
const NAME = "payload.bin";

/** One frame on the wire. */
interface WireFrame {
  readonly kind: number;
  readonly body: Uint8Array;
}

/**
 * What to send on in place of one frame: `[]` drops it, `[frame, frame]` duplicates it, and a
 * frame held back can be sent later with another. `index` counts that direction's frames from 0
 * (the HELLO, or the HELLO_REPLY).
 */
type Rewrite = (frame: WireFrame, index: number) => WireFrame[] | Promise<WireFrame[]>;

/** A listener on 127.0.0.1; `await using` closes it and every connection through it. */
/** Frames larger than a 4 MiB chunk and its tag are not the protocol's; the relay stops. */
const MAX_FRAME = 4 * MIB + 64;

async function readFrame(conn: Deno.Conn): Promise<WireFrame | null> {
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  if (!await readFull(conn, header)) return null;
  const length = new DataView(header.buffer).getUint32(0);
  if (length < 1 || length > MAX_FRAME) return null;
  const body = new Uint8Array(length - 1);
  if (!await readFull(conn, body)) return null;
  return { kind: header[4], body };
}

function frameBytes(frame: WireFrame): Bytes {
  const out = new Uint8Array(FRAME_HEADER_BYTES + frame.body.length);
  new DataView(out.buffer).setUint32(0, frame.body.length + 1);
  out[4] = frame.kind;
  out.set(frame.body, FRAME_HEADER_BYTES);
  return out;
}

async function pump(from: Deno.Conn, to: Deno.Conn, rewrite?: Rewrite): Promise<void> {
  try {
    for (let index = 0;; index++) {
      const frame = await readFrame(from);
      if (frame === null) return;
      for (const out of rewrite ? await rewrite(frame, index) : [frame]) {
        await writeAll(to, frameBytes(out));
      }
    }
  } catch {
    // Either side went away; the session ends.
  }
}

/**
 * A relay to `127.0.0.1:targetPort` that lets `up` (receiver → sender) and `down` (sender →
 * receiver) rewrite each frame; without them it forwards everything unchanged.
 */
function startRelay(targetPort: number, rewrite: { up?: Rewrite; down?: Rewrite }): LoopbackServer {
  return serveLoopback(async (client, track) => {
    const server = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
    track(server);
    try {
      const up = pump(client, server, rewrite.up);
      const down = pump(server, client, rewrite.down);
      // Either side ending ends the session, as with a real middlebox.
      await Promise.race([up, down]);
      closeQuietly(client);
      await Promise.allSettled([up, down]);
    } finally {
      closeQuietly(server);
    }
  });
}

/** A stand-in sender that answers every HELLO with `frames`, recorded from a real session. */
function startReplayer(frames: readonly WireFrame[]): LoopbackServer {
  return serveLoopback(async (conn) => {
    const hello = await readFrame(conn);
    assert.equal(hello?.body[0], MessageType.HELLO);
    for (const frame of frames) await writeAll(conn, frameBytes(frame));
    // Wait for the receiver to hang up, bounded by the harness's own timeouts.
    while (await readFrame(conn) !== null);
  });
}

/** What an impostor in the middle got out of its sessions. */
interface Loot {
  /** GET requests the receiver sent it, i.e. receivers that accepted its handshake. */
  gets: number;
  /** Plaintext payload bytes it read. */
  plaintextBytes: number;
}

/**
 * A man in the middle that terminates the receiver's handshake itself, presenting `presents`
 * and signing with `presents`' private keys, and fetches from the real sender as `mallory`. If
 * the receiver goes on, it relays the file, re-sealed under its own keys and re-signed, so it
 * reads everything: only the receiver's key check can stop it.
 */
function startImpostor(
  targetPort: number,
  presents: Identity,
  mallory: Identity,
  reshare?: { ownId: Bytes; senderId: Bytes },
): LoopbackServer & { loot: Loot } {
  const loot: Loot = { gets: 0, plaintextBytes: 0 };
  const listening = serveLoopback(async (client, track) => {
    const server = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
    track(server);
    // Both handshakes at once, as a real interceptor would; the sender asks nothing of mallory.
    const [down, up] = await Promise.all([
      respond(client, presents, { idleTimeoutMs: 10_000, earlyTypes: new Set([MessageType.GET]) }),
      initiate(server, mallory, { idleTimeoutMs: 10_000, verifyResponder: () => {} }),
    ]);
    try {
      const request = await down.expect(MessageType.GET);
      loot.gets++;
      // A file id names its owner's key (§7.1): re-shared, the file goes by mallory's own id.
      await up.send(reshare ? { ...request, fileId: reshare.senderId } : request);
      const received = await up.expect(MessageType.MANIFEST);
      // Re-shared, it is re-signed too: the owner of the one-entry manifest is mallory (§7.1).
      const manifest = reshare
        ? {
          ...received,
          fileId: reshare.ownId,
          manifestSignatures: (await signFileManifest(presents, received)).signatures,
        }
        : received;
      await down.send(manifest);
      const count = chunkCount(manifest.size, manifest.chunkSize);
      for (let i = manifest.offset / manifest.chunkSize; i < count; i++) {
        const frame = await up.receiveChunkOrMessage(manifest.chunkSize + TAG_BYTES);
        assert.equal(frame.type, "chunk");
        if (frame.type !== "chunk") return;
        const plaintext = await openChunk(up.payloadKey, i, i === count - 1, frame.data);
        loot.plaintextBytes += plaintext.length;
        await down.sendChunk(await sealChunk(down.payloadKey, i, i === count - 1, plaintext));
      }
      await up.expect(MessageType.FINAL);
      const signed = await finalSignedData(down.transcriptHash, manifest);
      const signatures = await sign(presents, LABEL.FINAL_SIGNATURE, signed, "both");
      await down.send({ type: MessageType.FINAL, signatures });
      await up.send(await down.expect(MessageType.RECEIPT));
      await up.flush();
    } finally {
      down.close();
      up.close();
    }
  });
  return Object.assign(listening, { loot });
}

/** Every JSON event a process printed so far, whether or not nextEvent() consumed it. */
function eventsOf(proc: SfsProcess): SfsEvent[] {
  return proc.stdoutText().split("\n").flatMap((line) => {
    try {
      return [JSON.parse(line) as SfsEvent];
    } catch {
      return [];
    }
  });
}

/** Transfers the sender started (it starts one only after a handshake and a valid GET). */
function startsOf(sender: SfsProcess): number {
  return eventsOf(sender).filter((e) => e.event === "start").length;
}

/** Asserts a clean transfer still works, i.e. the sender survived what came before. */
async function assertStillServes(s: Sharing, out: string): Promise<void> {
  const done = doneOf(await get(s.bob, s.ready.ticket, out));
  assert.equal(done.sha256, s.sha256);
  assert.equal(await sha256File(join(out, NAME)), s.sha256);
}

/**
 * Asserts a failed download left no final file: `out` is empty, or holds a part file and its
 * resume state whose verified bytes are at most `keepAtMost` and equal the source's first bytes.
 * With "nothing", `out` must be empty.
 */
async function assertNoFinalFile(
  s: Sharing,
  out: string,
  keepAtMost: number | "nothing",
): Promise<void> {
  const left = await listTree(out);
  if (left.length === 0) return;
  if (keepAtMost === "nothing") assert.fail(`Left behind: ${left.join(", ")}`);
  assert.deepEqual(left, [`${NAME}.sfs-part`, `${NAME}.sfs-state`], "only a resumable part");
  const state = JSON.parse(await Deno.readTextFile(join(out, `${NAME}.sfs-state`)));
  assert.ok(state.verified <= keepAtMost, `verified ${state.verified} > ${keepAtMost}`);
  const part = await Deno.readFile(join(out, `${NAME}.sfs-part`));
  const source = await Deno.readFile(s.source);
  assert.ok(part.length >= state.verified);
  assert.deepEqual(part.subarray(0, state.verified), source.subarray(0, state.verified));
}

Deno.test("sfs get refuses a man in the middle that swaps in its own keys", async (t) => {
  await using s = await shareFile(NAME, FILE_SIZE);
  const alice = await testIdentity("alice");
  const mallory = await testIdentity("mallory");
  let n = 0;

  await t.step("mallory's own identity in the reply: KEY_MISMATCH", async () => {
    await using mitm = startImpostor(s.ready.port, mallory, mallory);
    const out = join(s.dir.path, `out-${n++}`);
    const result = await get(s.bob, withPort(s.ready.ticket, mitm.port), out);
    assert.equal(result.code, 3, result.stderr);
    assert.equal(errorOf(result).code, "KEY_MISMATCH");
    assert.deepEqual(await listTree(out), []);
    assert.deepEqual(mitm.loot, { gets: 0, plaintextBytes: 0 });
  });

  await t.step("alice's public identity, signed with mallory's keys: BAD_SIGNATURE", async () => {
    // The public keys are no secret: mallory can present them, but not sign with them.
    const wearingAlice: Identity = { ...mallory, public: alice.public };
    await using mitm = startImpostor(s.ready.port, wearingAlice, mallory);
    const out = join(s.dir.path, `out-${n++}`);
    const result = await get(s.bob, withPort(s.ready.ticket, mitm.port), out);
    assert.equal(result.code, 3, result.stderr);
    assert.equal(errorOf(result).code, "BAD_SIGNATURE");
    assert.deepEqual(await listTree(out), []);
    assert.deepEqual(mitm.loot, { gets: 0, plaintextBytes: 0 });
  });

  await t.step(
    "mallory's ephemeral key swapped into bob's HELLO, alice's flight relayed: DECRYPT_FAILED",
    async () => {
      // Version 2's HELLO names no one, so only the ephemeral key can be swapped: alice's
      // handshake keys then come from mallory's X25519 secret, and bob cannot open her flight.
      const malloryEphemeral = await generateEphemeral();
      await using relay = startRelay(s.ready.port, {
        up: (frame, index) => {
          if (index !== 0) return [frame];
          const hello = decodeMessage(MessageType.HELLO, frame.body.subarray(1));
          assert.equal(hello.type, MessageType.HELLO);
          const swapped = encodeMessage({ ...hello, ephemeral: malloryEphemeral.publicKey });
          return [{ kind: frame.kind, body: new Uint8Array([MessageType.HELLO, ...swapped]) }];
        },
      });
      const out = join(s.dir.path, `out-${n++}`);
      const result = await get(s.bob, withPort(s.ready.ticket, relay.port), out);
      assert.equal(result.code, 3, result.stderr);
      assert.equal(errorOf(result).code, "DECRYPT_FAILED");
      assert.deepEqual(await listTree(out), []);
    },
  );

  // None of the above got as far as a GET: the sender never started a transfer.
  assert.equal(startsOf(s.sender), 0);

  await t.step(
    "control: the impostor relays the whole file to a ticket naming mallory",
    async () => {
      // So the impostor works, and only bob's key check stopped it above. Openly re-sharing
      // alice's file, mallory names it by her own file id, as `sfs send` would.
      const senderId = parseTicket(s.ready.ticket).fileId;
      const ownId = await fileIdOf(mallory.public.fingerprint, fromHex(s.sha256)!, NAME);
      await using mitm = startImpostor(s.ready.port, mallory, mallory, { ownId, senderId });
      const ticket = formatTicket({
        ...parseTicket(s.ready.ticket),
        fileId: ownId,
        fingerprint: mallory.public.fingerprint,
      });
      const out = join(s.dir.path, `out-${n++}`);
      const done = doneOf(await get(s.bob, withPort(ticket, mitm.port), out));
      assert.equal(done.sha256, s.sha256);
      assert.deepEqual(mitm.loot, { gets: 1, plaintextBytes: FILE_SIZE });
    },
  );

  await assertStillServes(s, join(s.dir.path, "out-after"));
});

Deno.test("sfs get refuses a sender handshake replayed from a recorded session", async (t) => {
  await using s = await shareFile(NAME, FILE_SIZE);
  const carol = await testHome(s.dir.path, "carol");
  // Record everything alice sends bob in one genuine session.
  const recorded: WireFrame[] = [];
  {
    await using tap = startRelay(s.ready.port, {
      down: (frame) => {
        recorded.push({ kind: frame.kind, body: frame.body.slice() });
        return [frame];
      },
    });
    const done = doneOf(
      await get(s.bob, withPort(s.ready.ticket, tap.port), join(s.dir.path, "o")),
    );
    assert.equal(done.sha256, s.sha256);
  }
  // HELLO_REPLY, RESPONDER_AUTH, KEY_TRANSPORT, MANIFEST, three chunks, FINAL.
  assert.deepEqual(recorded.map((f) => f.kind), [1, 2, 2, 2, 3, 3, 3, 2]);
  assert.equal(recorded[0].body[0], MessageType.HELLO_REPLY);

  await using replayer = startReplayer(recorded);
  const ticket = withPort(s.ready.ticket, replayer.port);
  for (const [who, home] of [["bob, in a new session", s.bob], ["carol", carol]]) {
    await t.step(`to ${who}: DECRYPT_FAILED`, async () => {
      // alice's real flight 2, but under handshake keys from the old ephemeral secret: it does
      // not open for the fresh HELLO, and the receiver sends nothing more (§6.6).
      const out = join(s.dir.path, `out-${who.split(",")[0]}`);
      const result = await get(home, ticket, out);
      assert.equal(result.code, 3, result.stderr);
      assert.equal(errorOf(result).code, "DECRYPT_FAILED");
      assert.deepEqual(await listTree(out), []);
    });
  }
});

Deno.test("sfs get refuses a downgrade of the version or of the signatures in the handshake", async (t) => {
  await using s = await shareFile(NAME, FILE_SIZE);
  /** Rewrites the first frame (the HELLO or the HELLO_REPLY). */
  const first = (edit: (body: Uint8Array) => Uint8Array): Rewrite => (frame, index) =>
    index === 0 ? [{ kind: frame.kind, body: edit(frame.body.slice()) }] : [frame];
  const version0 = (body: Uint8Array) => {
    // PLAIN body: u8 type ‖ u16 version ‖ …
    assert.equal(new DataView(body.buffer).getUint16(1), 2);
    body[1] = 0;
    body[2] = 0;
    return body;
  };
  // The signatures travel encrypted in RESPONDER_AUTH (§6.4): a middlebox cannot strip one,
  // only change what the plain messages say, which changes H_1 and so every handshake key.
  const flipNonce = (body: Uint8Array) => {
    body[body.length - 1] ^= 1;
    return body;
  };
  const cases: Array<[string, { up?: Rewrite; down?: Rewrite }, string, number]> = [
    // The sender speaks version 2 only, and says so.
    ["bob's HELLO rewritten to version 0", { up: first(version0) }, "VERSION_MISMATCH", 1],
    [
      "alice's HELLO_REPLY rewritten to version 0",
      { down: first(version0) },
      "VERSION_MISMATCH",
      1,
    ],
    ["a bit of the reply's nonce flipped", { down: first(flipNonce) }, "DECRYPT_FAILED", 3],
    ["a bit of the HELLO's nonce flipped", { up: first(flipNonce) }, "DECRYPT_FAILED", 3],
  ];
  let n = 0;
  for (const [what, rewrite, code, exit] of cases) {
    await t.step(`${what}: ${code}`, async () => {
      await using relay = startRelay(s.ready.port, rewrite);
      const out = join(s.dir.path, `out-${n++}`);
      const result = await get(s.bob, withPort(s.ready.ticket, relay.port), out);
      assert.equal(result.code, exit, result.stderr);
      assert.equal(errorOf(result).code, code);
      assert.deepEqual(await listTree(out), []);
    });
  }
  // The rewritten HELLO reached the sender, which refused it itself.
  assert.ok(
    eventsOf(s.sender).some((e) => e.event === "transfer_failed" && e.code === "VERSION_MISMATCH"),
    s.sender.stdoutText(),
  );
  assert.equal(startsOf(s.sender), 0);
  await assertStillServes(s, join(s.dir.path, "out-after"));
});

/** Applies `plan` to the n-th chunk frame (from 0); other frames pass. */
function chunks(plan: (n: number, frame: WireFrame) => WireFrame[]): Rewrite {
  let n = 0;
  return (frame) => frame.kind === FrameKind.CHUNK ? plan(n++, frame) : [frame];
}

/** Holds chunk `a` back and sends it right after chunk `b`. */
function swap(a: number, b: number): Rewrite {
  let held: WireFrame | undefined;
  return chunks((n, frame) => {
    if (n === a) {
      held = frame;
      return [];
    }
    return n === b ? [frame, held!] : [frame];
  });
}

Deno.test("sfs get refuses chunks reordered, duplicated, dropped or replayed by a proxy", async (t) => {
  await using s = await shareFile(NAME, FILE_SIZE);
  // Chunk 1 of an earlier genuine session, to splice into a later one.
  let earlier: Uint8Array | undefined;
  {
    await using tap = startRelay(s.ready.port, {
      down: chunks((n, frame) => {
        if (n === 1) earlier = frame.body.slice();
        return [frame];
      }),
    });
    doneOf(await get(s.bob, withPort(s.ready.ticket, tap.port), join(s.dir.path, "o")));
  }
  assert.ok(earlier);
  const cases: Array<[string, Rewrite, string, number | "nothing"]> = [
    // [what, rewrite, code, most bytes a resumable part may keep]
    ["chunks 0 and 1 swapped", swap(0, 1), "CHUNK_AUTH_FAILED", 0],
    ["the last chunk sent before the middle one", swap(1, 2), "CHUNK_AUTH_FAILED", CHUNK],
    ["chunk 0 sent twice", chunks((n, f) => n === 0 ? [f, f] : [f]), "CHUNK_AUTH_FAILED", CHUNK],
    [
      "the last chunk sent twice",
      chunks((n, f) => n === 2 ? [f, f] : [f]),
      "TRAILING_DATA",
      "nothing",
    ],
    ["chunk 0 dropped", chunks((n, f) => n === 0 ? [] : [f]), "CHUNK_AUTH_FAILED", 0],
    ["chunk 1 dropped", chunks((n, f) => n === 1 ? [] : [f]), "CHUNK_AUTH_FAILED", CHUNK],
    ["the last chunk dropped", chunks((n, f) => n === 2 ? [] : [f]), "TRUNCATED", 2 * CHUNK],
    [
      "chunk 1 replaced by chunk 1 of an earlier session",
      chunks((n, f) => n === 1 ? [{ kind: f.kind, body: earlier! }] : [f]),
      "CHUNK_AUTH_FAILED",
      CHUNK,
    ],
  ];
  let n = 0;
  for (const [what, rewrite, code, keepAtMost] of cases) {
    await t.step(`${what}: ${code}`, async () => {
      await using relay = startRelay(s.ready.port, { down: rewrite });
      const out = join(s.dir.path, `out-${n++}`);
      const result = await get(s.bob, withPort(s.ready.ticket, relay.port), out);
      assert.equal(result.code, 3, result.stderr);
      assert.equal(errorOf(result).code, code);
      await assertNoFinalFile(s, out, keepAtMost);
    });
  }
  await assertStillServes(s, join(s.dir.path, "out-after"));
});

Deno.test("sfs send drops slowloris connections at its handshake deadline and keeps serving", async () => {
  await using s = await shareFile(NAME, FILE_SIZE);
  const hello = frameBytes({
    kind: FrameKind.PLAIN,
    body: new Uint8Array([
      MessageType.HELLO,
      ...encodeMessage({
        type: MessageType.HELLO,
        version: 2,
        options: new Uint8Array(),
        ephemeral: (await generateEphemeral()).publicKey,
        nonce: crypto.getRandomValues(new Uint8Array(32)),
      }),
    ]),
  });
  const stalled = await connectWatched(s.ready.port);
  const trickler = await connectWatched(s.ready.port);
  try {
    await writeAll(stalled.conn, hello.subarray(0, 3));
    // Every byte comes well within the 30 s idle deadline; only the handshake deadline helps.
    const trickling = trickle(trickler, hello, 500);
    await assertStillServes(s, join(s.dir.path, "out-during"));
    assert.ok(stalled.isOpen() && trickler.isOpen(), "both held on during the transfer");
    const deadline = HANDSHAKE_TIMEOUT_MS + 2_500;
    for (const watched of [stalled, trickler]) {
      assert.ok(await closedWithin(watched, deadline), "closed by the sender");
      assert.ok((await watched.closed).afterMs <= deadline);
    }
    assert.ok(await trickling >= 10, `trickled ${await trickling} bytes`);
  } finally {
    closeQuietly(stalled.conn);
    closeQuietly(trickler.conn);
    await Promise.all([stalled.closed, trickler.closed]);
  }
  await assertStillServes(s, join(s.dir.path, "out-after"));
});

Deno.test("sfs get refuses a part file altered between runs and keeps no final file", async (t) => {
  await using s = await shareFile(NAME, FILE_SIZE);
  const cases: Array<[string, (part: string, state: Record<string, number>) => Promise<void>]> = [
    ["a byte of the verified prefix flipped", async (part) => {
      using file = await Deno.open(part, { read: true, write: true });
      const byte = new Uint8Array(1);
      await file.seek(1000, Deno.SeekMode.Start);
      await file.read(byte);
      byte[0] ^= 0x01;
      await file.seek(1000, Deno.SeekMode.Start);
      await file.write(byte);
    }],
    ["a chunk of junk appended and claimed as verified", async (part, state) => {
      await Deno.writeFile(part, new Uint8Array(CHUNK).fill(0x41), { append: true });
      state.verified += CHUNK;
    }],
  ];
  let n = 0;
  for (const [what, alter] of cases) {
    await t.step(`${what}: HASH_MISMATCH`, async () => {
      const out = join(s.dir.path, `out-${n++}`);
      {
        // A download cut inside chunk 1 keeps chunk 0 for a resume.
        await using proxy = startProxy(s.ready.port, { cutAfterBytes: Math.floor(1.3 * CHUNK) });
        const cut = await get(s.bob, withPort(s.ready.ticket, proxy.port), out);
        assert.equal(errorOf(cut).code, "CONNECTION_CLOSED");
      }
      const statePath = join(out, `${NAME}.sfs-state`);
      const state = JSON.parse(await Deno.readTextFile(statePath));
      assert.equal(state.verified, CHUNK);
      // Someone with write access to the folder edits the files between the two runs.
      await alter(join(out, `${NAME}.sfs-part`), state);
      await Deno.writeTextFile(statePath, JSON.stringify(state));
      const result = await get(s.bob, s.ready.ticket, out);
      assert.equal(result.code, 3, result.stderr);
      assert.equal(errorOf(result).code, "HASH_MISMATCH");
      // A file wrong as a whole is not resumable: the part and its state go too.
      assert.deepEqual(await listTree(out), []);
    });
  }
  await assertStillServes(s, join(s.dir.path, "out-after"));
});

/** Encodes `a` and signs it with `signer`, whoever `a` names as its owner. */
async function forge(signer: Identity, a: FileAnnouncement): Promise<SignedAnnouncement> {
  const bytes = encodeAnnouncement(a);
  return { bytes, signatures: await sign(signer, LABEL.ANNOUNCEMENT_SIGNATURE, bytes, "both") };
}

Deno.test("an announcement mallory signs in alice's name is refused by the server and the receiver", async (t) => {
  await using dir = await tempDir();
  const serverDir = join(dir.path, "server");
  await seedServerIdentity(serverDir);
  await using server = await startServer(serverDir);
  const [aliceHome, bobHome] = await Promise.all([
    registeredHome(dir.path, server, "alice"),
    registeredHome(dir.path, server, "bob"),
    registeredHome(dir.path, server, "mallory"),
  ]);
  const file = join(dir.path, "contract.pdf");
  await randomFile(file, 5000);
  await using sharing = await startSharing(aliceHome, [file]);
  const mallory = await testIdentity("mallory");
  const out = join(dir.path, "out");

  const client = await connectClient(server, "mallory");
  let genuine: FileAnnouncement;
  try {
    await client.auth("mallory");
    // mallory reads alice's signed listing like anyone else.
    const [listing] = await client.resolve(sharing.id);
    genuine = (await verifyListing(listing)).announcement;

    await t.step("the server refuses each forgery over mallory's own connection", async () => {
      const toMallory = { ...genuine, address: "127.0.0.1:1" };
      const cases: Array<[string, () => Promise<SignedAnnouncement>, ErrorCode]> = [
        [
          "alice's name and key, mallory's signatures",
          () => forge(mallory, toMallory),
          "KEY_MISMATCH",
        ],
        [
          "alice's name, mallory's key and signatures",
          async () =>
            await signAnnouncement(mallory, {
              ...toMallory,
              fileId: await fileIdOf(mallory.public.fingerprint, genuine.sha256, genuine.name),
              ownerFingerprint: mallory.public.fingerprint,
            }),
          "REFUSED",
        ],
        [
          "alice's genuine announcement, replayed",
          () => Promise.resolve({ bytes: listing.announcement, signatures: listing.signatures }),
          "KEY_MISMATCH",
        ],
      ];
      for (const [what, make, code] of cases) {
        const signed = await make();
        await assert.rejects(client.announce(signed), (err) => isSfsError(err, code), what);
      }
      // alice's listing is untouched, and nothing else appeared.
      const found = await client.search(genuine.name);
      assert.equal(found.length, 1);
      assert.equal((await verifyListing(found[0])).announcement.address, genuine.address);
      assert.ok(!client.closed, "a refused announcement does not end the connection");
    });
  } finally {
    client.close();
  }

  // mallory with access to the database plants her announcements in alice's row; the users
  // table, and so the owner key each listing carries, stays alice's.
  const db = new DatabaseSync(server.db);
  try {
    const planted: Array<[string, () => Promise<SignedAnnouncement>]> = [
      [
        "alice's name and key, mallory's signatures",
        () => forge(mallory, { ...genuine, address: "127.0.0.1:1" }),
      ],
      ["alice's name, mallory's key and signatures", () =>
        forge(mallory, {
          ...genuine,
          ownerFingerprint: mallory.public.fingerprint,
          address: "127.0.0.1:1",
        })],
    ];
    for (const [what, make] of planted) {
      await t.step(
        `planted in the database, ${what}: refused by sfs get and sfs search`,
        async () => {
          const forged = await make();
          db.prepare("UPDATE announcements SET announcement = ?, signature = ? WHERE id = ?").run(
            forged.bytes,
            encodeSignatureSet(forged.signatures),
            sharing.id,
          );
          // Were the signature not checked, get would try 127.0.0.1:1 and fail to connect.
          const result = await sfs(bobHome, ["get", sharing.id, "--out", out, "--yes", "--json"]);
          assertFails(result, "BAD_SIGNATURE", 3);
          const search = await sfs(bobHome, ["search", genuine.name, "--json"]);
          assert.equal(search.code, 0, search.stderr);
          assert.match(search.stderr, /1 listing\(s\) failed signature verification/);
          assert.ok(!search.stdout.includes(sharing.id));
        },
      );
    }
  } finally {
    db.close();
  }
  assert.deepEqual(await listTree(out), []);
});

Deno.test("a sender sharing --to bob gives nothing to a replay of bob's hello and request", async () => {
  await using shared = await shareToBob();
  const { dir, bobHome, sharing, ticket, port } = shared;

  // A genuine download by bob, recorded on the way to alice: HELLO, then flight 3
  // (INITIATOR_AUTH and the early GET, two handshake records), then RECEIPT.
  const recorded: WireFrame[] = [];
  {
    await using tap = startRelay(port, {
      up: (frame) => {
        recorded.push({ kind: frame.kind, body: frame.body.slice() });
        return [frame];
      },
    });
    doneOf(await get(bobHome, withPort(ticket, tap.port), join(dir.path, "o")));
  }
  assert.deepEqual(recorded.map((f) => f.kind), [
    FrameKind.PLAIN,
    FrameKind.SEALED,
    FrameKind.SEALED,
    FrameKind.SEALED,
  ]);

  // mallory replays flights 1 and 3 to a fresh connection: alice answers with a fresh ephemeral
  // key, so the recorded INITIATOR_AUTH does not open under this session's handshake key (§6.7),
  // and alice closes without a word: no ERROR, no manifest, no chunk.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const after: WireFrame[] = [];
  try {
    await writeAll(conn, frameBytes(recorded[0]));
    const reply = await readFrame(conn);
    assert.equal(reply?.body[0], MessageType.HELLO_REPLY);
    assert.equal((await readFrame(conn))?.kind, FrameKind.SEALED, "RESPONDER_AUTH");
    await writeAll(conn, concat(frameBytes(recorded[1]), frameBytes(recorded[2])));
    for (let frame = await readFrame(conn); frame !== null; frame = await readFrame(conn)) {
      after.push(frame);
    }
  } finally {
    closeQuietly(conn);
  }
  assert.deepEqual(after, []);
  const failed = await sharing.proc.nextEvent((e) => e.event === "transfer_failed");
  assert.equal(failed.code, "DECRYPT_FAILED");
  assert.equal(startsOf(sharing.proc), 1, "only bob's genuine transfer started");
});
