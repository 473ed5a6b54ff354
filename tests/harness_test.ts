import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { VERSION } from "../src/version.ts";
import {
  randomFile,
  runSfs,
  SFS_CMD,
  sha256File,
  startProcess,
  startSfs,
  tempDir,
} from "./harness.ts";

Deno.test({
  name: "SFS_CMD runs main.ts with the sfs task's permission flags",
  // With SFS_CMD set (CI's binary smoke runs) the harness runs that executable instead.
  ignore: Deno.env.get("SFS_CMD") !== undefined,
}, async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  // Words split as the task shell does: a double-quoted word (a path with spaces) is one word.
  const words = (config.tasks.sfs as string).match(/"[^"]*"|\S+/g) ?? [];
  const taskFlags = words.map((w) => w.replace(/^"(.*)"$/, "$1")).filter((w) => w.startsWith("--"));
  assert.equal(SFS_CMD[0], Deno.execPath());
  assert.equal(SFS_CMD[1], "run");
  assert.deepEqual(SFS_CMD.slice(2, -1), taskFlags);
  assert.ok(taskFlags.length > 0);
  assert.match(SFS_CMD.at(-1) ?? "", /main\.ts$/);
});

Deno.test("runSfs() runs --version and exits 0", async () => {
  await using home = await tempDir();
  const result = await runSfs(["--version"], { home: home.path });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.includes(VERSION), result.stdout);
});

Deno.test("startSfs() exposes the exit status and output of a finished process", async () => {
  await using proc = startSfs(["--version"]);
  const status = await proc.status;
  await proc.drained();
  assert.equal(status.code, 0, proc.stderrText());
  assert.ok(proc.stdoutText().includes(VERSION));
});

Deno.test("startSfs() nextEvent() rejects a plain-text line and an ended stdout", async () => {
  await using proc = startSfs(["--version"]);
  // --version prints plain text, which is not a JSON event.
  await assert.rejects(proc.nextEvent(), /not a JSON object/);
  await assert.rejects(proc.nextEvent(), /stdout ended/);
});

/** A deno child running `code`, for testing the harness without depending on sfs commands. */
function denoEval(code: string, options: { input?: string } = {}) {
  return startProcess([Deno.execPath(), "eval", code], options);
}

Deno.test("startProcess() nextEvent() skips events until one matches", async () => {
  await using proc = denoEval(`
    console.log(JSON.stringify({ event: "a", n: 1 }));
    console.log("");
    console.log(JSON.stringify({ event: "b", n: 2 }));
    console.log(JSON.stringify({ event: "c", n: 3 }));
  `);
  assert.deepEqual(await proc.nextEvent((e) => e.event === "b"), { event: "b", n: 2 });
  assert.deepEqual(await proc.nextEvent(), { event: "c", n: 3 });
  assert.deepEqual(proc.events.map((e) => e.event), ["a", "b", "c"]);
  assert.equal((await proc.status).code, 0);
});

Deno.test("startProcess() nextEvent() times out and reports stderr", async () => {
  await using proc = denoEval(`console.error("waiting"); setTimeout(() => {}, 60_000);`);
  await assert.rejects(proc.nextEvent(undefined, 300), /within 300 ms/);
  assert.match(proc.stderrText(), /waiting/);
});

Deno.test("startProcess() passes input on stdin", async () => {
  await using proc = denoEval(
    `const t = await new Response(Deno.stdin.readable).text();
     console.log(JSON.stringify({ event: "got", t }));`,
    { input: "hello" },
  );
  assert.deepEqual(await proc.nextEvent(), { event: "got", t: "hello" });
});

Deno.test("startProcess() dispose kills a process that is still running", async () => {
  let status: Promise<Deno.CommandStatus>;
  {
    await using proc = denoEval(`console.log("{}"); setTimeout(() => {}, 60_000);`);
    await proc.nextEvent();
    status = proc.status;
  }
  const s = await status;
  assert.equal(s.success, false);
  if (Deno.build.os !== "windows") assert.equal(s.signal, "SIGKILL");
});

Deno.test("runSfs() kills and throws on timeout", async () => {
  // runSfs always runs sfs; a tiny timeout makes even --version overrun it.
  await assert.rejects(runSfs(["--version"], { timeoutMs: 1 }), /did not finish within 1 ms/);
});

Deno.test("tempDir() removes the directory and its contents on dispose", async () => {
  let path: string;
  {
    await using dir = await tempDir();
    path = dir.path;
    await Deno.mkdir(`${path}/sub`);
    await Deno.writeTextFile(`${path}/sub/file.txt`, "x");
  }
  await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
});

Deno.test("randomFile() writes the requested size and sha256File() hashes it", async (t) => {
  await using dir = await tempDir();
  for (const size of [0, 1, 65535, 65536, 65537, 1024 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024]) {
    await t.step(`${size} bytes`, async () => {
      const path = `${dir.path}/f${size}`;
      await randomFile(path, size);
      const bytes = await Deno.readFile(path);
      assert.equal(bytes.length, size);
      const want = createHash("sha256").update(bytes).digest("hex");
      assert.equal(await sha256File(path), want);
    });
  }
  // Random, not zero-filled: two 64 KiB files are different.
  await randomFile(`${dir.path}/a`, 65536);
  await randomFile(`${dir.path}/b`, 65536);
  assert.notEqual(await sha256File(`${dir.path}/a`), await sha256File(`${dir.path}/b`));
});

Deno.test("sha256File() matches a known digest", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/abc`, "abc");
  assert.equal(
    await sha256File(`${dir.path}/abc`),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});
