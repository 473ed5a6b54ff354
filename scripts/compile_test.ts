/** scripts/compile.ts: the binaries get the `sfs` task's flags, FFI narrowed per target. */
import assert from "node:assert/strict";
import { LIBCRYPTO_PATHS } from "../src/native/libcrypto.ts";
import { compileArgs, readSfsTaskFlags, sfsTaskFlags, targetOs, TARGETS } from "./compile.ts";

function task(text: string): string {
  return JSON.stringify({ tasks: { sfs: text } });
}

Deno.test("sfsTaskFlags() reads a double-quoted flag with spaces as one flag", () => {
  const flags = sfsTaskFlags(
    task('deno run "--allow-ffi=/a/libcrypto.so.3,C:\\Program Files\\x.dll" --allow-net main.ts'),
  );
  assert.deepEqual(flags, [
    "--allow-ffi=/a/libcrypto.so.3,C:\\Program Files\\x.dll",
    "--allow-net",
  ]);
});

Deno.test("sfsTaskFlags() passes a V8 flag through to deno compile", () => {
  // `deno compile` bakes --v8-flags into the binary, so a compiled sfs runs with the same heap.
  const flags = sfsTaskFlags(
    task("deno run --v8-flags=--max-semi-space-size=1 --allow-net main.ts"),
  );
  assert.deepEqual(flags, ["--v8-flags=--max-semi-space-size=1", "--allow-net"]);
  const args = compileArgs("x86_64-unknown-linux-gnu", flags, "dist");
  assert.ok(args.includes("--v8-flags=--max-semi-space-size=1"));
});

Deno.test("sfsTaskFlags() refuses what it does not understand", () => {
  for (
    const bad of [
      "deno run --allow-net other.ts",
      'deno run --allow-ffi="/a b" main.ts',
      'deno run "--allow-net main.ts',
      "deno run -A main.ts",
    ]
  ) {
    assert.throws(() => sfsTaskFlags(task(bad)), Error, bad);
  }
});

Deno.test("compileArgs() gives each target only its own OS's libcrypto paths", () => {
  const flags = readSfsTaskFlags();
  for (const target of TARGETS) {
    const args = compileArgs(target, flags, "dist");
    const ffi = args.filter((arg) => arg.startsWith("--allow-ffi"));
    assert.deepEqual(ffi, [`--allow-ffi=${LIBCRYPTO_PATHS[targetOs(target)].join(",")}`], target);
    // Every other flag passes unchanged.
    assert.deepEqual(
      args.filter((arg) => arg.startsWith("--") && !arg.startsWith("--allow-ffi")).filter((arg) =>
        arg !== "--target" && arg !== "--output"
      ),
      flags.filter((flag) => !flag.startsWith("--allow-ffi")),
    );
  }
  assert.equal(targetOs("x86_64-unknown-linux-gnu"), "linux");
  assert.equal(targetOs("aarch64-apple-darwin"), "darwin");
  assert.equal(targetOs("x86_64-pc-windows-msvc"), "windows");
});

Deno.test("the sfs task, and so every binary, caps V8's young generation and can collect", () => {
  // A long stream of short-lived objects otherwise grows the semi-spaces past the 80 MiB peak
  // RSS budget (docs/PERFORMANCE.md, alone12); --expose-gc lets a share of many files collect
  // its garbage as it goes (src/gc.ts).
  const v8 = "--v8-flags=--max-semi-space-size=1,--expose-gc";
  const flags = readSfsTaskFlags();
  assert.ok(flags.includes(v8), flags.join(" "));
  for (const target of TARGETS) assert.ok(compileArgs(target, flags, "dist").includes(v8));
});

Deno.test("compileArgs() never grants a path the sfs task does not", () => {
  const flags = ["--allow-ffi=/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "--allow-net"];
  const args = compileArgs("x86_64-unknown-linux-gnu", flags, "dist");
  assert.ok(args.includes("--allow-ffi=/usr/lib/x86_64-linux-gnu/libcrypto.so.3"));
  assert.throws(() => compileArgs("aarch64-apple-darwin", flags, "dist"), Error);
});
