/**
 * The AES-GCM path as a user gets it: `deno task sfs`'s flags let sfs load libcrypto, the
 * override forces WebCrypto, and a sender and a receiver on different paths still agree.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEFAULT_CHUNK_SIZE } from "../src/crypto/stream.ts";
import { NO_OPENSSL, OPENSSL_REQUIRED } from "../src/native/test_backends.ts";
import { randomFile, runSfs, sha256File, startSfs, tempDir } from "./harness.ts";
import { testHome } from "./identities.ts";
import { doneOf, readyOf } from "./peers.ts";

Deno.test("sfs --version --verbose names the AES-GCM path; SFS_CRYPTO picks it", async (t) => {
  await t.step("by default, OpenSSL where libcrypto 3 is installed", async () => {
    const result = await runSfs(["--version", "--verbose"]);
    assert.equal(result.code, 0, result.stderr);
    const line = /^crypto: (openssl|webcrypto): .*$/m.exec(result.stdout);
    assert.ok(line, result.stdout);
    if (OPENSSL_REQUIRED) assert.equal(line[1], "openssl", result.stdout);
  });
  await t.step("SFS_CRYPTO=webcrypto forces the fallback", async () => {
    const result = await runSfs(["--version", "--verbose"], { env: { SFS_CRYPTO: "webcrypto" } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^crypto: webcrypto: /m);
  });
  await t.step("an unknown SFS_CRYPTO is a usage error, not ignored", async () => {
    const result = await runSfs(["--version", "--json"], { env: { SFS_CRYPTO: "fast" } });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /"code":"USAGE"/);
  });
});

Deno.test({
  name: "sfs get receives intact when sender and receiver use different AES-GCM paths",
  ignore: NO_OPENSSL,
  fn: async (t) => {
    await using dir = await tempDir();
    const alice = await testHome(dir.path, "alice");
    const bob = await testHome(dir.path, "bob");
    const source = join(dir.path, "mixed.bin");
    await randomFile(source, 3 * DEFAULT_CHUNK_SIZE + 5);
    const want = await sha256File(source);
    for (const [sending, receiving] of [["webcrypto", "openssl"], ["openssl", "webcrypto"]]) {
      await t.step(`${sending} sender, ${receiving} receiver`, async () => {
        await using sender = startSfs(
          ["send", source, "--listen", "127.0.0.1:0", "--json", "--once"],
          { home: alice, env: { SFS_CRYPTO: sending } },
        );
        const ready = await readyOf(sender);
        const out = join(dir.path, `out-${sending}`);
        const result = await runSfs(["get", ready.ticket, "--out", out, "--json"], {
          home: bob,
          env: { SFS_CRYPTO: receiving },
        });
        assert.equal(result.code, 0, result.stderr);
        assert.equal(doneOf(result).sha256, want);
        assert.equal(await sha256File(join(out, "mixed.bin")), want);
        assert.equal((await sender.status).code, 0, sender.stderrText());
      });
    }
  },
});
