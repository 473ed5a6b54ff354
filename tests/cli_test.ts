/** The CLI's surface: version, usage errors, tickets, identities and passphrases, exit codes. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { formatFingerprint } from "../src/crypto/identity.ts";
import { formatTicket } from "../src/peer/ticket.ts";
import { VERSION } from "../src/version.ts";
import { randomFile, runSfs, sha256File, startSfs, tempDir } from "./harness.ts";
import { testHome, testIdentity } from "./identities.ts";
import { doneOf, errorOf, get, listTree, readyOf } from "./peers.ts";

/** A well-formed ticket for alice on a port where nothing is expected to listen. */
async function someTicket(): Promise<string> {
  return formatTicket({
    host: "127.0.0.1",
    port: 9,
    fileId: new Uint8Array(16).fill(7),
    fingerprint: (await testIdentity("alice")).public.fingerprint,
  });
}

Deno.test("sfs --version and -V print the version", async () => {
  for (const flag of ["--version", "-V"]) {
    const result = await runSfs([flag]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), VERSION);
  }
});

Deno.test("sfs exits 2 with USAGE on bad arguments", async (t) => {
  const ticket = await someTicket();
  const cases: Array<[string, string[]]> = [
    ["an unknown command", ["frobnicate"]],
    ["an unknown option", ["get", ticket, "--frobnicate"]],
    ["get without a ticket", ["get"]],
    ["send without a file", ["send"]],
    ["an unknown --require value", ["get", ticket, "--require", "md5"]],
    ["an unknown --sign value", ["send", "x", "--sign", "none"]],
    ["a malformed --listen address", ["send", "x", "--listen", "nowhere"]],
  ];
  for (const [name, args] of cases) {
    await t.step(name, async () => {
      const result = await runSfs([...args, "--json"]);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(errorOf(result).code, "USAGE");
      assert.equal(result.stdout, "", "stdout carries results only");
    });
  }
  await t.step("human form on stderr", async () => {
    const result = await runSfs(["frobnicate"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^sfs: error: .*frobnicate/m);
  });
});

Deno.test("sfs get rejects a malformed ticket with BAD_TICKET", async (t) => {
  await using dir = await tempDir();
  const bob = await testHome(dir.path, "bob");
  const good = await someTicket();
  const [, fingerprint] = good.split("#");
  const id = "07".repeat(16);
  const cases: Array<[string, string]> = [
    ["plain text", "not a ticket"],
    ["an empty string", ""],
    ["another scheme", good.replace("sfs://", "https://")],
    ["port 0", `sfs://127.0.0.1:0/${id}#${fingerprint}`],
    ["port 70000", `sfs://127.0.0.1:70000/${id}#${fingerprint}`],
    ["a 31-digit file id", `sfs://127.0.0.1:9/${id.slice(1)}#${fingerprint}`],
    ["a file id with a non-hex digit", `sfs://127.0.0.1:9/${id.slice(1)}g#${fingerprint}`],
    ["no fingerprint", `sfs://127.0.0.1:9/${id}`],
    ["a truncated fingerprint", good.slice(0, -4)],
    ["a fingerprint with a wrong character", good.slice(0, -1) + "1"],
    ["a ticket of 600 characters", `sfs://${"a".repeat(560)}.example:9/${id}#${fingerprint}`],
  ];
  for (const [name, ticket] of cases) {
    await t.step(name, async () => {
      const out = join(dir.path, "out");
      const result = await get(bob, ticket, out);
      assert.equal(result.code, 2, result.stderr);
      const error = errorOf(result);
      assert.equal(error.code, "BAD_TICKET");
      assert.ok(error.hint, "a hint showing what a ticket looks like");
      assert.deepEqual(await listTree(out), []);
    });
  }
});

Deno.test("sfs without an identity fails with NO_IDENTITY and a hint", async (t) => {
  await using dir = await tempDir();
  const empty = join(dir.path, "empty-home");
  await Deno.mkdir(empty);
  const file = join(dir.path, "f.bin");
  await randomFile(file, 10);
  const cases: Array<[string, string[]]> = [
    // get creates an identity instead (tests/first_use_test.ts).
    ["send", ["send", file, "--listen", "127.0.0.1:0"]],
    ["whoami", ["whoami"]],
  ];
  for (const [name, args] of cases) {
    await t.step(name, async () => {
      const result = await runSfs([...args, "--json"], { home: empty });
      assert.equal(result.code, 1, result.stderr);
      const error = errorOf(result);
      assert.equal(error.code, "NO_IDENTITY");
      assert.match(error.hint ?? "", /sfs keygen/);
    });
  }
  await t.step("human form: error and hint lines, no stack trace", async () => {
    const result = await runSfs(["send", file], { home: empty });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^sfs: error: /m);
    assert.match(result.stderr, /^sfs: hint: .*sfs keygen/m);
    assert.doesNotMatch(result.stderr, /^\s+at /m);
  });
  assert.deepEqual(await listTree(empty), [], "nothing was created in the home");
});

Deno.test("sfs whoami --json prints the identity's fingerprint", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const result = await runSfs(["whoami", "--json"], { home: alice });
  assert.equal(result.code, 0, result.stderr);
  const want = formatFingerprint((await testIdentity("alice")).public.fingerprint);
  assert.equal(result.events.length, 1);
  assert.equal(result.events[0].event, "identity");
  assert.equal(result.events[0].fingerprint, want);
  // The human form prints just the fingerprint.
  const human = await runSfs(["whoami"], { home: alice });
  assert.equal(human.stdout.trim(), want);
});

Deno.test("sfs send refuses a missing file, and --name for a single file", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const missing = await runSfs(
    ["send", join(dir.path, "nope.bin"), "--listen", "127.0.0.1:0", "--json"],
    { home: alice },
  );
  assert.equal(missing.code, 2, missing.stderr);
  assert.equal(errorOf(missing).code, "USAGE");
  assert.equal(missing.events.length, 0, "no ticket for a file that is not there");
  // A folder is shared as a tree now (tests/send_tree_test.ts); a single file keeps its name.
  const file = join(dir.path, "a.txt");
  await Deno.writeTextFile(file, "a");
  const named = await runSfs(["send", file, "--name", "b", "--listen", "127.0.0.1:0", "--json"], {
    home: alice,
  });
  assert.equal(named.code, 2, named.stderr);
  assert.equal(errorOf(named).code, "USAGE");
  assert.equal(named.events.length, 0, "no ticket");
});

Deno.test("sfs keygen makes one identity, encrypted with SFS_PASSPHRASE, replaced only with --force", async (t) => {
  await using dir = await tempDir();
  // Not created yet: keygen must create the home itself, private to the user.
  const home = join(dir.path, "new", "home");
  const identityFile = join(home, "identity.json");
  const passphrase = "correct horse battery staple";
  let fingerprint = "";

  await t.step("keygen with SFS_PASSPHRASE encrypts the keys, mode 0600", async () => {
    const result = await runSfs(["keygen", "--json"], {
      home,
      env: { SFS_PASSPHRASE: passphrase },
    });
    assert.equal(result.code, 0, result.stderr);
    const [event] = result.events;
    assert.equal(event.event, "identity");
    assert.equal(event.encrypted, true);
    assert.match(String(event.fingerprint), /^SHA256:[a-z2-7]{4}(-[a-z2-7]{4}){12}$/);
    fingerprint = String(event.fingerprint);
    const stored = JSON.parse(await Deno.readTextFile(identityFile));
    assert.equal(stored.format, "sfs-identity");
    assert.equal(stored.fingerprint, fingerprint);
    assert.equal(stored.private.protection, "scrypt-aes-256-gcm");
    assert.equal(stored.private.keys, undefined, "no plaintext keys");
    if (Deno.build.os !== "windows") {
      assert.equal((await Deno.stat(identityFile)).mode! & 0o777, 0o600);
      assert.equal((await Deno.stat(home)).mode! & 0o077, 0, "home not open to others");
    }
  });

  await t.step("whoami needs no passphrase", async () => {
    const result = await runSfs(["whoami", "--json"], { home });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.events[0].fingerprint, fingerprint);
  });

  const file = join(dir.path, "secret.bin");
  await randomFile(file, 5000);
  const send = ["send", file, "--listen", "127.0.0.1:0", "--json"];

  await t.step("send with a wrong passphrase fails with BAD_PASSPHRASE", async () => {
    const result = await runSfs(send, { home, env: { SFS_PASSPHRASE: "wrong horse" } });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(errorOf(result).code, "BAD_PASSPHRASE");
    assert.equal(result.events.length, 0, "no ticket");
  });

  if (Deno.env.get("SFS_PASSPHRASE") === undefined) {
    await t.step("send with no passphrase and no terminal fails instead of hanging", async () => {
      const result = await runSfs(send, { home, timeoutMs: 20_000 });
      assert.equal(result.code, 2, result.stderr);
      const error = errorOf(result);
      assert.equal(error.code, "USAGE");
      assert.match(error.hint ?? "", /SFS_PASSPHRASE/);
      assert.equal(result.events.length, 0, "no ticket");
    });
  }

  await t.step("send with the right passphrase serves the file", async () => {
    await using sender = startSfs([...send, "--once"], {
      home,
      env: { SFS_PASSPHRASE: passphrase },
    });
    const ready = await readyOf(sender);
    assert.equal(ready.fingerprint, fingerprint);
    const bob = await testHome(dir.path, "bob");
    const done = doneOf(await get(bob, ready.ticket, join(dir.path, "out")));
    assert.equal(done.sender, fingerprint);
    assert.equal(done.sha256, await sha256File(file));
    assert.equal((await sender.status).code, 0, sender.stderrText());
  });

  await t.step("keygen again without --force fails with EXISTS and keeps the file", async () => {
    const before = await Deno.readTextFile(identityFile);
    const result = await runSfs(["keygen", "--json"], { home, env: { SFS_PASSPHRASE: "" } });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(errorOf(result).code, "EXISTS");
    assert.equal(await Deno.readTextFile(identityFile), before);
  });

  await t.step(
    "keygen --force replaces it; an empty SFS_PASSPHRASE stores it unencrypted",
    async () => {
      const result = await runSfs(["keygen", "--force", "--json"], {
        home,
        env: { SFS_PASSPHRASE: "" },
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.events[0].encrypted, false);
      assert.notEqual(result.events[0].fingerprint, fingerprint);
      const stored = JSON.parse(await Deno.readTextFile(identityFile));
      assert.equal(stored.private.protection, "none");
      if (Deno.build.os !== "windows") {
        assert.equal((await Deno.stat(identityFile)).mode! & 0o777, 0o600);
      }
      // The earlier send may have cached its file's hash (only once the file is 3 s old, so
      // whether it did depends on the machine's speed): that file is not keygen's.
      const left = (await listTree(home)).filter((name) => name !== "hash-cache.bin");
      assert.deepEqual(left, ["identity.json"], "no temporary files left");
    },
  );
});
