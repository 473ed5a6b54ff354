/**
 * A man in the middle between `sfs get` and `sfs send`: a TCP proxy that flips a byte or cuts
 * the sender's stream, and a ticket that names another key. Each must fail loudly and leave
 * nothing in the output folder, and the sender must keep serving afterwards.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { formatFingerprint } from "../src/crypto/identity.ts";
import { DEFAULT_CHUNK_SIZE } from "../src/crypto/stream.ts";
import { FrameKind } from "../src/wire/frame.ts";
import { sha256File } from "./harness.ts";
import { testIdentity } from "./identities.ts";
import {
  doneOf,
  errorOf,
  get,
  listTree,
  type ProxyOptions,
  type RelayedFrame,
  shareFile,
  type Sharing,
  startProxy,
  withPort,
} from "./peers.ts";

const CHUNK = DEFAULT_CHUNK_SIZE;
/**
 * Three chunks, the last half full: frames 4, 5 and 6 after HELLO_REPLY, RESPONDER_AUTH,
 * KEY_TRANSPORT and MANIFEST.
 */
const FILE_SIZE = 2.5 * CHUNK;

/** Asserts a clean transfer still works, i.e. the sender survived what came before. */
async function assertStillServes(s: Sharing): Promise<void> {
  const out = join(s.dir.path, "out-after");
  const done = doneOf(await get(s.bob, s.ready.ticket, out));
  assert.equal(done.sha256, s.sha256);
  assert.equal(await sha256File(join(out, "payload.bin")), s.sha256);
}

/**
 * Asserts a failed download left no final file: `out` is empty, or holds only a part file with
 * its resume state (chunks verified before the failure). Then a clean `get` into the same
 * folder must finish the file with the right content.
 */
async function assertNothingFinal(s: Sharing, out: string): Promise<void> {
  const left = await listTree(out);
  if (left.length > 0) {
    assert.deepEqual(
      left,
      ["payload.bin.sfs-part", "payload.bin.sfs-state"],
      "only a resumable part",
    );
    const done = doneOf(await get(s.bob, s.ready.ticket, out));
    assert.equal(done.sha256, s.sha256);
    assert.deepEqual(await listTree(out), ["payload.bin", "payload.bin.sfs-proof"]);
  }
}

/** Frame selector: the `nth` (from 0) frame of `kind` the sender sends. */
interface Target {
  kind: number;
  nth: number;
}

/** Proxy options that flip the byte at `at(body)` of the target frame; `hits` counts flips. */
function flipping(target: Target, at: (body: Uint8Array) => number, hits: { n: number }) {
  const seen = new Map<number, number>();
  return {
    onFrame: (frame: RelayedFrame) => {
      const nth = seen.get(frame.kind) ?? 0;
      seen.set(frame.kind, nth + 1);
      if (frame.kind === target.kind && nth === target.nth) {
        frame.body[at(frame.body)] ^= 0x01;
        hits.n++;
      }
    },
  } satisfies ProxyOptions;
}

Deno.test("sfs get refuses a stream with one flipped byte and leaves no final file", async (t) => {
  await using s = await shareFile("payload.bin", FILE_SIZE);
  const cases: Array<[string, Target, (body: Uint8Array) => number, string]> = [
    // 64 KiB into the first chunk: well past the handshake, in the payload ciphertext.
    [
      "a byte of the first chunk",
      { kind: FrameKind.CHUNK, nth: 0 },
      () => 64 * 1024,
      "CHUNK_AUTH_FAILED",
    ],
    [
      "a byte of the middle chunk",
      { kind: FrameKind.CHUNK, nth: 1 },
      (b) => b.length >> 1,
      "CHUNK_AUTH_FAILED",
    ],
    [
      "the tag of the last chunk",
      { kind: FrameKind.CHUNK, nth: 2 },
      (b) => b.length - 1,
      "CHUNK_AUTH_FAILED",
    ],
    [
      "a byte of the sealed manifest",
      { kind: FrameKind.SEALED, nth: 2 },
      () => 20,
      "DECRYPT_FAILED",
    ],
    // After every chunk was written to the part file: it must still be removed.
    [
      "a byte of the sealed final signatures",
      { kind: FrameKind.SEALED, nth: 3 },
      () => 20,
      "DECRYPT_FAILED",
    ],
    // The sender's identity and signatures travel in a handshake record (§6.3): a flipped byte
    // there fails its tag, and one in HELLO_REPLY changes the handshake keys (§6.5).
    [
      "a byte of the sender's sealed identity and signatures",
      { kind: FrameKind.SEALED, nth: 0 },
      (b) => b.length - 1,
      "DECRYPT_FAILED",
    ],
    [
      "the last byte of the hello reply",
      { kind: FrameKind.PLAIN, nth: 0 },
      (b) => b.length - 1,
      "DECRYPT_FAILED",
    ],
    [
      "a byte of the sealed key transport",
      { kind: FrameKind.SEALED, nth: 1 },
      () => 20,
      "DECRYPT_FAILED",
    ],
  ];
  let n = 0;
  for (const [name, target, at, code] of cases) {
    await t.step(`${name}: ${code}`, async () => {
      const hits = { n: 0 };
      await using proxy = startProxy(s.ready.port, flipping(target, at, hits));
      const out = join(s.dir.path, `out-${n++}`);
      const result = await get(s.bob, withPort(s.ready.ticket, proxy.port), out);
      assert.equal(hits.n, 1, "the proxy flipped exactly one byte");
      assert.equal(result.code, 3, result.stderr);
      assert.equal(errorOf(result).code, code);
      await assertNothingFinal(s, out);
    });
  }
  await assertStillServes(s);
});

Deno.test("sfs get fails on a stream cut short and leaves no final file", async (t) => {
  await using s = await shareFile("payload.bin", FILE_SIZE);
  const cutBefore = (target: Target): ProxyOptions => {
    const seen = new Map<number, number>();
    return {
      onFrame: (frame) => {
        const nth = seen.get(frame.kind) ?? 0;
        seen.set(frame.kind, nth + 1);
        return frame.kind === target.kind && nth === target.nth ? "cut" : undefined;
      },
    };
  };
  const cases: Array<[string, ProxyOptions, string[]]> = [
    ["in the handshake", { cutAfterBytes: 100 }, ["CONNECTION_CLOSED"]],
    ["inside the first chunk", { cutAfterBytes: CHUNK / 2 }, ["CONNECTION_CLOSED"]],
    ["inside the last chunk", { cutAfterBytes: Math.floor(2.3 * CHUNK) }, ["CONNECTION_CLOSED"]],
    ["between two chunks", cutBefore({ kind: FrameKind.CHUNK, nth: 1 }), ["CONNECTION_CLOSED"]],
    [
      "after the last chunk, before the final signatures",
      cutBefore({ kind: FrameKind.SEALED, nth: 1 }),
      ["CONNECTION_CLOSED"],
    ],
  ];
  let n = 0;
  for (const [name, options, codes] of cases) {
    await t.step(`${name}: ${codes.join(" or ")}`, async () => {
      await using proxy = startProxy(s.ready.port, options);
      const out = join(s.dir.path, `out-${n++}`);
      const result = await get(s.bob, withPort(s.ready.ticket, proxy.port), out);
      const code = errorOf(result).code;
      assert.ok(codes.includes(code), `${code}:\n${result.stderr}`);
      // A lost connection is a network failure wherever it happens (exit 4): what was
      // received is verified, so a retry resumes and can never accept bad data.
      assert.equal(result.code, 4, result.stderr);
      await assertNothingFinal(s, out);
    });
  }
  await assertStillServes(s);
});

Deno.test("sfs get refuses a sender whose key differs from the ticket", async () => {
  await using s = await shareFile("payload.bin", FILE_SIZE);
  const bobFingerprint = formatFingerprint((await testIdentity("bob")).public.fingerprint);
  const [rest, aliceFingerprint] = s.ready.ticket.split("#");
  assert.notEqual(aliceFingerprint, bobFingerprint);
  const out = join(s.dir.path, "out");
  const result = await get(s.bob, `${rest}#${bobFingerprint}`, out);
  assert.equal(result.code, 3, result.stderr);
  assert.equal(errorOf(result).code, "KEY_MISMATCH");
  assert.deepEqual(await listTree(out), [], "no final file, no part file");
  // The receiver hung up right after the handshake: the sender never announced the file.
  const next = await s.sender.nextEvent((e) =>
    e.event === "start" || e.event === "transfer_failed"
  );
  assert.equal(next.event, "transfer_failed");
  await assertStillServes(s);
});

Deno.test("sfs get through a proxy that changes nothing succeeds", async () => {
  // The control for the tests above: the proxy itself does not break transfers.
  await using s = await shareFile("payload.bin", FILE_SIZE);
  let frames = 0;
  await using proxy = startProxy(s.ready.port, { onFrame: () => void frames++ });
  const out = join(s.dir.path, "out");
  const done = doneOf(await get(s.bob, withPort(s.ready.ticket, proxy.port), out));
  assert.equal(done.sha256, s.sha256);
  assert.deepEqual(await listTree(out), ["payload.bin", "payload.bin.sfs-proof"]);
  // HELLO_REPLY, RESPONDER_AUTH, KEY_TRANSPORT, MANIFEST, three chunks, FINAL.
  assert.equal(frames, 8);
});
