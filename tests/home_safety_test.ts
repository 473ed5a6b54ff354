import assert from "node:assert/strict";
import { join } from "node:path";
import { runSfs, tempDir } from "./harness.ts";
import { testHome } from "./identities.ts";

/** The `sfs: warning:` and `sfs: hint:` lines of a run's stderr. */
function diagnostics(stderr: string): string[] {
  return stderr.split("\n").filter((line) => /^sfs: (warning|hint):/.test(line))
    .map((line) => line.slice(0, line.indexOf(":", 5)));
}

Deno.test({
  name: "sfs warns once, with a hint, when its home or identity.json is not private",
  ignore: Deno.build.os === "windows", // No Unix modes; ACLs are not checked.
  fn: async (t) => {
    await using dir = await tempDir();
    const home = await testHome(dir.path, "alice");
    const identity = join(home, "identity.json");
    await t.step("a private home: no warning", async () => {
      const result = await runSfs(["whoami"], { home });
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(diagnostics(result.stderr), []);
    });
    await t.step("a world-writable home: one warning and its hint", async () => {
      await Deno.chmod(home, 0o777);
      const result = await runSfs(["whoami"], { home });
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(diagnostics(result.stderr), ["sfs: warning", "sfs: hint"]);
      await Deno.chmod(home, 0o700);
    });
    await t.step("identity.json a link to a group-writable file: two warnings", async () => {
      const target = join(dir.path, "identity-elsewhere.json");
      await Deno.rename(identity, target);
      await Deno.chmod(target, 0o660);
      await Deno.symlink(target, identity);
      const result = await runSfs(["whoami"], { home });
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(diagnostics(result.stderr), [
        "sfs: warning",
        "sfs: hint",
        "sfs: warning",
        "sfs: hint",
      ]);
    });
  },
});
