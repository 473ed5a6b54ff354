/**
 * The core transfer end to end: real `sfs send` and `sfs get` processes over TCP on 127.0.0.1,
 * real files, checked by SHA-256.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { formatFingerprint } from "../src/crypto/identity.ts";
import { DEFAULT_CHUNK_SIZE } from "../src/crypto/stream.ts";
import { formatTicket } from "../src/peer/ticket.ts";
import { FrameKind } from "../src/wire/frame.ts";
import { randomFile, sha256File, tempDir } from "./harness.ts";
import { testHome, testIdentity } from "./identities.ts";
import {
  doneOf,
  errorOf,
  get,
  listTree,
  readyOf,
  shareFile,
  startProxy,
  startSender,
  withPort,
} from "./peers.ts";

const MIB = 1024 * 1024;

async function fingerprintOf(name: string): Promise<string> {
  return formatFingerprint((await testIdentity(name)).public.fingerprint);
}

Deno.test("sfs get receives files of edge sizes intact, leaving only the final file", async (t) => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testHome(dir.path, "bob");
  const chunk = DEFAULT_CHUNK_SIZE;
  for (const size of [0, 1, chunk - 1, chunk, chunk + 1, 64 * MIB]) {
    await t.step(`${size} bytes`, async () => {
      const name = `file-${size}.bin`;
      const source = join(dir.path, name);
      await randomFile(source, size);
      const want = await sha256File(source);
      await using sender = startSender(alice, source, ["--once"]);
      const ready = await readyOf(sender);
      assert.equal(ready.size, size);
      assert.equal(ready.sha256, want);

      const out = join(dir.path, `out-${size}`);
      const done = doneOf(await get(bob, ready.ticket, out));
      assert.equal(done.bytes, size);
      assert.equal(done.sha256, want);
      assert.equal(done.path, join(out, name));
      assert.equal(done.sender, await fingerprintOf("alice"));
      assert.equal(await sha256File(join(out, name)), want);
      assert.deepEqual(await listTree(out), [name, `${name}.sfs-proof`]);
      assert.equal((await sender.status).code, 0, sender.stderrText());
      // Keep the disk footprint of the run small: the 64 MiB case would otherwise stay twice.
      await Deno.remove(source);
      await Deno.remove(out, { recursive: true });
    });
  }
});

Deno.test("sfs send serves two receivers at the same time", async () => {
  await using s = await shareFile("shared.bin", 3 * MIB + 123);
  const { dir, bob, sender, ready, sha256: want } = s;

  // Receiver A goes through a proxy that holds back its first chunk until receiver B is done,
  // so the two transfers certainly overlap inside the one sender.
  const heldA = Promise.withResolvers<void>();
  const releaseA = Promise.withResolvers<void>();
  await using proxy = startProxy(ready.port, {
    onFrame: async (frame) => {
      // Frame 4: after HELLO_REPLY, RESPONDER_AUTH, KEY_TRANSPORT and MANIFEST (§6.1).
      if (frame.kind === FrameKind.CHUNK && frame.index === 4) {
        heldA.resolve();
        await releaseA.promise;
      }
    },
  });
  const a = get(bob, withPort(ready.ticket, proxy.port), join(dir.path, "out-a"));
  try {
    await Promise.race([
      heldA.promise,
      a.then((r) => {
        throw new Error(`Receiver A ended before its first chunk:\n${r.stderr}`);
      }),
    ]);
    const b = doneOf(await get(bob, ready.ticket, join(dir.path, "out-b")));
    assert.equal(b.sha256, want);
  } finally {
    releaseA.resolve();
  }
  assert.equal(doneOf(await a).sha256, want);

  // And two started at the very same moment.
  const [c, d] = await Promise.all([
    get(bob, ready.ticket, join(dir.path, "out-c")),
    get(bob, ready.ticket, join(dir.path, "out-d")),
  ]);
  assert.equal(doneOf(c).sha256, want);
  assert.equal(doneOf(d).sha256, want);
  for (const out of ["out-a", "out-b", "out-c", "out-d"]) {
    assert.equal(await sha256File(join(dir.path, out, "shared.bin")), want);
    assert.deepEqual(await listTree(join(dir.path, out)), ["shared.bin", "shared.bin.sfs-proof"]);
  }
  const bobFingerprint = await fingerprintOf("bob");
  for (let i = 0; i < 4; i++) {
    const sent = await sender.nextEvent((e) => e.event === "sent");
    assert.equal(sent.receiver, bobFingerprint);
    assert.equal(sent.bytes, 3 * MIB + 123);
  }
});

Deno.test("sfs send --once exits 0 after the first successful transfer, not a failed one", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testHome(dir.path, "bob");
  const source = join(dir.path, "once.bin");
  await randomFile(source, 100_000);
  await using sender = startSender(alice, source, ["--once"]);
  const ready = await readyOf(sender);

  // A ticket for a file this sender does not share: the transfer fails, the sender stays.
  const unknownId = formatTicket({
    host: "127.0.0.1",
    port: ready.port,
    fileId: new Uint8Array(16).fill(0xab),
    fingerprint: (await testIdentity("alice")).public.fingerprint,
  });
  const missing = await get(bob, unknownId, join(dir.path, "out-missing"));
  assert.equal(missing.code, 1, missing.stderr);
  assert.equal(errorOf(missing).code, "NOT_FOUND");
  const failed = await sender.nextEvent((e) => e.event === "transfer_failed");
  assert.equal(failed.code, "NOT_FOUND");

  const done = doneOf(await get(bob, ready.ticket, join(dir.path, "out")));
  assert.equal(done.sha256, await sha256File(source));
  const sent = await sender.nextEvent((e) => e.event === "sent");
  assert.equal(sent.receiver, await fingerprintOf("bob"));
  const status = await sender.status;
  assert.equal(status.code, 0, sender.stderrText());
  // Nothing else was served after it.
  await assert.rejects(sender.nextEvent((e) => e.event === "start"), /stdout ended/);

  // The sender is gone now.
  const late = await get(bob, ready.ticket, join(dir.path, "out-late"));
  assert.equal(late.code, 4, late.stderr);
  assert.equal(errorOf(late).code, "CONNECTION_FAILED");
});

Deno.test("sfs get --require refuses signatures the sender did not make", async (t) => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testHome(dir.path, "bob");
  const source = join(dir.path, "signed.bin");
  await randomFile(source, 50_000);
  const want = await sha256File(source);
  await using edSender = startSender(alice, source, ["--sign", "ed25519"]);
  await using rsaSender = startSender(alice, source, ["--sign", "rsa"]);
  const tickets = {
    ed25519: (await readyOf(edSender)).ticket,
    rsa: (await readyOf(rsaSender)).ticket,
  };
  const cases: Array<["ed25519" | "rsa", string[], "ok" | "BAD_SIGNATURE"]> = [
    ["ed25519", ["--require", "rsa"], "BAD_SIGNATURE"],
    ["ed25519", [], "BAD_SIGNATURE"], // --require both is the default
    ["ed25519", ["--require", "ed25519"], "ok"],
    ["rsa", ["--require", "ed25519"], "BAD_SIGNATURE"],
    ["rsa", ["--require", "rsa"], "ok"],
  ];
  let n = 0;
  for (const [signed, args, expected] of cases) {
    await t.step(
      `--sign ${signed}, ${args.join(" ") || "default --require"}: ${expected}`,
      async () => {
        const out = join(dir.path, `out-${n++}`);
        const result = await get(bob, tickets[signed], out, args);
        if (expected === "ok") {
          const done = doneOf(result);
          assert.equal(done.sha256, want);
          assert.deepEqual(done.verified, [
            "sender-key",
            "chunks",
            "size",
            "sha256",
            `signature:${args[1]}`,
          ]);
          assert.deepEqual(await listTree(out), ["signed.bin", "signed.bin.sfs-proof"]);
        } else {
          assert.equal(result.code, 3, result.stderr);
          assert.equal(errorOf(result).code, expected);
          // The handshake signature fails, before any file is announced.
          assert.deepEqual(await listTree(out), []);
        }
      },
    );
  }
});

Deno.test("sfs get exits 4 with CONNECTION_FAILED when nothing listens on the port", async () => {
  await using dir = await tempDir();
  const bob = await testHome(dir.path, "bob");
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const ticket = formatTicket({
    host: "127.0.0.1",
    port,
    fileId: new Uint8Array(16),
    fingerprint: (await testIdentity("alice")).public.fingerprint,
  });
  const out = join(dir.path, "out");
  const result = await get(bob, ticket, out);
  assert.equal(result.code, 4, result.stderr);
  const error = errorOf(result);
  assert.equal(error.code, "CONNECTION_FAILED");
  assert.ok(error.hint, "a hint on what to check");
  assert.deepEqual(await listTree(out), []);
});

Deno.test("sfs send reports the shared file's id and hash in its ready event", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const source = join(dir.path, "id.bin");
  await randomFile(source, 1000);
  await using sender = startSender(alice, source);
  const ready = await readyOf(sender);
  assert.equal(ready.fingerprint, await fingerprintOf("alice"));
  assert.equal(ready.name, "id.bin");
  assert.match(ready.id, /^[0-9a-f]{32}$/);
  assert.equal(
    ready.ticket,
    `sfs://127.0.0.1:${ready.port}/${ready.id}#${ready.fingerprint}`,
  );
  assert.equal(ready.sha256, await sha256File(source));
});
