/**
 * Everyday messages (issue 14): a malformed ticket, a missing file, a folder where a file is
 * needed, `--out` naming a file or `~`, `--server` without a port, registering twice.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { randomFile, runSfs, startSfs, tempDir } from "./harness.ts";
import { testHome } from "./identities.ts";
import { errorOf, listTree, readyOf } from "./peers.ts";
import { registeredHome, seedServerIdentity, sfs, startServer } from "./index_fixture.ts";

/** Deno's cache folder, kept when a test moves HOME (by default it lies under HOME). */
async function denoDir(): Promise<string> {
  const { stdout } = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  return String(JSON.parse(new TextDecoder().decode(stdout)).denoDir);
}

/** A listener that accepts nothing: a port where an index is "configured" but never answers. */
function deadPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

Deno.test("sfs get reports a malformed sfs:// ticket as BAD_TICKET, exit 2", async (t) => {
  await using dir = await tempDir();
  const bob = await testHome(dir.path, "bob");
  const id = "07".repeat(16);
  const tickets = ["sfs://nowhere", `sfs:/127.0.0.1:9/${id}#SHA256:x`, `SFS://127.0.0.1:9/${id}`];
  for (const index of [undefined, `127.0.0.1:${deadPort()}`]) {
    for (const ticket of tickets) {
      await t.step(`${ticket} ${index ? "with" : "without"} an index`, async () => {
        const server = index ? ["--server", index] : [];
        const result = await runSfs(["get", ticket, ...server, "--json"], { home: bob });
        assert.equal(errorOf(result).code, "BAD_TICKET", result.stderr);
        assert.equal(result.code, 2, result.stderr);
      });
    }
  }
});

Deno.test("sfs send of a missing file fails with USAGE, exit 2", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const result = await runSfs(["send", join(dir.path, "missing.txt"), "--json"], { home: alice });
  assert.equal(errorOf(result).code, "USAGE", result.stderr);
  assert.equal(result.code, 2);
});

Deno.test("sfs send of several paths with an unusable share name fails with USAGE and says what to do", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  await Deno.writeTextFile(`${dir.path}/a.txt`, "a");
  await Deno.writeTextFile(`${dir.path}/b.txt`, "b");
  const result = await runSfs(
    ["send", `${dir.path}/a.txt`, `${dir.path}/b.txt`, "--name", "CON", "--json"],
    { home: alice },
  );
  const error = errorOf(result);
  assert.equal(error.code, "USAGE", result.stderr);
  assert.equal(result.code, 2);
  assert.ok(error.hint, "a hint saying what to do with the name");
});

Deno.test("sfs get --out FILE fails with NOT_A_FOLDER before connecting", async () => {
  await using dir = await tempDir();
  const bob = await testHome(dir.path, "bob");
  const file = join(dir.path, "a-file");
  await Deno.writeTextFile(file, "x");
  // A well-formed ticket for a port where nobody listens: the folder is checked before dialling.
  const ticket = await aliceTicketLike(dir.path);
  const result = await runSfs(["get", ticket, "--out", file, "--json"], { home: bob });
  assert.equal(errorOf(result).code, "NOT_A_FOLDER", result.stderr);
});

/** A well-formed ticket naming a dead port, from a real sender that is then stopped. */
async function aliceTicketLike(parent: string): Promise<string> {
  const alice = await testHome(parent, "alice");
  const file = join(parent, "shared.bin");
  await randomFile(file, 10);
  await using sender = startSfs(["send", file, "--listen", "127.0.0.1:0", "--json"], {
    home: alice,
  });
  const ready = await readyOf(sender);
  return ready.ticket.replace(/:\d+\//, `:${deadPort()}/`);
}

Deno.test("sfs get --out '~/x' saves under the home folder, never into ./~", async () => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testHome(dir.path, "bob");
  const file = join(dir.path, "shared.bin");
  await randomFile(file, 1000);
  await using sender = startSfs(["send", file, "--listen", "127.0.0.1:0", "--json"], {
    home: alice,
  });
  const ready = await readyOf(sender);
  const user = join(dir.path, "user");
  const cwd = join(dir.path, "cwd");
  await Deno.mkdir(user);
  await Deno.mkdir(cwd);
  const result = await runSfs(["get", ready.ticket, "--out", "~/Downloads", "--json"], {
    home: bob,
    cwd,
    env: { HOME: user, USERPROFILE: user, DENO_DIR: await denoDir() },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await listTree(cwd), []);
  assert.deepEqual(await listTree(user), [
    "Downloads",
    join("Downloads", "shared.bin"),
    join("Downloads", "shared.bin.sfs-proof"),
  ]);
  await refusesOtherUsersHome(bob, ready.ticket, cwd);
});

/** `~otheruser/x` cannot be expanded portably: USAGE, and nothing is created. */
async function refusesOtherUsersHome(home: string, ticket: string, cwd: string): Promise<void> {
  const result = await runSfs(["get", ticket, "--out", "~someone/x", "--json"], { home, cwd });
  assert.equal(errorOf(result).code, "USAGE", result.stderr);
  assert.deepEqual(await listTree(cwd), []);
}

Deno.test("--server HOST without a port means port 9999", async () => {
  await using dir = await tempDir();
  const bob = await testHome(dir.path, "bob");
  // Nothing is expected on 127.0.0.1:9999 here; either way the address was accepted.
  const result = await runSfs(["search", "x", "--server", "127.0.0.1", "--json"], { home: bob });
  assert.notEqual(errorOf(result).code, "USAGE", result.stderr);
});

Deno.test("sfs register of a name that is already this identity's: ALREADY_REGISTERED", async () => {
  await using dir = await tempDir();
  await seedServerIdentity(dir.path);
  await using server = await startServer(dir.path);
  const bob = await registeredHome(dir.path, server, "bob");
  const again = await sfs(bob, ["register", "--server", server.address, "--user", "bob", "--json"]);
  assert.equal(errorOf(again).code, "ALREADY_REGISTERED", again.stderr);
  const carol = await testHome(dir.path, "carol");
  const taken = await sfs(carol, [
    "register",
    "--server",
    server.address,
    "--user",
    "bob",
    "--yes",
    "--json",
  ]);
  assert.equal(errorOf(taken).code, "EXISTS", taken.stderr);
});
