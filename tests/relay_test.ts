/**
 * The blind relay in the index server (docs/PROTOCOL.md §13), end to end over real sockets on
 * 127.0.0.1: a sharing session serves with the real sender code whatever the relay hands it, and
 * a receiver dials the relay and fetches with the real receiver code.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { type ErrorCode, isSfsError, SfsError } from "../src/errors.ts";
import { dialRelay } from "../src/index/client/relay_dial.ts";
import { toHex } from "../src/crypto/bytes.ts";
import { formatFingerprint } from "../src/crypto/identity.ts";
import { FrameKind, FrameReader } from "../src/wire/frame.ts";
import { withType } from "../src/wire/channel.ts";
import { decodeMessage, encodeMessage, MessageType } from "../src/wire/messages.ts";
import { sha256File } from "./harness.ts";
import { closeQuietly, listTree, startProxy, writeAll } from "./peers.ts";
import { serveLoopback } from "./loopback_server.ts";
import {
  dialRelayTo,
  fetchRelayed,
  type RelayWorld,
  shareRelayed,
  startRelayWorld,
} from "./relay_fixture.ts";
import { testIdentity } from "./identities.ts";
import { decodeAnnouncement } from "../src/index/protocol/announcement.ts";

function code(expected: ErrorCode): (err: unknown) => boolean {
  return (err) => {
    if (isSfsError(err, expected)) return true;
    throw err;
  };
}

/** The events `relay_end` the server logged. */
function relayEnds(world: RelayWorld) {
  return world.log.filter((e) => e.event === "relay_end").map((e) => e.fields);
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
}

Deno.test("a receiver with an account gets a file by name through the relay, which logs the bytes", async () => {
  await using world = await startRelayWorld();
  await using share = await shareRelayed(world, "alice", { recipients: ["bob"] });
  const bob = await world.account("bob");
  // Shared with bob only: the index session must be bob's for the relay to see the listing.
  await assert.rejects(fetchRelayed(world, share, { identity: bob }), code("NOT_FOUND"));
  // As `sfs get NAME` does: the name resolves to a listing, whose file id the relay is asked for.
  const index = await world.client(bob, "bob");
  const [listing] = await index.resolve(share.file.name);
  const found = decodeAnnouncement(listing.announcement);
  assert.deepEqual(found.fileId, share.file.id);
  const result = await fetchRelayed(world, {
    owner: share.owner,
    file: { ...share.file, id: found.fileId },
  }, {
    identity: bob,
    auth: "bob",
  });
  assert.equal(result.bytes, share.file.size);
  assert.equal(await sha256File(result.path), toHex(share.file.sha256));
  assert.deepEqual(share.relayedTo, ["bob"], "the sender learns who it serves");
  await waitFor(() => relayEnds(world).length === 1, "the session end is logged");
  const [end] = relayEnds(world);
  assert.equal(end.id, toHex(share.file.id));
  assert.ok(Number(end.toReceiver) > share.file.size, "every payload byte was counted");
  assert.ok(Number(end.userBytes) >= Number(end.bytes), "counted for the sharing user");
});

Deno.test("a receiver with a ticket's relay token needs no account; other tokens are refused", async () => {
  await using world = await startRelayWorld();
  await using share = await shareRelayed(world, "alice", { recipients: ["carol"] });
  await using other = await shareRelayed(world, "dave");
  const stranger = await testIdentity("erin");
  const token = share.session.relayTokenFor(share.file.id)!;
  assert.equal(token.length, 16);
  const result = await fetchRelayed(world, share, { identity: stranger, token });
  assert.equal(await sha256File(result.path), toHex(share.file.sha256));
  assert.deepEqual(share.relayedTo, [undefined], "no account, no name");
  await t_refused(world, share.file.id, other.session.relayTokenFor(other.file.id)!, stranger);
  await t_refused(world, share.file.id, new Uint8Array(16), stranger);
  // No token and not allowed to see the listing: as if it did not exist.
  await assert.rejects(
    dialRelayTo(world, share.file.id, { identity: stranger }),
    code("NOT_FOUND"),
  );
  // Never an open proxy: a file id nobody shares.
  await assert.rejects(
    dialRelayTo(world, crypto.getRandomValues(new Uint8Array(16)), { identity: stranger }),
    code("NOT_FOUND"),
  );
});

async function t_refused(
  world: RelayWorld,
  fileId: Uint8Array,
  token: Uint8Array,
  identity: Awaited<ReturnType<typeof testIdentity>>,
): Promise<void> {
  await assert.rejects(dialRelayTo(world, fileId, { identity, token }), code("REFUSED"));
}

Deno.test("a sharing session registers its relay token again after it reconnects", async () => {
  await using world = await startRelayWorld();
  await using share = await shareRelayed(world, "alice", { recipients: ["carol"] });
  const stranger = await testIdentity("erin");
  const token = share.session.relayTokenFor(share.file.id)!;
  // The index connection fails: the server forgets its tokens with it.
  share.connections[0].close();
  await waitFor(() => share.connections.length === 2, "the session reconnected");
  await waitFor(() => !share.connections[1].closed, "and is online");
  // The same token (the one its tickets carry) works on the new connection.
  for (let attempt = 0;; attempt++) {
    try {
      const result = await fetchRelayed(world, share, { identity: stranger, token });
      assert.equal(await sha256File(result.path), toHex(share.file.sha256));
      break;
    } catch (err) {
      // Until the re-announce and its RELAY_TOKEN are through, the token names no sender.
      if (!isSfsError(err, "REFUSED") || attempt > 100) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
});

Deno.test("a file unshared while shared is no longer relayed, not even with its token", async () => {
  await using world = await startRelayWorld();
  await using share = await shareRelayed(world, "alice");
  const stranger = await testIdentity("erin");
  const token = share.session.relayTokenFor(share.file.id)!;
  (await dialRelayTo(world, share.file.id, { identity: stranger, token })).close();
  await share.session.unshare([share.file.id]);
  await assert.rejects(
    dialRelayTo(world, share.file.id, { identity: stranger, token }),
    code("REFUSED"),
  );
  await assert.rejects(
    dialRelayTo(world, share.file.id, { identity: stranger }),
    code("NOT_FOUND"),
  );
});

/** A TCP forwarder to the server that records both directions and may flip one byte. */
function tap(world: RelayWorld, options: { flipAt?: number } = {}) {
  const up: Uint8Array[] = [];
  const down: Uint8Array[] = [];
  const server = serveLoopback(async (client, track) => {
    const upstream = await Deno.connect({ hostname: "127.0.0.1", port: world.port });
    track(upstream);
    let passed = 0;
    const copy = async (from: Deno.Conn, to: Deno.Conn, record: Uint8Array[], flip: boolean) => {
      const buffer = new Uint8Array(64 * 1024);
      try {
        for (let n = await from.read(buffer); n !== null; n = await from.read(buffer)) {
          const chunk = buffer.slice(0, n);
          record.push(chunk.slice());
          if (flip && options.flipAt !== undefined) {
            const at = options.flipAt - passed;
            if (at >= 0 && at < n) chunk[at] ^= 0x01;
            passed += n;
          }
          await writeAll(to, chunk);
        }
      } catch {
        // Either side went away.
      }
      closeQuietly(from);
      closeQuietly(to);
    };
    await Promise.all([copy(client, upstream, up, false), copy(upstream, client, down, true)]);
  });
  return {
    server,
    recorded: () => Buffer.concat([...up, ...down]),
    [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
  };
}

Deno.test("a tap between receiver and relay sees no plaintext, no file id, no key or fingerprint", async (t) => {
  await using world = await startRelayWorld();
  await using share = await shareRelayed(world, "alice");
  const bob = await world.account("bob");
  await using wire = tap(world);
  const result = await fetchRelayed(world, share, {
    identity: bob,
    auth: "bob",
    port: wire.server.port,
  });
  assert.equal(await sha256File(result.path), toHex(share.file.sha256));
  const seen = wire.recorded();
  assert.ok(seen.length > share.file.size, "the whole transfer went through the tap");
  await t.step("no plaintext and no file id", () => {
    for (let at = 0; at + 32 <= share.block.length; at += 32) {
      assert.equal(seen.indexOf(share.block.subarray(at, at + 32)), -1, `block bytes ${at}…`);
    }
    assert.equal(seen.indexOf(share.file.id), -1);
    assert.equal(seen.indexOf(Buffer.from(toHex(share.file.id))), -1);
  });
  // The handshake hides both identities (SECURITY.md, section 2.1), and so this leg shows none.
  await t.step("no public key or fingerprint of either party", () => {
    for (const who of [share.owner, bob]) {
      const fingerprint = who.public.fingerprint;
      assert.equal(seen.indexOf(fingerprint), -1);
      assert.equal(seen.indexOf(Buffer.from(formatFingerprint(fingerprint))), -1);
      const encoded = who.public.encoded;
      for (let at = 0; at + 64 <= encoded.length; at += 64) {
        assert.equal(seen.indexOf(encoded.subarray(at, at + 64)), -1, `identity bytes ${at}…`);
      }
    }
  });
});

Deno.test("a relay that flips a byte fails the transfer and leaves no file", async () => {
  await using world = await startRelayWorld();
  await using share = await shareRelayed(world, "alice");
  const bob = await world.account("bob");
  // Well into the payload, past the index session and the peers' handshake.
  await using wire = tap(world, { flipAt: 300_000 });
  const outDir = await Deno.makeTempDir({ dir: world.dir });
  const failed = await fetchRelayed(world, share, {
    identity: bob,
    auth: "bob",
    port: wire.server.port,
    outDir,
  }).then(() => undefined, (err) => err);
  assert.ok(
    isSfsError(failed) && ["CHUNK_AUTH_FAILED", "DECRYPT_FAILED"].includes(failed.code),
    `failed with ${failed}`,
  );
  assert.ok(!(await listTree(outDir)).includes(share.file.name), "no final file");
});

Deno.test("a relay pairing the receiver with another sender is refused before any data", async () => {
  await using world = await startRelayWorld();
  await using share = await shareRelayed(world, "alice");
  await using mallory = await shareRelayed(world, "mallory");
  const bob = await world.account("bob");
  // What a lying relay does: bob expects alice's key and file but is paired with mallory.
  const conn = await dialRelayTo(world, mallory.file.id, { identity: bob });
  const outDir = await Deno.makeTempDir({ dir: world.dir });
  const { fetchFile } = await import("../src/peer/receiver.ts");
  await assert.rejects(
    fetchFile(conn, bob, {
      fileId: share.file.id,
      expectedFingerprint: share.owner.public.fingerprint,
      outDir,
    }),
    code("KEY_MISMATCH"),
  );
  await Promise.allSettled(mallory.served);
  assert.deepEqual(mallory.started, [], "mallory never saw a GET");
  assert.deepEqual(await listTree(outDir), []);
});

/** Sends a sender leg's first frame and reads what the server answers before it closes. */
async function sendLegFrame(world: RelayWorld, first: Uint8Array): Promise<string | undefined> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: world.port });
  try {
    await writeAll(conn, first);
    const frame = await new FrameReader(conn).read(8192);
    if (frame === null || frame.kind !== FrameKind.PLAIN) return undefined;
    const message = decodeMessage(frame.body[0], frame.body.subarray(1));
    return message.type === MessageType.ABORT ? message.code : String(message.type);
  } finally {
    closeQuietly(conn);
  }
}

Deno.test("a pairing token is good once: a replayed or unknown RELAY_JOIN is refused", async () => {
  await using world = await startRelayWorld();
  await using share = await shareRelayed(world, "alice");
  const bob = await world.account("bob");
  await fetchRelayed(world, share, { identity: bob });
  assert.equal(share.legs.length, 1);
  assert.equal(await sendLegFrame(world, share.legs[0].firstBytes), "REFUSED");
  const unknown = frameOf({
    type: MessageType.RELAY_JOIN,
    pairingToken: crypto.getRandomValues(new Uint8Array(16)),
  });
  assert.equal(await sendLegFrame(world, unknown), "REFUSED");
});

function frameOf(message: Parameters<typeof encodeMessage>[0]): Uint8Array {
  const body = withType(message.type, encodeMessage(message));
  const out = new Uint8Array(5 + body.length);
  new DataView(out.buffer).setUint32(0, body.length + 1);
  out[4] = FrameKind.PLAIN;
  out.set(body, 5);
  return out;
}

Deno.test("the relay's limits: total, per user, per address, pairing and idle timeouts", async (t) => {
  const bob = await testIdentity("bob");
  await t.step("total → BUSY", async () => {
    await using world = await startRelayWorld({ maxSessions: 1 });
    await using share = await shareRelayed(world, "alice");
    const held = await dialRelayTo(world, share.file.id, { identity: bob });
    await assert.rejects(dialRelayTo(world, share.file.id, { identity: bob }), code("BUSY"));
    held.close();
    // The slot comes back once the session ended.
    await waitFor(() => world.server!.relaySessionCount === 0, "the session ended");
    (await dialRelayTo(world, share.file.id, { identity: bob })).close();
  });
  await t.step("per sharing user → RATE_LIMITED", async () => {
    await using world = await startRelayWorld({ maxPerUser: 1, maxPerAddress: 10 });
    await using share = await shareRelayed(world, "alice");
    await using second = await shareRelayed(world, "alice");
    await using third = await shareRelayed(world, "carol");
    const held = await dialRelayTo(world, share.file.id, { identity: bob });
    await assert.rejects(
      dialRelayTo(world, second.file.id, { identity: bob }),
      code("RATE_LIMITED"),
    );
    (await dialRelayTo(world, third.file.id, { identity: bob })).close();
    held.close();
  });
  await t.step("per receiver address → RATE_LIMITED", async () => {
    await using world = await startRelayWorld({ maxPerUser: 10, maxPerAddress: 1 });
    await using share = await shareRelayed(world, "alice");
    await using other = await shareRelayed(world, "carol");
    const held = await dialRelayTo(world, share.file.id, { identity: bob });
    await assert.rejects(
      dialRelayTo(world, other.file.id, { identity: bob }),
      code("RATE_LIMITED"),
    );
    held.close();
  });
  await t.step("a sender that does not dial in → CONNECTION_FAILED", async () => {
    await using world = await startRelayWorld({ pairingTimeoutMs: 200 });
    await using share = await shareRelayed(world, "alice");
    // A second sharing connection of the same file that registers a token and ignores pushes;
    // the most recent registration is the one asked.
    const mute = await world.client(share.owner, "alice");
    mute.listenForPushes(() => {});
    await mute.announce(share.signed);
    await mute.registerRelayToken(share.file.id, new Uint8Array(16));
    await assert.rejects(
      dialRelayTo(world, share.file.id, { identity: bob }),
      code("CONNECTION_FAILED"),
    );
    mute.close();
    assert.equal(world.server!.relaySessionCount, 0, "its slot is free again");
  });
  await t.step("silence both ways ends a session", async () => {
    await using world = await startRelayWorld({ idleTimeoutMs: 200 });
    await using share = await shareRelayed(world, "alice");
    const conn = await dialRelayTo(world, share.file.id, { identity: bob });
    // Nothing sent: the sender waits for a HELLO, the relay closes both legs.
    assert.equal(await conn.read(new Uint8Array(1)), null);
    conn.close();
    await waitFor(() => relayEnds(world).length === 1, "logged");
    assert.equal(relayEnds(world)[0].reason, "idle");
  });
});

Deno.test("stopping the server ends a relayed session", async () => {
  const world = await startRelayWorld();
  await using share = await shareRelayed(world, "alice");
  const bob = await testIdentity("bob");
  const conn = await dialRelayTo(world, share.file.id, { identity: bob });
  try {
    await world[Symbol.asyncDispose]();
    assert.equal(await conn.read(new Uint8Array(1)), null);
  } finally {
    conn.close();
  }
});

Deno.test("dialRelay() gives up at once when aborted while pairing", async () => {
  await using world = await startRelayWorld({ pairingTimeoutMs: 60_000 });
  await using share = await shareRelayed(world, "alice");
  const bob = await testIdentity("bob");
  // The most recent sharer of the file never dials in: pairing would wait a minute.
  const mute = await world.client(share.owner, "alice");
  mute.listenForPushes(() => {});
  await mute.announce(share.signed);
  await mute.registerRelayToken(share.file.id, new Uint8Array(16));
  const stop = new AbortController();
  const dialling = dialRelay({ host: "127.0.0.1", port: world.port, fileId: share.file.id }, {
    identity: bob,
    verifyServer: () => {},
    signal: stop.signal,
  });
  await waitFor(() => world.server!.relaySessionCount === 1, "pairing");
  stop.abort(new SfsError("INTERRUPTED", "Stopped"));
  await assert.rejects(dialling, code("INTERRUPTED"));
  mute.close();
});

Deno.test("an index server without relay tells a receiver RELAY_OFF", async () => {
  await using world = await startRelayWorld(false);
  await using share = await shareRelayed(world, "alice");
  const bob = await testIdentity("bob");
  await assert.rejects(dialRelayTo(world, share.file.id, { identity: bob }), code("RELAY_OFF"));
});

Deno.test("an interrupted relayed download resumes through the relay", async () => {
  await using world = await startRelayWorld();
  await using share = await shareRelayed(world, "alice", { blocks: 1024 });
  const bob = await world.account("bob");
  const outDir = await Deno.makeTempDir({ dir: world.dir });
  // A path that cuts the connection 2 MiB into the transfer, then a clean one.
  await using cut = startProxy(world.port, { cutAfterBytes: 2 * 1024 * 1024 });
  await assert.rejects(
    fetchRelayed(world, share, { identity: bob, port: cut.port, outDir }),
    (err) => isSfsError(err),
  );
  const result = await fetchRelayed(world, share, { identity: bob, outDir });
  assert.ok(result.resumedFrom > 0, "resumed");
  assert.equal(await sha256File(join(outDir, share.file.name)), toHex(share.file.sha256));
});
