/**
 * Short codes end to end (issue 15, docs/PROTOCOL.md §14): a real `sfs server`, a registered
 * sender running `sfs send FILE --code`, and a receiver with no account and no identity yet
 * running `sfs get CODE`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { randomFile, runSfs, type SfsResult, sha256File, startSfs, tempDir } from "./harness.ts";
import {
  assertFails,
  eventually,
  jsonError,
  PASSWORD,
  registeredHome,
  seedServerIdentity,
  type ServerProcess,
  sfs,
  startServer,
} from "./index_fixture.ts";
import { decodePrintedQr, qrLinesIn } from "./qr_pixels.ts";
import { testHome } from "./identities.ts";

interface CodeSender extends AsyncDisposable {
  readonly proc: ReturnType<typeof startSfs>;
  readonly code: string;
  readonly fingerprint: string;
  /** The share's ticket from the ready event: alone, it must fetch nothing. */
  readonly ticket: string;
}

/** Starts `sfs send FILE --code --json …extra` as `home` and waits for its ready event. */
async function sendByCode(
  home: string,
  file: string,
  extra: readonly string[] = [],
): Promise<CodeSender> {
  const proc = startSfs(
    ["send", file, "--code", "--listen", "127.0.0.1:0", "--json", ...extra],
    { home, env: { SFS_PASSWORD: PASSWORD } },
  );
  const ready = await proc.nextEvent((e) => e.event === "ready");
  assert.match(String(ready.code), /^[1-9][0-9]*(-[a-z]{3,8}){3}$/);
  return {
    proc,
    code: String(ready.code),
    fingerprint: String(ready.fingerprint),
    ticket: String(ready.ticket),
    [Symbol.asyncDispose]: () => proc[Symbol.asyncDispose](),
  };
}

/** A fresh receiver home: no identity, no config, no pins. */
async function freshHome(parent: string, name: string): Promise<string> {
  const home = join(parent, name);
  await Deno.mkdir(home);
  return home;
}

/** Runs `sfs get …args --server SERVER --json -o OUT` as `home`. */
function getByCode(
  home: string,
  server: ServerProcess,
  out: string,
  args: readonly string[],
  input?: string,
) {
  return runSfs(["get", ...args, "--server", server.address, "-o", out, "--json"], {
    home,
    input,
  });
}

async function listDir(path: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(path)) names.push(entry.name);
  return names.sort();
}

Deno.test("sfs get CODE fetches the file verified as the sender's key, directly and relayed", async (t) => {
  await using dir = await tempDir();
  await seedServerIdentity(join(dir.path, "server"));
  await using server = await startServer(join(dir.path, "server"));
  const alice = await registeredHome(dir.path, server, "alice");
  const file = join(dir.path, "plan.bin");
  await randomFile(file, 300_000);
  const expected = await sha256File(file);

  await t.step("direct: a receiver with no account and no identity", async () => {
    const carol = await freshHome(dir.path, "carol");
    const out = join(dir.path, "carol-out");
    await Deno.mkdir(out);
    await using sending = await sendByCode(alice, file, ["--as", "carol"]);
    // Someone holding the ticket but not the code gets nothing: no key is admitted yet.
    const eve = await testHome(dir.path, "eve");
    const eveOut = join(dir.path, "eve-out");
    await Deno.mkdir(eveOut);
    assertFails(
      await runSfs(["get", sending.ticket, "-o", eveOut, "--json"], { home: eve }),
      "REFUSED",
      1,
    );
    assert.deepEqual(await listDir(eveOut), []);
    const result = await getByCode(carol, server, out, [sending.code, "--as", "alice-laptop"]);
    assert.equal(result.code, 0, result.stderr);
    const done = result.events.find((e) => e.event === "done")!;
    assert.equal(done.sender, sending.fingerprint);
    assert.equal(done.sha256, expected);
    assert.equal(done.route, "direct");
    assert.equal(done.owner, "alice");
    assert.equal(await sha256File(join(out, "plan.bin")), expected);
    // The sender serves once, to that receiver, then exits 0.
    assert.equal((await sending.proc.status).code, 0, sending.proc.stderrText());
    // Each side pinned the other: carol has alice (verified username) and her --as name.
    const carolPins = JSON.parse((await sfs(carol, ["contacts", "--json"])).stdout);
    assert.deepEqual(carolPins.users.map((u: { user: string }) => u.user), ["alice"]);
    assert.deepEqual(carolPins.contacts.map((c: { name: string }) => c.name), ["alice-laptop"]);
    assert.equal(carolPins.contacts[0].fingerprint, sending.fingerprint);
    const alicePins = JSON.parse((await sfs(alice, ["contacts", "--json"])).stdout);
    assert.deepEqual(alicePins.contacts.map((c: { name: string }) => c.name), ["carol"]);
    const carolKey = JSON.parse((await sfs(carol, ["whoami", "--json"])).stdout);
    assert.equal(alicePins.contacts[0].fingerprint, carolKey.fingerprint);
  });

  await t.step("relayed, the code read from stdin", async () => {
    const dave = await freshHome(dir.path, "dave");
    const out = join(dir.path, "dave-out");
    await Deno.mkdir(out);
    await using sending = await sendByCode(alice, file);
    const result = await getByCode(dave, server, out, ["-", "--relay"], `${sending.code}\n`);
    assert.equal(result.code, 0, result.stderr);
    const done = result.events.find((e) => e.event === "done")!;
    assert.equal(done.route, "relay");
    assert.equal(done.sender, sending.fingerprint);
    assert.equal(await sha256File(join(out, "plan.bin")), expected);
    assert.equal((await sending.proc.status).code, 0, sending.proc.stderrText());
  });

  await t.step("SFS_TICKET holds the code", async () => {
    const erin = await freshHome(dir.path, "erin");
    const out = join(dir.path, "erin-out");
    await Deno.mkdir(out);
    await using sending = await sendByCode(alice, file);
    const result = await sfs(
      erin,
      ["get", "--server", server.address, "-o", out, "--json"],
      { SFS_TICKET: sending.code },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await sha256File(join(out, "plan.bin")), expected);
  });
});

Deno.test("a wrong code fails with PAKE_FAILED on both sides, writes nothing and burns the code", async () => {
  await using dir = await tempDir();
  await seedServerIdentity(join(dir.path, "server"));
  await using server = await startServer(join(dir.path, "server"));
  const alice = await registeredHome(dir.path, server, "alice");
  const file = join(dir.path, "plan.bin");
  await randomFile(file, 1000);
  const mallory = await freshHome(dir.path, "mallory");
  const out = join(dir.path, "out");
  await Deno.mkdir(out);
  await using sending = await sendByCode(alice, file);
  const words = sending.code.split("-");
  const wrong = [...words.slice(0, -1), words.at(-1) === "yak" ? "zebra" : "yak"].join("-");
  const failed = await getByCode(mallory, server, out, [wrong]);
  assertFails(failed, "PAKE_FAILED", 3);
  assert.ok(jsonHint(failed), "PAKE_FAILED says what to do");
  assert.deepEqual(await listDir(out), []);
  // The sender is told: it stops with PAKE_FAILED.
  const status = await sending.proc.status;
  assert.notEqual(status.code, 0);
  assert.match(sending.proc.stderrText(), /"code":"PAKE_FAILED"/);
  // The right code no longer works: one guess per code.
  const spent = await getByCode(mallory, server, out, [sending.code]);
  assertFails(spent, "CODE_UNKNOWN", 1);
  assert.ok(jsonHint(spent), "CODE_UNKNOWN says what to do");
  assert.deepEqual(await listDir(out), []);
});

/** The hint of a failed `--json` run's error line. */
function jsonHint(result: SfsResult): string | undefined {
  return (jsonError(result) as { hint?: string }).hint;
}

Deno.test("an expired code is unknown and the sender says it expired", async () => {
  await using dir = await tempDir();
  await seedServerIdentity(join(dir.path, "server"));
  await using server = await startServer(join(dir.path, "server"));
  const alice = await registeredHome(dir.path, server, "alice");
  const file = join(dir.path, "plan.bin");
  await randomFile(file, 1000);
  await using sending = await sendByCode(alice, file, ["--code-ttl", "1s"]);
  const status = await sending.proc.status;
  assert.notEqual(status.code, 0);
  assert.match(sending.proc.stderrText(), /"code":"CODE_EXPIRED"/);
  const frank = await freshHome(dir.path, "frank");
  const out = join(dir.path, "out");
  await Deno.mkdir(out);
  assertFails(await getByCode(frank, server, out, [sending.code]), "CODE_UNKNOWN", 1);
  assert.deepEqual(await listDir(out), []);
});

/** Waits until `proc` printed a whole QR code (its last line is the bottom border); decodes it. */
async function printedQr(proc: ReturnType<typeof startSfs>): Promise<string> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    // Only complete lines: the text after the last newline may still be arriving.
    const lines = proc.stdoutText().split("\n").slice(0, -1);
    const qr = qrLinesIn(lines);
    if (qr.length > 0 && /^▀+$/.test(qr.at(-1)!)) return decodePrintedQr(qr);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`No QR code printed:\n${proc.stdoutText()}\n${proc.stderrText()}`);
}

Deno.test("sfs send --qr prints a QR code that decodes to the ticket, or to the code", async (t) => {
  await using dir = await tempDir();
  await seedServerIdentity(join(dir.path, "server"));
  await using server = await startServer(join(dir.path, "server"));
  const alice = await registeredHome(dir.path, server, "alice");
  const file = join(dir.path, "plan.bin");
  await randomFile(file, 1000);
  await t.step("the ticket, by direct mode", async () => {
    await using proc = startSfs(
      ["send", file, "--no-index", "--qr", "--listen", "127.0.0.1:0"],
      { home: alice },
    );
    const qr = await printedQr(proc);
    const ticket = proc.stdoutText().split("\n").find((line) => line.startsWith("sfs://"));
    assert.equal(qr, ticket);
  });
  await t.step("the code", async () => {
    await using proc = startSfs(
      ["send", file, "--code", "--qr", "--listen", "127.0.0.1:0"],
      { home: alice, env: { SFS_PASSWORD: PASSWORD } },
    );
    const qr = await printedQr(proc);
    assert.match(qr, /^[1-9][0-9]*(-[a-z]{3,8}){3}$/);
    // The code is printed under its QR code, as typed.
    await eventually(() => Promise.resolve(proc.stdoutText().includes(`${qr}\n`)), 10_000, "code");
  });
});

Deno.test("sfs send --code refuses what a code cannot do (USAGE)", async (t) => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const file = join(dir.path, "a.bin");
  await randomFile(file, 10);
  const cases: [string, string[]][] = [
    ["without an index", ["send", file, "--code", "--no-index"]],
    ["two files", ["send", file, file, "--code", "--server", "127.0.0.1:1"]],
    ["with --to", ["send", file, "--code", "--to", "bob", "--server", "127.0.0.1:1"]],
    ["two words", ["send", file, "--code", "--code-words", "2", "--server", "127.0.0.1:1"]],
    ["--as without --code", ["send", file, "--as", "bob", "--no-index"]],
    ["--as that is no valid name", ["send", file, "--code", "--as", "bob smith"]],
  ];
  for (const [name, args] of cases) {
    await t.step(name, async () => {
      assertFails(await runSfs([...args, "--json"], { home: alice }), "USAGE", 2);
    });
  }
});

Deno.test("sfs get CODE without a usable index server is USAGE", async (t) => {
  await using dir = await tempDir();
  const home = await freshHome(dir.path, "erin");
  const cases: [string, string[]][] = [
    ["none configured", []],
    ["a malformed --server", ["--server", "not an address"]],
  ];
  for (const [name, args] of cases) {
    await t.step(name, async () => {
      const result = await runSfs(["get", "7-crimson-tiger-lamp", ...args, "--json"], {
        home,
        env: { SFS_SERVER: "" },
      });
      assertFails(result, "USAGE", 2);
    });
  }
});

Deno.test("sfs send --code needs no account on a --codes open server, directly and relayed", async (t) => {
  await using dir = await tempDir();
  await seedServerIdentity(join(dir.path, "server"));
  await using server = await startServer(join(dir.path, "server"), 0, ["--codes", "open"]);
  const file = join(dir.path, "plan.bin");
  await randomFile(file, 300_000);
  const expected = await sha256File(file);
  // A sender as fresh as its receiver: no identity yet, no account, no configured index.
  const sam = await freshHome(dir.path, "sam");
  const samArgs = ["--server", server.address, "--server-fingerprint", server.fingerprint];

  for (const route of ["direct", "relay"] as const) {
    await t.step(`${route}: a fresh receiver`, async () => {
      const home = await freshHome(dir.path, `rita-${route}`);
      const out = join(dir.path, `rita-${route}-out`);
      await Deno.mkdir(out);
      await using sending = await sendByCode(sam, file, samArgs);
      const args = route === "relay" ? [sending.code, "--relay"] : [sending.code];
      const result = await getByCode(home, server, out, args);
      assert.equal(result.code, 0, result.stderr + sending.proc.stderrText());
      const done = result.events.find((e) => e.event === "done")!;
      assert.equal(done.route, route);
      assert.equal(done.sender, sending.fingerprint);
      assert.equal(done.owner, undefined);
      assert.equal(await sha256File(join(out, "plan.bin")), expected);
      assert.equal((await sending.proc.status).code, 0, sending.proc.stderrText());
    });
  }

  await t.step("nothing was announced: the share is in no listing", async () => {
    assert.doesNotMatch(server.proc.stdoutText(), /"event":"announce"/);
    // The relayed session counts against the sender's address, as its codes do (§14.5).
    const relayed = await server.proc.nextEvent((e) => e.event === "relay_end");
    assert.equal(relayed.user, undefined);
    assert.equal(relayed.sender, "address:127.0.0.1");
  });
});

Deno.test("sfs send --code without an account on a --codes accounts server is AUTH_FAILED", async () => {
  await using dir = await tempDir();
  await seedServerIdentity(join(dir.path, "server"));
  await using server = await startServer(join(dir.path, "server"));
  const file = join(dir.path, "plan.bin");
  await randomFile(file, 1000);
  const sam = await testHome(dir.path, "sam");
  const result = await runSfs([
    "send",
    file,
    "--code",
    "--listen",
    "127.0.0.1:0",
    "--server",
    server.address,
    "--server-fingerprint",
    server.fingerprint,
    "--json",
  ], { home: sam });
  assertFails(result, "AUTH_FAILED", 1);
});

Deno.test("a code's sender without an account stops when its index connection is lost", async () => {
  await using dir = await tempDir();
  await seedServerIdentity(join(dir.path, "server"));
  const server = await startServer(join(dir.path, "server"), 0, ["--codes", "open"]);
  const file = join(dir.path, "plan.bin");
  await randomFile(file, 1000);
  const sam = await testHome(dir.path, "sam");
  await using sending = await sendByCode(sam, file, [
    "--server",
    server.address,
    "--server-fingerprint",
    server.fingerprint,
  ]);
  // The server burns the code with the connection: waiting out its 10 minutes would be useless.
  server.proc.kill("SIGKILL");
  await server.proc.status;
  const status = await sending.proc.status;
  assert.notEqual(status.code, 0);
  assert.match(sending.proc.stderrText(), /"code":"CONNECTION_/);
});
