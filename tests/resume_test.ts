/**
 * Interrupted transfers: a sender killed mid-transfer, a receiver killed mid-transfer, a full
 * disk at the receiver, and what a resume may and may not reuse.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEFAULT_CHUNK_SIZE } from "../src/crypto/stream.ts";
import { parseTicket } from "../src/peer/ticket.ts";
import { testIdentity } from "./identities.ts";
import { initiate } from "../src/wire/channel.ts";
import { MessageType } from "../src/wire/messages.ts";
import { constantTimeEqual } from "../src/crypto/bytes.ts";
import { isSfsError } from "../src/errors.ts";
import { FrameKind } from "../src/wire/frame.ts";
import {
  randomFile,
  runSfs,
  SFS_CMD,
  sha256File,
  startProcess,
  startSfs,
  tempDir,
} from "./harness.ts";
import { testHome } from "./identities.ts";
import {
  doneOf,
  errorOf,
  get,
  listTree,
  readyOf,
  startProxy,
  startSender,
  withPort,
} from "./peers.ts";

const MIB = 1024 * 1024;

/** The resume state `sfs get` left beside the part file. */
async function stateOf(out: string, name: string): Promise<{ verified: number; size: number }> {
  return JSON.parse(await Deno.readTextFile(join(out, `${name}.sfs-state`)));
}

Deno.test("sfs get resumes from the last verified chunk after the sender is killed", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testHome(dir.path, "bob");
  const source = join(dir.path, "big.bin");
  await randomFile(source, 24 * MIB);
  const out = join(dir.path, "out");

  await using first = startSender(alice, source);
  const ready = await readyOf(first);
  // The proxy holds the stream at chunk 10, kills the sender there, then lets the rest go: the
  // receiver has some verified chunks and then sees the connection die.
  let killed = false;
  await using proxy = startProxy(ready.port, {
    onFrame: async (frame) => {
      if (frame.kind === FrameKind.CHUNK && frame.index >= 12 && !killed) {
        killed = true;
        first.kill("SIGKILL");
        await first.status;
        return "cut";
      }
    },
  });
  const broken = await get(bob, withPort(ready.ticket, proxy.port), out);
  assert.equal(broken.code, 3, broken.stderr);
  assert.equal(errorOf(broken).code, "TRUNCATED");
  assert.deepEqual(await listTree(out), ["big.bin.sfs-part", "big.bin.sfs-state"]);
  const state = await stateOf(out, "big.bin");
  assert.ok(state.verified > 0 && state.verified % DEFAULT_CHUNK_SIZE === 0, `${state.verified}`);

  // The sender comes back on the same port, so the same ticket works; the file id is stable.
  await using second = startSfs(
    ["send", source, "--listen", `127.0.0.1:${ready.port}`, "--json"],
    { home: alice },
  );
  assert.equal((await readyOf(second)).id, ready.id);
  const done = doneOf(await get(bob, ready.ticket, out));
  assert.equal(done.resumed_from, state.verified);
  assert.equal(done.sha256, await sha256File(source));
  assert.equal(await sha256File(join(out, "big.bin")), await sha256File(source));
  assert.deepEqual(await listTree(out), ["big.bin"]);
});

Deno.test("sfs get starts over, and says why, when the interrupted file changed", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testHome(dir.path, "bob");
  const source = join(dir.path, "doc.bin");
  await randomFile(source, 6 * MIB);
  const out = join(dir.path, "out");
  {
    await using sender = startSender(alice, source);
    const ready = await readyOf(sender);
    await using proxy = startProxy(ready.port, { cutAfterBytes: 3 * MIB + 1000 });
    const broken = await get(bob, withPort(ready.ticket, proxy.port), out);
    assert.equal(errorOf(broken).code, "TRUNCATED");
    assert.equal((await stateOf(out, "doc.bin")).verified > 0, true);
  }
  // Same name, new content: a new file id, so the old part must not be reused.
  await randomFile(source, 6 * MIB);
  await using sender = startSender(alice, source);
  const ready = await readyOf(sender);
  const result = await get(bob, ready.ticket, out);
  const done = doneOf(result);
  assert.equal(done.resumed_from, 0);
  assert.match(result.stderr, /Starting "doc\.bin" over/);
  assert.equal(await sha256File(join(out, "doc.bin")), await sha256File(source));
  assert.deepEqual(await listTree(out), ["doc.bin"]);
});

Deno.test("sfs send refuses a resume that is not on a chunk boundary or past the end", async (t) => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const source = join(dir.path, "f.bin");
  await randomFile(source, 2 * DEFAULT_CHUNK_SIZE + 5);
  await using sender = startSender(alice, source);
  const ready = await readyOf(sender);
  const ticket = parseTicket(ready.ticket);
  const bob = await testIdentity("bob");
  for (const offset of [1000, DEFAULT_CHUNK_SIZE + 1, 3 * DEFAULT_CHUNK_SIZE]) {
    await t.step(`offset ${offset}`, async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: ready.port });
      const channel = await initiate(conn, bob, {
        verifyResponder: (peer) =>
          assert.ok(constantTimeEqual(peer.fingerprint, ticket.fingerprint)),
      });
      try {
        await channel.send({ type: MessageType.GET, fileId: ticket.fileId, offset });
        await assert.rejects(channel.receive(), (err) => isSfsError(err, "BAD_MESSAGE"));
      } finally {
        channel.close();
      }
    });
  }
  // A resume on a boundary inside the file is served.
  await t.step("offset 2 chunks is served", async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: ready.port });
    const channel = await initiate(conn, bob, { verifyResponder: () => {} });
    try {
      await channel.send({
        type: MessageType.GET,
        fileId: ticket.fileId,
        offset: 2 * DEFAULT_CHUNK_SIZE,
      });
      const manifest = await channel.expect(MessageType.MANIFEST);
      assert.equal(manifest.offset, 2 * DEFAULT_CHUNK_SIZE);
      const chunk = await channel.receive(DEFAULT_CHUNK_SIZE + 16);
      assert.equal(chunk.type, "chunk");
      assert.equal(chunk.type === "chunk" && chunk.data.length, 5 + 16);
    } finally {
      channel.close();
    }
  });
});

Deno.test("sfs send keeps serving others when a receiver is killed mid-transfer", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testHome(dir.path, "bob");
  const source = join(dir.path, "big.bin");
  await randomFile(source, 16 * MIB);
  await using sender = startSender(alice, source);
  const ready = await readyOf(sender);
  // The proxy stalls the stream, so the receiver is surely mid-transfer when it is killed.
  let stalled: () => void = () => {};
  const reached = new Promise<void>((resolve) => stalled = resolve);
  let unstall: () => void = () => {};
  const gate = new Promise<void>((resolve) => unstall = resolve);
  await using proxy = startProxy(ready.port, {
    onFrame: async (frame) => {
      if (frame.kind === FrameKind.CHUNK && frame.index === 5) {
        stalled();
        await gate;
      }
    },
  });
  try {
    await using receiver = startSfs(
      ["get", withPort(ready.ticket, proxy.port), "--out", join(dir.path, "out-1"), "--json"],
      { home: bob },
    );
    await reached;
    receiver.kill("SIGKILL");
    await receiver.status;
    const done = doneOf(await get(bob, ready.ticket, join(dir.path, "out-2")));
    assert.equal(done.sha256, await sha256File(source));
  } finally {
    unstall();
  }
  // The killed receiver's transfer ends as a failure on the sender's side, nothing worse.
  const failed = await sender.nextEvent((e) => e.event === "transfer_failed");
  assert.ok(["CONNECTION_CLOSED", "TIMEOUT"].includes(String(failed.code)), String(failed.code));
});

Deno.test("sfs get stops cleanly on a full disk and resumes once there is room", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testHome(dir.path, "bob");
  const source = join(dir.path, "big.bin");
  await randomFile(source, 12 * MIB);
  const out = join(dir.path, "out");
  await using sender = startSender(alice, source);
  const ready = await readyOf(sender);
  // A file size limit of 5 MiB stands in for a full disk: writes past it fail with EFBIG.
  // SIGXFSZ is ignored first (inherited across exec), as its default would kill the process.
  const script = `trap '' XFSZ; ulimit -f ${5 * 1024}; exec "$@"`;
  await using limited = startProcess(
    ["bash", "-c", script, "bash", ...SFS_CMD, "get", ready.ticket, "--out", out, "--json"],
    { home: bob },
  );
  const status = await limited.status;
  await limited.drained();
  assert.equal(status.code, 1, limited.stderrText());
  assert.match(limited.stderrText(), /"code":"IO"/);
  assert.deepEqual(await listTree(out), ["big.bin.sfs-part", "big.bin.sfs-state"]);
  const state = await stateOf(out, "big.bin");
  assert.ok(state.verified > 0 && state.verified <= 5 * MIB, `${state.verified}`);

  const done = doneOf(await get(bob, ready.ticket, out));
  assert.equal(done.resumed_from, state.verified);
  assert.equal(await sha256File(join(out, "big.bin")), await sha256File(source));
});

Deno.test("sfs get --json reports resumed_from 0 for a fresh download", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testHome(dir.path, "bob");
  const source = join(dir.path, "small.bin");
  await randomFile(source, 1000);
  await using sender = startSender(alice, source);
  const ready = await readyOf(sender);
  const result = await runSfs(["get", ready.ticket, "--out", join(dir.path, "o"), "--json"], {
    home: bob,
  });
  assert.equal(doneOf(result).resumed_from, 0);
});
