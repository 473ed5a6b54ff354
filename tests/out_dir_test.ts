/**
 * What `sfs get` does when something already sits at the destination in --out: a file, a
 * symlink planted to point outside, a dangling symlink, a folder, or a link at the part file's
 * name. Nothing outside --out may ever be written through a link.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { randomFile, type SfsProcess, sha256File, type TempDir, tempDir } from "./harness.ts";
import { testHome } from "./identities.ts";
import { doneOf, errorOf, get, listTree, readyOf, startSender } from "./peers.ts";

const NAME = "report.txt";
const VICTIM_TEXT = "precious data outside --out\n";

interface Setup extends AsyncDisposable {
  dir: TempDir;
  bob: string;
  sender: SfsProcess;
  ticket: string;
  sha256: string;
  /** The --out folder, created empty. */
  out: string;
  /** A file outside --out that a planted link points at. */
  victim: string;
}

async function setup(): Promise<Setup> {
  const dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testHome(dir.path, "bob");
  await Deno.mkdir(join(dir.path, "src"));
  const source = join(dir.path, "src", NAME);
  await randomFile(source, 300_000);
  const out = join(dir.path, "out");
  await Deno.mkdir(out);
  const victim = join(dir.path, "victim.txt");
  await Deno.writeTextFile(victim, VICTIM_TEXT);
  const sender = startSender(alice, source);
  return {
    dir,
    bob,
    sender,
    ticket: (await readyOf(sender)).ticket,
    sha256: await sha256File(source),
    out,
    victim,
    async [Symbol.asyncDispose]() {
      await sender[Symbol.asyncDispose]();
      await dir[Symbol.asyncDispose]();
    },
  };
}

async function assertRefusedAsExisting(s: Setup, args: string[] = []): Promise<void> {
  const result = await get(s.bob, s.ticket, s.out, args);
  assert.equal(result.code, 1, result.stderr);
  const error = errorOf(result);
  assert.equal(error.code, "EXISTS");
  assert.ok(error.hint, "a hint about --force or --out");
}

async function assertReceived(s: Setup, args: string[] = []): Promise<void> {
  const done = doneOf(await get(s.bob, s.ticket, s.out, args));
  assert.equal(done.path, join(s.out, NAME));
  assert.equal(done.sha256, s.sha256);
  const info = await Deno.lstat(join(s.out, NAME));
  assert.ok(info.isFile && !info.isSymlink, "a regular file, not a link");
  assert.equal(await sha256File(join(s.out, NAME)), s.sha256);
}

Deno.test("sfs get without --force refuses a symlink planted at the destination", async () => {
  await using s = await setup();
  await Deno.symlink(s.victim, join(s.out, NAME));
  await assertRefusedAsExisting(s);
  assert.ok((await Deno.lstat(join(s.out, NAME))).isSymlink, "the link is left alone");
  assert.equal(await Deno.readTextFile(s.victim), VICTIM_TEXT);
  assert.deepEqual(await listTree(s.out), [NAME]);
});

Deno.test("sfs get --force replaces a planted symlink without writing through it", async () => {
  await using s = await setup();
  await Deno.symlink(s.victim, join(s.out, NAME));
  await assertReceived(s, ["--force"]);
  assert.equal(await Deno.readTextFile(s.victim), VICTIM_TEXT);
  assert.deepEqual(await listTree(s.out), [NAME, `${NAME}.sfs-proof`]);
});

Deno.test("sfs get never creates the target of a dangling symlink at the destination", async () => {
  await using s = await setup();
  const target = join(s.dir.path, "created-through-link.txt");
  await Deno.symlink(target, join(s.out, NAME));
  await assertRefusedAsExisting(s);
  await assert.rejects(Deno.lstat(target), Deno.errors.NotFound);
  await assertReceived(s, ["--force"]);
  await assert.rejects(Deno.lstat(target), Deno.errors.NotFound);
  assert.deepEqual(await listTree(s.out), [NAME, `${NAME}.sfs-proof`]);
});

Deno.test("sfs get without --force refuses an existing file and leaves it unchanged", async () => {
  await using s = await setup();
  await Deno.writeTextFile(join(s.out, NAME), "older version\n");
  await assertRefusedAsExisting(s);
  assert.equal(await Deno.readTextFile(join(s.out, NAME)), "older version\n");
  assert.deepEqual(await listTree(s.out), [NAME]);
  // With --force it is replaced.
  await assertReceived(s, ["--force"]);
  assert.deepEqual(await listTree(s.out), [NAME, `${NAME}.sfs-proof`]);
});

Deno.test("sfs get removes a symlink planted at the part file's name instead of following it", async () => {
  await using s = await setup();
  await Deno.symlink(s.victim, join(s.out, `${NAME}.sfs-part`));
  await assertReceived(s);
  assert.equal(await Deno.readTextFile(s.victim), VICTIM_TEXT);
  assert.deepEqual(await listTree(s.out), [NAME, `${NAME}.sfs-proof`]);
});

Deno.test("sfs get does not replace a folder at the destination, even with --force", async () => {
  await using s = await setup();
  await Deno.mkdir(join(s.out, NAME));
  await Deno.writeTextFile(join(s.out, NAME, "inside.txt"), "keep me\n");
  await assertRefusedAsExisting(s);
  const forced = await get(s.bob, s.ticket, s.out, ["--force"]);
  assert.notEqual(forced.code, 0, forced.stderr);
  assert.equal(await Deno.readTextFile(join(s.out, NAME, "inside.txt")), "keep me\n");
  assert.deepEqual(await listTree(s.out), [NAME, join(NAME, "inside.txt")], "no part file left");
});

Deno.test("sfs get creates a missing --out folder, nested", async () => {
  await using s = await setup();
  const nested = join(s.dir.path, "a", "b", "c");
  const done = doneOf(await get(s.bob, s.ticket, nested));
  assert.equal(done.path, join(nested, NAME));
  assert.deepEqual(await listTree(nested), [NAME, `${NAME}.sfs-proof`]);
});
