/**
 * `deno task install` (issue 14): an `sfs` command usable from any folder, with paths relative to
 * that folder, installed into DENO_INSTALL_ROOT; and `deno task sfs` resolving paths the same way.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { VERSION } from "../src/version.ts";
import { runSfs, sha256File, startProcess, tempDir } from "./harness.ts";
import { testHome } from "./identities.ts";
import { doneOf } from "./peers.ts";

const CONFIG = fileURLToPath(new URL("../deno.json", import.meta.url));
const WINDOWS = Deno.build.os === "windows";

/** PATH with this Deno first: the installed command runs `deno`. */
function pathWithDeno(): string {
  return [dirname(Deno.execPath()), Deno.env.get("PATH") ?? ""].join(WINDOWS ? ";" : ":");
}

/** Runs `deno task TASK ARGS…` of this repository from `cwd`, to completion. */
async function denoTask(
  cwd: string,
  args: string[],
  env: Record<string, string>,
): Promise<Deno.CommandOutput> {
  return await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "--config", CONFIG, ...args],
    cwd,
    env: { NO_COLOR: "1", PATH: pathWithDeno(), ...env },
    stdin: "null",
  }).output();
}

/** Sends `name` (relative to `cwd`) once with `command`, fetches it by ticket, checks it. */
async function sendRelative(command: string[], cwd: string, parent: string): Promise<void> {
  const alice = await testHome(parent, "alice");
  const bob = await testHome(parent, "bob");
  await using sender = startProcess(
    [...command, "send", "notes.txt", "--listen", "127.0.0.1:0", "--once", "--no-index", "--json"],
    // A shell starts `deno task` without INIT_CWD; under `deno task test` this process has one,
    // which Deno would pass on instead of setting its own.
    { home: alice, cwd, env: { PATH: pathWithDeno() }, withoutEnv: ["INIT_CWD"] },
  );
  const ready = await sender.nextEvent((e) => e.event === "ready", 60_000);
  const out = join(parent, "received");
  const result = await runSfs(["get", String(ready.ticket), "--out", out, "--json"], { home: bob });
  assert.equal(doneOf(result).sha256, await sha256File(join(cwd, "notes.txt")));
  assert.equal((await sender.status).code, 0, sender.stderrText());
}

async function folderWithFile(parent: string): Promise<string> {
  const cwd = join(parent, "elsewhere");
  await Deno.mkdir(cwd);
  await Deno.writeTextFile(join(cwd, "notes.txt"), "relative to where the user stands\n");
  return cwd;
}

Deno.test("deno task install puts a working sfs into DENO_INSTALL_ROOT/bin", async (t) => {
  await using dir = await tempDir();
  const root = join(dir.path, "deno-root");
  const cwd = await folderWithFile(dir.path);
  const installed = await denoTask(cwd, ["install"], { DENO_INSTALL_ROOT: root });
  assert.equal(installed.code, 0, new TextDecoder().decode(installed.stderr));
  const shimPath = join(root, "bin", WINDOWS ? "sfs.cmd" : "sfs");
  const shim = await Deno.readTextFile(shimPath);
  // Windows runs a .cmd through its command interpreter.
  const sfs = WINDOWS ? ["cmd.exe", "/d", "/c", shimPath] : [shimPath];
  await t.step("with the sfs task's scoped --allow-ffi, never unscoped", () => {
    assert.match(shim, /--allow-ffi=[^\s'"]*libcrypto/);
    assert.doesNotMatch(shim, /--allow-ffi(?:\s|'|"|$)/);
    assert.doesNotMatch(shim, /--allow-all|\s-A\s/);
  });
  await t.step("sfs --version", async () => {
    await using proc = startProcess([...sfs, "--version"], { cwd, env: { PATH: pathWithDeno() } });
    assert.equal((await proc.status).code, 0);
    await proc.drained();
    assert.equal(proc.stdoutText().trim(), VERSION);
  });
  await t.step("sfs send of a path relative to another folder", async () => {
    await sendRelative(sfs, cwd, dir.path);
  });
});

Deno.test("deno task sfs resolves relative paths against the folder it was run from", async () => {
  await using dir = await tempDir();
  const cwd = await folderWithFile(dir.path);
  await sendRelative(
    [Deno.execPath(), "task", "--quiet", "--config", CONFIG, "sfs"],
    cwd,
    dir.path,
  );
});
