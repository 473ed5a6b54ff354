/**
 * Interrupted transfers: a sender killed mid-transfer, a receiver killed mid-transfer, a full
 * disk at the receiver, and what a resume may and may not reuse.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEFAULT_CHUNK_SIZE } from "../src/crypto/stream.ts";
import { parseTicket } from "../src/peer/ticket.ts";
import { testIdentity } from "./identities.ts";
import { initiate } from "../src/wire/handshake.ts";
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
  shareFile,
  type Sharing,
  startProxy,
  startSender,
  withPort,
} from "./peers.ts";
import { stalledGet, stalledOrExited, startStallingProxy } from "./stall.ts";

const MIB = 1024 * 1024;
const CHUNK = DEFAULT_CHUNK_SIZE;

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
  assert.equal(broken.code, 4, broken.stderr);
  assert.equal(errorOf(broken).code, "CONNECTION_CLOSED");
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
  assert.deepEqual(await listTree(out), ["big.bin", "big.bin.sfs-proof"]);
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
    assert.equal(errorOf(broken).code, "CONNECTION_CLOSED");
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
  assert.deepEqual(await listTree(out), ["doc.bin", "doc.bin.sfs-proof"]);
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
      const chunk = await channel.receiveChunkOrMessage(DEFAULT_CHUNK_SIZE + 16);
      assert.equal(chunk.type, "chunk");
      assert.equal(chunk.type === "chunk" && chunk.data.length, 5 + 16);
    } finally {
      channel.close();
    }
  });
});

Deno.test("sfs send keeps serving others when a receiver is killed mid-transfer", async () => {
  await using s = await shareFile("big.bin", 16 * MIB);
  const { dir, bob, sender, source, ready } = s;
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
  await using s = await shareFile("big.bin", 12 * MIB);
  const { dir, bob, ready } = s;
  const out = join(dir.path, "out");
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
  assert.equal(await sha256File(join(out, "big.bin")), s.sha256);
});

Deno.test("sfs get --json reports resumed_from 0 for a fresh download", async () => {
  await using s = await shareFile("small.bin", 1000);
  const { dir, bob, ready } = s;
  const result = await runSfs(["get", ready.ticket, "--out", join(dir.path, "o"), "--json"], {
    home: bob,
  });
  assert.equal(doneOf(result).resumed_from, 0);
});

/** A download of `name` cut inside chunk 1: chunk 0 is kept for a resume. */
async function cutAfterOneChunk(s: Sharing, out: string): Promise<void> {
  await using proxy = startProxy(s.ready.port, { cutAfterBytes: Math.floor(1.5 * CHUNK) });
  const cut = await get(s.bob, withPort(s.ready.ticket, proxy.port), out);
  assert.equal(errorOf(cut).code, "CONNECTION_CLOSED", cut.stderr);
}

Deno.test("sfs get never writes through a link planted as the part file", async (t) => {
  await using s = await shareFile("data.bin", 3 * CHUNK);
  const cases: Array<[string, (outside: string, part: string) => Promise<void>]> = [
    ["a symlink to a file outside --out", (outside, part) => Deno.symlink(outside, part)],
    ["a hard link to a file outside --out", (outside, part) => Deno.link(outside, part)],
  ];
  let n = 0;
  for (const [what, plant] of cases) {
    await t.step(what, async () => {
      const out = join(s.dir.path, `out-${n}`);
      const outside = join(s.dir.path, `outside-${n++}.txt`);
      await cutAfterOneChunk(s, out);
      assert.equal((await stateOf(out, "data.bin")).verified, CHUNK);
      // Someone with write access to --out swaps the part for a link to another file of theirs
      // (at least as long as the state claims, so a size check alone lets it through).
      const part = join(out, "data.bin.sfs-part");
      await Deno.remove(part);
      await randomFile(outside, 2 * CHUNK);
      const before = await sha256File(outside);
      await plant(outside, part);
      const result = await get(s.bob, s.ready.ticket, out);
      assert.equal(await sha256File(outside), before, "the outside file is untouched");
      const done = doneOf(result);
      assert.equal(done.resumed_from, 0);
      assert.match(result.stderr, /Starting "data\.bin" over/);
      assert.equal(await sha256File(join(out, "data.bin")), s.sha256);
      assert.deepEqual(await listTree(out), ["data.bin", "data.bin.sfs-proof"]);
    });
  }
});

Deno.test("sfs get keeps a part whose every chunk arrived when the connection drops before FINAL, and finishes it", async () => {
  // A size that is a multiple of the chunk size: the state then says every byte is verified.
  await using s = await shareFile("whole.bin", 4 * CHUNK);
  const out = join(s.dir.path, "out");
  {
    let chunks = 0;
    await using proxy = startProxy(s.ready.port, {
      onFrame: (frame) => {
        if (frame.kind === FrameKind.CHUNK) chunks++;
        else if (chunks === 4) return "cut"; // the FINAL after the last chunk
      },
    });
    const cut = await get(s.bob, withPort(s.ready.ticket, proxy.port), out);
    assert.equal(errorOf(cut).code, "CONNECTION_CLOSED", cut.stderr);
  }
  assert.deepEqual(await listTree(out), ["whole.bin.sfs-part", "whole.bin.sfs-state"]);
  assert.equal((await stateOf(out, "whole.bin")).verified, 4 * CHUNK);
  // The next get asks again for the last chunk, so the sender signs this session's transfer.
  const done = doneOf(await get(s.bob, s.ready.ticket, out));
  assert.equal(done.resumed_from, 3 * CHUNK);
  assert.equal(await sha256File(join(out, "whole.bin")), s.sha256);
  assert.deepEqual(await listTree(out), ["whole.bin", "whole.bin.sfs-proof"]);
});

Deno.test("sfs get discards, and says why, a resume state the sender would refuse", async (t) => {
  await using s = await shareFile("doc.bin", 3 * CHUNK);
  const cases: Array<[string, Record<string, number>, RegExp]> = [
    ["an offset that is not a chunk boundary", { verified: 1000 }, /chunk boundary/],
    [
      "a chunk size the sender does not use",
      { verified: CHUNK / 2, chunkSize: CHUNK / 2 },
      /refused to resume/,
    ],
  ];
  let n = 0;
  for (const [what, edit, why] of cases) {
    await t.step(what, async () => {
      const out = join(s.dir.path, `out-${n++}`);
      await cutAfterOneChunk(s, out);
      const statePath = join(out, "doc.bin.sfs-state");
      const state = JSON.parse(await Deno.readTextFile(statePath));
      await Deno.writeTextFile(statePath, JSON.stringify({ ...state, ...edit }));
      for (let run = 0; run < 2; run++) {
        // Never the same failure forever: the first run starts over and finishes.
        const result = await get(s.bob, s.ready.ticket, out, ["--force"]);
        const done = doneOf(result);
        assert.equal(done.resumed_from, 0);
        if (run === 0) assert.match(result.stderr, why);
        assert.equal(await sha256File(join(out, "doc.bin")), s.sha256);
        assert.deepEqual(await listTree(out), ["doc.bin", "doc.bin.sfs-proof"]);
      }
    });
  }
});

Deno.test("sfs get records progress every few seconds, so a killed receiver resumes", async () => {
  // 2 MiB: far below the byte interval, so only the time interval can record progress.
  await using s = await shareFile("slow.bin", 8 * CHUNK);
  const out = join(s.dir.path, "out");
  await using slow = startStallingProxy(s.ready.port, 6, { delayMs: 600 });
  await using receiver = startSfs(
    ["get", withPort(s.ready.ticket, slow.port), "--out", out, "--json"],
    { home: s.bob },
  );
  await stalledOrExited(slow, receiver);
  const state = await stateOf(out, "slow.bin").catch(() => ({ verified: 0 }));
  assert.ok(state.verified > 0, "a checkpoint within 3.6 s of receiving");
  receiver.kill("SIGKILL");
  await receiver.status;
  const done = doneOf(await get(s.bob, s.ready.ticket, out));
  assert.equal(done.resumed_from, state.verified);
  assert.equal(await sha256File(join(out, "slow.bin")), s.sha256);
});

Deno.test("sfs get stops on SIGINT keeping its verified chunks, exits 130 and resumes", async () => {
  await using s = await shareFile("big.bin", 12 * CHUNK);
  const out = join(s.dir.path, "out");
  // Version 2 sends the GET in the handshake, so the chunks are on their way while the receiver
  // still finishes its handshake: stalledGet waits until it has stored one.
  await using stalled = await stalledGet(s, "big.bin", out, 7);
  const { receiver } = stalled;
  Deno.kill(receiver.pid, "SIGINT");
  const status = await receiver.status;
  await receiver.drained();
  assert.equal(status.code, 130, receiver.stderrText());
  const interrupted = errorOf({ code: 130, stdout: "", stderr: receiver.stderrText(), events: [] });
  assert.equal(interrupted.code, "INTERRUPTED");
  assert.deepEqual(await listTree(out), ["big.bin.sfs-part", "big.bin.sfs-state"]);
  // Chunks the proxy forwarded may still be unread in the socket when the signal lands.
  const { verified } = await stateOf(out, "big.bin");
  assert.ok(verified > 0 && verified <= 7 * CHUNK && verified % CHUNK === 0, `${verified}`);
  assert.match(interrupted.message, new RegExp(`\\(${verified} of ${12 * CHUNK} bytes kept\\)`));
  const done = doneOf(await get(s.bob, s.ready.ticket, out));
  assert.equal(done.resumed_from, verified);
  assert.equal(await sha256File(join(out, "big.bin")), s.sha256);
});
