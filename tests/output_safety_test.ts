/**
 * Names reach other people's terminals: `sfs send` refuses to share a file whose name has control
 * or bidi characters (every receiver would refuse its manifest), and says so without printing
 * them. The receiving side is covered in hostile_peer_test.ts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { isDisplaySafe } from "../src/text.ts";
import { runSfs, tempDir } from "./harness.ts";
import { testHome } from "./identities.ts";
import { errorOf } from "./peers.ts";

Deno.test("sfs send refuses a file name with escapes or bidi characters, printing none", async (t) => {
  await using dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const names = ["\u001b]0;owned\u0007x.txt", "invoice\u202efdp.exe", "a\u2028b.txt"];
  for (const name of names) {
    await t.step(JSON.stringify(name), async () => {
      const path = join(dir.path, name);
      await Deno.writeTextFile(path, "content\n");
      for (const json of [true, false]) {
        const args = ["send", path, "--listen", "127.0.0.1:0", "--no-index"];
        const result = await runSfs(json ? [...args, "--json"] : args, { home: alice });
        assert.equal(result.code, 1, result.stderr);
        if (json) assert.equal(errorOf(result).code, "UNSAFE_NAME");
        for (const text of [result.stdout, result.stderr]) {
          assert.ok(isDisplaySafe(text.replaceAll("\n", "")), JSON.stringify(text));
        }
      }
    });
  }
});
