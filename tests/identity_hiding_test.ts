/**
 * Who learns what in the handshake (docs/PROTOCOL.md §6.7), end to end over 127.0.0.1 against
 * the real `sfs send`, `sfs get` and `sfs server`: a passive tap on a transfer and on an index
 * session, an impostor without the expected key, a prober claiming a recipient's key, and a
 * prober refused with its own key. (Replayed flights: attacks_test.ts; versions and malformed
 * records: src/wire/channel_test.ts and src/wire/handshake_test.ts.)
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Bytes, concat, toHex, utf8 } from "../src/crypto/bytes.ts";
import { formatFingerprint, type Identity } from "../src/crypto/identity.ts";
import { isSfsError } from "../src/errors.ts";
import { IndexClient } from "../src/index/client/client.ts";
import { HANDSHAKE_TIMEOUT_MS } from "../src/net/listener.ts";
import { parseTicket } from "../src/peer/ticket.ts";
import { FRAME_HEADER_BYTES, FrameKind, type Transport } from "../src/wire/frame.ts";
import { initiate, respond } from "../src/wire/handshake.ts";
import { HANDSHAKE_RECORD_BYTES } from "../src/wire/handshake_record.ts";
import { MessageType } from "../src/wire/messages.ts";
import { closeQuietly } from "../src/closable.ts";
import { tempDir } from "./harness.ts";
import { testHome, testIdentity } from "./identities.ts";
import { seedServerIdentity, sfs, shareToBob, startServer } from "./index_fixture.ts";
import { type LoopbackServer, serveLoopback } from "./loopback_server.ts";
import { doneOf, errorOf, get, listTree, shareFile, withPort, writeAll } from "./peers.ts";

/** Every byte that passed a tap, each direction. */
interface Recording {
  up: Uint8Array[];
  down: Uint8Array[];
}

/** A byte-for-byte relay to 127.0.0.1:`targetPort` that records both directions. */
function startTap(targetPort: number): LoopbackServer & { recording: Recording } {
  const recording: Recording = { up: [], down: [] };
  const pipe = async (from: Deno.Conn, to: Deno.Conn, into: Uint8Array[]) => {
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (let n = await from.read(buffer); n !== null; n = await from.read(buffer)) {
        into.push(buffer.slice(0, n));
        await writeAll(to, buffer.subarray(0, n));
      }
    } catch {
      // Either side went away.
    }
    closeQuietly(to);
  };
  const server = serveLoopback(async (client, track) => {
    const target = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
    track(target);
    await Promise.all([
      pipe(client, target, recording.up),
      pipe(target, client, recording.down),
    ]);
  });
  return Object.assign(server, { recording });
}

/** What must not appear on the wire about `identity`: its keys, encodings and fingerprint. */
function needlesOf(name: string, identity: Identity): [string, Bytes][] {
  const encoded = identity.public.encoded;
  const oaepLength = (encoded[1] << 8) | encoded[2];
  const oaep = encoded.subarray(3, 3 + oaepLength);
  const pssLength = (encoded[3 + oaepLength] << 8) | encoded[4 + oaepLength];
  const pss = encoded.subarray(5 + oaepLength, 5 + oaepLength + pssLength);
  const ed25519 = encoded.subarray(encoded.length - 32);
  const fingerprint = identity.public.fingerprint;
  return [
    [`${name}'s encoded identity`, encoded],
    [`32 bytes of ${name}'s OAEP modulus`, oaep.subarray(100, 132)],
    [`32 bytes of ${name}'s PSS modulus`, pss.subarray(100, 132)],
    [`${name}'s Ed25519 key`, ed25519],
    [`${name}'s fingerprint`, fingerprint],
    [`${name}'s fingerprint as text`, utf8(formatFingerprint(fingerprint))],
    [`${name}'s fingerprint in hex`, utf8(toHex(fingerprint))],
  ];
}

/** Asserts `haystack` holds none of the needles. */
function assertNoneIn(haystack: Uint8Array, needles: [string, Bytes][]): void {
  const text = toHex(haystack);
  for (const [what, needle] of needles) {
    assert.ok(needle.length >= 16, `${what} is a real needle`);
    // Hex of both, compared at even offsets only, is a byte-aligned search.
    const hex = toHex(needle);
    for (let at = text.indexOf(hex); at !== -1; at = text.indexOf(hex, at + 1)) {
      assert.ok(at % 2 !== 0, `${what} appears on the wire at byte ${at / 2}`);
    }
  }
}

/** The frames in `bytes` (kind and body length), as a reader would split them. */
function framesOf(bytes: Uint8Array): { kind: number; length: number; type: number }[] {
  const frames: { kind: number; length: number; type: number }[] = [];
  for (let at = 0; at + FRAME_HEADER_BYTES <= bytes.length;) {
    const length = new DataView(bytes.buffer, bytes.byteOffset + at).getUint32(0) - 1;
    frames.push({ kind: bytes[at + 4], length, type: bytes[at + FRAME_HEADER_BYTES] });
    at += FRAME_HEADER_BYTES + length;
  }
  return frames;
}

/** A transport that records what it read. */
class Recorder implements Transport {
  readonly reads: Uint8Array[] = [];
  constructor(readonly inner: Deno.Conn) {}
  async read(buffer: Uint8Array): Promise<number | null> {
    const n = await this.inner.read(buffer);
    if (n !== null) this.reads.push(buffer.slice(0, n));
    return n;
  }
  write(data: Uint8Array): Promise<number> {
    return this.inner.write(data);
  }
  close(): void {
    this.inner.close();
  }
}

/** `claimed`'s public identity on mallory's private keys: a claim without the key. */
function claiming(claimed: Identity, mallory: Identity): Identity {
  return {
    public: claimed.public,
    oaepPrivate: mallory.oaepPrivate,
    pssPrivate: mallory.pssPrivate,
    ed25519Private: mallory.ed25519Private,
  };
}

/**
 * Runs the handshake to `port` as `identity`; resolves to the error code it ends with and the
 * frames it was sent.
 */
async function probe(
  port: number,
  identity: Identity,
): Promise<{ code: string; frames: ReturnType<typeof framesOf> }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const recorder = new Recorder(conn);
  const code = await runProbe(recorder, identity);
  return { code, frames: framesOf(concat(...recorder.reads)) };
}

async function runProbe(conn: Recorder, identity: Identity): Promise<string> {
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
  await using shared = await shareToBob();
  const { port, sharing } = shared;
  const [bob, carol, mallory] = await Promise.all(
    ["bob", "carol", "mallory"].map((name) => testIdentity(name)),
  );

  // In v1 the sender judged the HELLO's claimed key before any proof: bob's key got a reply,
  // carol's an ABORT REFUSED. Both claims must now end the same way, at the signature check.
  const asBob = await probe(port, claiming(bob, mallory));
  const asCarol = await probe(port, claiming(carol, mallory));
  assert.equal(asBob.code, "BAD_SIGNATURE");
  assert.equal(asCarol.code, "BAD_SIGNATURE");
  // mallory with her own key is refused only after her signature checked out, and learns no
  // data: after the sender's flight 2, one padded record (the sealed ERROR), then the end.
  const asMallory = await probe(port, mallory);
  assert.equal(asMallory.code, "REFUSED");
  const record = { kind: FrameKind.SEALED, length: HANDSHAKE_RECORD_BYTES };
  assert.deepEqual(asMallory.frames.map(({ kind, length }) => ({ kind, length })), [
    { kind: FrameKind.PLAIN, length: 1 + 2 + 2 + 64 },
    record,
    record,
  ]);
  assert.equal(asMallory.frames[0].type, MessageType.HELLO_REPLY);
  assert.equal(sharing.proc.events.filter((e) => e.event === "start").length, 0);
});

Deno.test("a tap on a transfer sees neither party's identity, fingerprint nor the file id", async () => {
  await using s = await shareFile("tapped.bin", 300_000);
  await using tap = startTap(s.ready.port);
  const done = doneOf(await get(s.bob, withPort(s.ready.ticket, tap.port), join(s.dir.path, "o")));
  assert.equal(done.sha256, s.sha256);
  const [alice, bob] = await Promise.all([testIdentity("alice"), testIdentity("bob")]);
  const fileId = parseTicket(s.ready.ticket).fileId;
  const needles: [string, Bytes][] = [
    ...needlesOf("alice", alice),
    ...needlesOf("bob", bob),
    ["the file id", fileId],
    ["the file id in hex", utf8(toHex(fileId))],
  ];
  const up = concat(...tap.recording.up);
  const down = concat(...tap.recording.down);
  assertNoneIn(up, needles);
  assertNoneIn(down, needles);
  // The needles are real: the same search finds them where they are.
  assert.throws(() => assertNoneIn(concat(up, alice.public.encoded), needles));
  // Flight 1 was one HELLO; flight 3 two padded records, one of them the GET.
  const sent = framesOf(up);
  assert.deepEqual(sent.slice(0, 3).map((f) => f.length), [
    1 + 2 + 2 + 64,
    HANDSHAKE_RECORD_BYTES,
    HANDSHAKE_RECORD_BYTES,
  ]);
});

Deno.test("a tap on an index session sees neither the client's nor the server's identity", async () => {
  await using dir = await tempDir();
  const serverDir = join(dir.path, "server");
  await seedServerIdentity(serverDir);
  await using server = await startServer(serverDir);
  await using tap = startTap(server.port);
  const carolHome = await testHome(dir.path, "carol");
  const via = ["--server", `127.0.0.1:${tap.port}`, "--server-fingerprint", server.fingerprint];
  const registered = await sfs(carolHome, ["register", "--user", "carol", ...via]);
  assert.equal(registered.code, 0, registered.stderr);
  const searched = await sfs(carolHome, ["search", "anything", "--json", ...via]);
  assert.equal(searched.code, 0, searched.stderr);
  // seedServerIdentity() gave the server the "server" test identity.
  const needles = [
    ...needlesOf("carol", await testIdentity("carol")),
    ...needlesOf("the server", await testIdentity("server")),
  ];
  assertNoneIn(concat(...tap.recording.up), needles);
  assertNoneIn(concat(...tap.recording.down), needles);
});

Deno.test("an impostor without the sender's key gets KEY_MISMATCH and one HELLO, nothing more", async () => {
  await using s = await shareFile("guarded.bin", 5000);
  const mallory = await testIdentity("mallory");
  const received: Uint8Array[] = [];
  // A complete version 2 responder, with mallory's own keys instead of alice's.
  await using impostor = serveLoopback(async (conn) => {
    const recorder = new Recorder(conn);
    await respond(recorder, mallory, { idleTimeoutMs: 10_000 }).finally(() => {
      received.push(...recorder.reads);
    });
  });
  const out = join(s.dir.path, "out");
  const result = await get(s.bob, withPort(s.ready.ticket, impostor.port), out);
  assert.equal(result.code, 3, result.stderr);
  assert.equal(errorOf(result).code, "KEY_MISMATCH");
  assert.deepEqual(await listTree(out), []);
  // Exactly one frame came from bob: his HELLO, which names no one.
  const bytes = concat(...received);
  assert.equal(bytes.length, FRAME_HEADER_BYTES + 1 + 2 + 2 + 64);
  assert.deepEqual(framesOf(bytes), [{
    kind: FrameKind.PLAIN,
    length: 69,
    type: MessageType.HELLO,
  }]);
  assertNoneIn(bytes, needlesOf("bob", await testIdentity("bob")));
});

Deno.test("sfs server waits past its handshake deadline for a person deciding on its key", async () => {
  // The client checks the server's key between flights 2 and 3, where a person may be reading a
  // fingerprint on a prompt (§6.6, §12.1): the server's 10 s handshake deadline ends with its
  // own flight, as it ended with its reply in version 1.
  await using dir = await tempDir();
  const serverDir = join(dir.path, "server");
  await seedServerIdentity(serverDir);
  await using server = await startServer(serverDir);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const client = await IndexClient.connect(conn, await testIdentity("carol"), {
    verifyServer: () => new Promise((resolve) => setTimeout(resolve, HANDSHAKE_TIMEOUT_MS + 1000)),
  });
  try {
    assert.deepEqual(await client.search("anything"), []);
  } finally {
    client.close();
  }
});
