/** `deno task demo` runs its story with the command SFS_CMD names (CI: the compiled binary). */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readSfsTaskFlags } from "../scripts/compile.ts";
import { tempDir } from "./harness.ts";

const CONFIG = fileURLToPath(new URL("../deno.json", import.meta.url));
const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));

Deno.test({
  name: "SFS_CMD=EXECUTABLE deno task demo runs every sfs step with that executable",
  ignore: Deno.build.os === "windows", // the stand-in below is a shell script
}, async () => {
  await using dir = await tempDir();
  // A stand-in for a compiled binary: counts its runs, then runs sfs from source.
  const log = join(dir.path, "runs.log");
  const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;
  const standIn = join(dir.path, "sfs-binary");
  await Deno.writeTextFile(
    standIn,
    `#!/bin/sh\necho "$1" >> ${quote(log)}\nexec ${
      [Deno.execPath(), "run", ...readSfsTaskFlags(), MAIN].map(quote).join(" ")
    } "$@"\n`,
    { mode: 0o755 },
  );
  const demo = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "--config", CONFIG, "demo"],
    env: { NO_COLOR: "1", SFS_CMD: standIn },
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(demo.stdout) + new TextDecoder().decode(demo.stderr);
  assert.equal(demo.code, 0, text);
  const commands = new Set((await Deno.readTextFile(log)).trim().split("\n"));
  for (const command of ["keygen", "send", "get", "server", "register", "search"]) {
    assert.ok(commands.has(command), `the stand-in ran sfs ${command}`);
  }
});
