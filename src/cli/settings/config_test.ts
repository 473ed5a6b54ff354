import assert from "node:assert/strict";
import { join } from "node:path";
import { isSfsError } from "../../errors.ts";
import { CONFIG_FILE, readConfig, resolveIndex, updateConfig } from "./config.ts";

async function withHome(fn: (home: string) => Promise<void>): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "sfs-config-test-" });
  try {
    await fn(home);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test("resolveIndex() prefers --server, then SFS_SERVER, then config.json", async () => {
  await withHome(async (home) => {
    const noEnv = () => undefined;
    assert.equal(await resolveIndex(home, { env: noEnv }), undefined);
    await updateConfig(home, { server: "saved.example:9999", user: "alice" });
    assert.deepEqual(await resolveIndex(home, { env: noEnv }), {
      address: { host: "saved.example", port: 9999 },
      server: "saved.example:9999",
      user: "alice",
    });
    const env = (name: string) => name === "SFS_SERVER" ? "[::1]:7" : undefined;
    assert.equal((await resolveIndex(home, { env }))?.server, "[::1]:7");
    assert.equal(
      (await resolveIndex(home, { env, server: "flag.example:1" }))?.server,
      "flag.example:1",
    );
    // An empty SFS_SERVER counts as unset.
    assert.equal((await resolveIndex(home, { env: () => "" }))?.server, "saved.example:9999");
  });
});

Deno.test("updateConfig() merges and readConfig() rejects malformed files", async () => {
  await withHome(async (home) => {
    await updateConfig(home, { server: "a.example:1" });
    await updateConfig(home, { user: "bob" });
    assert.deepEqual(await readConfig(home), { server: "a.example:1", user: "bob" });
    await Deno.writeTextFile(join(home, CONFIG_FILE), '{"server": 5}');
    await assert.rejects(readConfig(home), (err) => isSfsError(err, "USAGE"));
    await Deno.writeTextFile(join(home, CONFIG_FILE), '{"server": "no host:1"}');
    await assert.rejects(
      resolveIndex(home, { env: () => undefined }),
      (err) => isSfsError(err, "USAGE"),
    );
  });
});

Deno.test("resolveIndex() gives a server named without a port the default port 9999", async () => {
  await withHome(async (home) => {
    const target = await resolveIndex(home, { env: () => undefined, server: "index.example" });
    assert.deepEqual(target?.address, { host: "index.example", port: 9999 });
    assert.equal(target?.server, "index.example:9999");
  });
});
