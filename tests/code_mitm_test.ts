/**
 * A malicious index against short codes (issue 15, docs/PROTOCOL.md §14.3–14.4): it forwards the PAKE
 * payloads but changes one, or hands a relayed receiver to an impostor. The receiver must fail
 * with PAKE_FAILED or KEY_MISMATCH and never write the file; the sender must burn the code.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Bytes } from "../src/crypto/bytes.ts";
import { randomFile, runSfs, type SfsResult, sha256File, startSfs, tempDir } from "./harness.ts";
import { testHome, testIdentity } from "./identities.ts";
import { jsonError, PASSWORD } from "./index_fixture.ts";
import { type MitmOptions, type PakeStep, startMitmIndex } from "./code_mitm.ts";

function flip(at: number): (payload: Bytes) => Bytes {
  return (payload) => {
    const copy = payload.slice();
    copy[at] ^= 0x01;
    return copy;
  };
}

/** One transfer by code through a hostile index; returns both sides' outcomes and the folder. */
async function transferThrough(
  how: Omit<MitmOptions, "identity">,
  getArgs: readonly string[] = [],
): Promise<{ got: SfsResult; sent: { code: number; stderr: string }; written: string[] }> {
  await using dir = await tempDir();
  await using mitm = startMitmIndex({ ...how, identity: await testIdentity("server") });
  const alice = await testHome(dir.path, "alice");
  await Deno.writeTextFile(
    join(alice, "config.json"),
    JSON.stringify({ server: mitm.address, user: "alice" }),
  );
  const file = join(dir.path, "plan.bin");
  await randomFile(file, 50_000);
  await using sender = startSfs(
    ["send", file, "--code", "--listen", "127.0.0.1:0", "--json", "--yes"],
    { home: alice, env: { SFS_PASSWORD: PASSWORD } },
  );
  const ready = await sender.nextEvent((e) => e.event === "ready");
  const bob = join(dir.path, "bob");
  const out = join(dir.path, "out");
  await Deno.mkdir(bob);
  await Deno.mkdir(out);
  const got = await runSfs(
    ["get", String(ready.code), "--server", mitm.address, "-o", out, "--json", ...getArgs],
    { home: bob },
  );
  if (got.code === 0) assert.equal(await sha256File(join(out, "plan.bin")), await sha256File(file));
  // A sender whose code failed stops by itself; one that served stops after the transfer.
  const status = await Promise.race([
    sender.status,
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 15_000)),
  ]);
  if (status === undefined) {
    // Still serving (its code matched): stop it, as Ctrl-C would.
    sender.kill("SIGTERM");
    await sender.status;
  }
  await sender.drained();
  const written: string[] = [];
  for await (const entry of Deno.readDir(out)) written.push(entry.name);
  written.sort();
  return {
    got,
    sent: { code: status?.code ?? -1, stderr: sender.stderrText() },
    written,
  };
}

Deno.test("a faithful index passes the code exchange (the hostile cases below differ by one byte)", async () => {
  const { got, sent, written } = await transferThrough({});
  assert.equal(got.code, 0, `exit ${got.code}\n${got.stdout}\n${got.stderr}`);
  assert.equal(sent.code, 0, sent.stderr);
  // The file and its proof of origin (sfs get keeps it beside the file).
  assert.deepEqual(written, ["plan.bin", "plan.bin.sfs-proof"]);
});

Deno.test("an index that changes a PAKE payload gets PAKE_FAILED and never the file", async (t) => {
  const cases: [string, PakeStep, number][] = [
    ["the receiver's sid in payload 1", 1, 1],
    ["the sender's Yb in payload 2", 2, 5],
    ["the sender's confirmation tag in payload 2", 2, 40],
    ["the sealed ticket in payload 2", 2, 120],
  ];
  for (const [name, step, at] of cases) {
    await t.step(name, async () => {
      const tamper = (s: PakeStep, payload: Bytes) => s === step ? flip(at)(payload) : payload;
      const { got, sent, written } = await transferThrough({ tamper });
      assert.equal(jsonError(got).code, "PAKE_FAILED", got.stderr);
      assert.equal(got.code, 3);
      assert.deepEqual(written, []);
      // The receiver told the sender, which burned the code and stopped.
      assert.notEqual(sent.code, 0);
      assert.match(sent.stderr, /"code":"PAKE_FAILED"/);
    });
  }
  await t.step("the receiver's confirmation in payload 3", async () => {
    const tamper = (s: PakeStep, payload: Bytes) => s === 3 ? flip(10)(payload) : payload;
    const { got, sent, written } = await transferThrough({ tamper });
    // The receiver's own check passed, but the sender refuses: it serves nobody.
    assert.notEqual(got.code, 0, got.stderr);
    assert.deepEqual(written, []);
    assert.match(sent.stderr, /"code":"PAKE_FAILED"/);
  });
});

Deno.test("an index that relays the receiver to an impostor gets KEY_MISMATCH and never the file", async () => {
  await using dir = await tempDir();
  const mallory = await testHome(dir.path, "mallory");
  const file = join(dir.path, "plan.bin");
  await randomFile(file, 50_000);
  await using impostor = startSfs(
    ["send", file, "--no-index", "--listen", "127.0.0.1:0", "--json"],
    { home: mallory },
  );
  const port = Number((await impostor.nextEvent((e) => e.event === "ready")).port);
  const { got, written } = await transferThrough({ relayTo: port }, ["--relay"]);
  assert.equal(jsonError(got).code, "KEY_MISMATCH", got.stderr);
  assert.equal(got.code, 3);
  assert.deepEqual(written, []);
});
