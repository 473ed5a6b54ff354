/**
 * A real `sfs server` under hostile connections: random bytes, an oversized length prefix,
 * half-open connections, connections that stall mid-frame or trickle a byte every 500 ms
 * (slowloris), and floods beyond its limits. The server must close each hostile connection
 * itself, and a real `sfs search` must keep working during and after each.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Bytes } from "../src/crypto/bytes.ts";
import { generateEphemeral, NONCE_BYTES } from "../src/crypto/exchange.ts";
import { isSfsError } from "../src/errors.ts";
import type { IndexClient } from "../src/index/client/client.ts";
import { HANDSHAKE_TIMEOUT_MS } from "../src/net/listener.ts";
import { FRAME_HEADER_BYTES, FrameKind } from "../src/wire/frame.ts";
import { decodeMessage, encodeMessage, MessageType } from "../src/wire/messages.ts";
import { type SfsEvent, tempDir } from "./harness.ts";
import { testHome, testIdentity } from "./identities.ts";
import {
  connectClient,
  eventually,
  jsonError,
  madeUpAnnouncement,
  PASSWORD,
  seedServerIdentity,
  type ServerProcess,
  sfs,
  startServer,
} from "./index_fixture.ts";
import {
  closedWithin,
  closeQuietly,
  connectWatched,
  trickle,
  type Watched,
  writeAll,
} from "./peers.ts";

/** The server's --max-connections: small, so a handful of clients fill it. */
const MAX_CONNECTIONS = 4;
/** The server's limit on connections still in their handshake (DEFAULT_MAX_PENDING). */
const MAX_PENDING = 64;
/** Slack on top of a server deadline before a test calls it missed (a loaded 2-core machine). */
const SLACK_MS = 2_500;

/** Connects to the server, keeping the connection for cleanup. */
async function connectHostile(server: ServerProcess, all: Watched[]): Promise<Watched> {
  const watched = await connectWatched(server.port);
  all.push(watched);
  return watched;
}

/** The first frame of a reply, decoded if it is a plaintext handshake message. */
function firstMessage(reply: Uint8Array): ReturnType<typeof decodeMessage> | undefined {
  if (reply.length < FRAME_HEADER_BYTES + 1 || reply[4] !== FrameKind.PLAIN) return undefined;
  const length = new DataView(reply.buffer, reply.byteOffset).getUint32(0);
  const body = reply.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES - 1 + length);
  return decodeMessage(body[0], body.subarray(1));
}

/** The event the server logged about the connection from `address`. */
async function serverLog(server: ServerProcess, event: string, address: string): Promise<SfsEvent> {
  let found: SfsEvent | undefined;
  await eventually(
    () => {
      for (const line of server.proc.stdoutText().split("\n")) {
        if (!line.includes(`"${event}"`) || !line.includes(address)) continue;
        const parsed = JSON.parse(line) as SfsEvent;
        if (parsed.event === event && parsed.address === address) found = parsed;
      }
      return Promise.resolve(found !== undefined);
    },
    5_000,
    `the server logs ${event} for ${address}`,
  );
  return found!;
}

/** A PLAIN HELLO frame, complete; version 2's HELLO names no one, whoever `_name` is (§6.2). */
async function helloFrame(_name: string): Promise<Bytes> {
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

function randomBytes(length: number): Bytes {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

Deno.test("sfs server closes hostile connections and keeps serving a real search", async (t) => {
  await using dir = await tempDir();
  await using server = await startServer(await seedServerIdentity(join(dir.path, "server")), 0, [
    "--max-connections",
    String(MAX_CONNECTIONS),
  ]);
  // alice announces one file in-process and leaves; the listing stays (offline) to be found.
  const alice = await testIdentity("alice");
  const publisher = await connectClient(server, "alice");
  try {
    await publisher.register("alice", PASSWORD);
    const { signed } = await madeUpAnnouncement(alice, { user: "alice", name: "beacon.txt" });
    await publisher.announce(signed);
  } finally {
    publisher.close();
  }
  const bob = await testHome(dir.path, "bob");
  const search = () =>
    sfs(bob, [
      "search",
      "beacon",
      "--server",
      server.address,
      "--server-fingerprint",
      server.fingerprint,
      "--json",
    ]);
  /** A real client's search finds alice's file. */
  const assertSearchWorks = async (): Promise<void> => {
    const result = await search();
    assert.equal(result.code, 0, result.stderr);
    const line = result.stdout.split("\n").find((l) => l.startsWith("["));
    assert.deepEqual(JSON.parse(line ?? "[]").map((l: { name: string }) => l.name), [
      "beacon.txt",
    ]);
  };
  await assertSearchWorks();

  const hostiles: Watched[] = [];
  const clients: IndexClient[] = [];
  let trickling: Promise<number> = Promise.resolve(0);
  try {
    // The slow attacks start first and are checked last: they are only cut off at the
    // handshake deadline (10 s), and every step in between runs while they hold on.
    const flood: Watched[] = [];
    await t.step(
      `a flood of 100 silent connections: all beyond ${MAX_PENDING} closed at once`,
      async () => {
        for (let i = 0; i < 100; i++) flood.push(await connectHostile(server, hostiles));
        // Admission drops the oldest waiting connection for each one past the limit.
        await eventually(
          () => Promise.resolve(flood.filter((h) => !h.isOpen()).length >= 100 - MAX_PENDING),
          5_000,
          "the oldest silent connections are closed",
        );
        assert.ok(flood.slice(0, 100 - MAX_PENDING).every((h) => !h.isOpen()), "oldest first");
        assert.ok(flood.at(-1)!.isOpen());
      },
    );

    let stalled: Watched | undefined;
    let trickler: Watched | undefined;
    await t.step("a header stalled mid-frame, and a hello sent a byte every 500 ms", async () => {
      stalled = await connectHostile(server, hostiles);
      await writeAll(stalled.conn, new Uint8Array([0, 0, 8]));
      trickler = await connectHostile(server, hostiles);
      trickling = trickle(trickler, await helloFrame("mallory"), 500);
      // Both hold their slot while a real client searches.
      await assertSearchWorks();
      assert.ok(stalled.isOpen() && trickler.isOpen() && flood.at(-1)!.isOpen());
    });

    await t.step("64 KiB of random bytes: closed at once", async () => {
      const hostile = await connectHostile(server, hostiles);
      await writeAll(hostile.conn, randomBytes(64 * 1024)).catch(() => {});
      assert.ok(await closedWithin(hostile, SLACK_MS), "closed by the server");
      const dropped = await serverLog(server, "dropped", hostile.address);
      assert.ok(
        ["BAD_FRAME", "FRAME_TOO_LARGE"].includes(String(dropped.code)),
        String(dropped.code),
      );
      await assertSearchWorks();
    });

    await t.step("a length prefix of 0xFFFFFFF0: ABORT FRAME_TOO_LARGE, closed", async () => {
      const hostile = await connectHostile(server, hostiles);
      await writeAll(hostile.conn, new Uint8Array([0xff, 0xff, 0xff, 0xf0, FrameKind.PLAIN]));
      assert.ok(await closedWithin(hostile, SLACK_MS), "closed by the server");
      const abort = firstMessage((await hostile.closed).reply);
      assert.equal(abort?.type === MessageType.ABORT && abort.code, "FRAME_TOO_LARGE");
      assert.equal((await serverLog(server, "dropped", hostile.address)).code, "FRAME_TOO_LARGE");
      await assertSearchWorks();
    });

    await t.step("half-open connections: closed when the client's input ends", async () => {
      // Before any byte: nothing to answer.
      const silent = await connectHostile(server, hostiles);
      await silent.conn.closeWrite();
      assert.ok(await closedWithin(silent, SLACK_MS), "closed long before the deadline");
      // After a whole HELLO: the server answers it, then sees no request coming.
      const greeted = await connectHostile(server, hostiles);
      await writeAll(greeted.conn, await helloFrame("mallory"));
      await greeted.conn.closeWrite();
      assert.ok(await closedWithin(greeted, SLACK_MS), "closed long before the idle deadline");
      assert.equal(firstMessage((await greeted.closed).reply)?.type, MessageType.HELLO_REPLY);
      await assertSearchWorks();
    });

    await t.step(
      `beyond --max-connections ${MAX_CONNECTIONS}: BUSY, the others unaffected`,
      async () => {
        while (clients.length < MAX_CONNECTIONS) {
          // The last search's connection may take a moment to be released: retry a BUSY. A
          // connection takes its slot with its first request, the proof that it holds its keys.
          const client = await connectClient(server, "bob").then(async (client) => {
            await client.search("beacon").catch((err) => {
              client.close();
              throw err;
            });
            return client;
          }).catch((err) => {
            if (isSfsError(err, "BUSY")) return undefined;
            throw err;
          });
          if (client) clients.push(client);
          else await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const busy = await search();
        assert.equal(jsonError(busy).code, "BUSY", busy.stderr);
        // A raw client is refused the same way, and the server closes its connection.
        const extra = await connectHostile(server, hostiles);
        await writeAll(extra.conn, await helloFrame("mallory"));
        assert.ok(await closedWithin(extra, SLACK_MS), "closed by the server");
        const abort = firstMessage((await extra.closed).reply);
        assert.equal(abort?.type === MessageType.ABORT && abort.code, "BUSY");
        await serverLog(server, "rejected", extra.address);
        for (const client of clients) assert.equal((await client.search("beacon")).length, 1);
        clients.pop()!.close();
        await assertSearchWorks();
      },
    );

    await t.step("the slow connections are closed at the handshake deadline", async () => {
      const deadline = HANDSHAKE_TIMEOUT_MS + SLACK_MS;
      for (const [what, hostile] of [["stalled", stalled!], ["trickling", trickler!]] as const) {
        assert.ok(await closedWithin(hostile, deadline), `${what}: closed by the server`);
        const { afterMs } = await hostile.closed;
        assert.ok(afterMs <= deadline, `${what}: closed after ${afterMs} ms`);
      }
      // It trickled for seconds, each byte within the idle deadline, and still was cut off.
      assert.ok(await trickling >= 10, `sent ${await trickling} bytes`);
      for (const hostile of flood) {
        assert.ok(await closedWithin(hostile, deadline), "every silent connection is closed");
        assert.ok((await hostile.closed).afterMs <= deadline);
      }
      await assertSearchWorks();
    });
  } finally {
    for (const client of clients) client.close();
    for (const hostile of hostiles) closeQuietly(hostile.conn);
    await Promise.all(hostiles.map((h) => h.closed));
    await trickling;
  }
});
