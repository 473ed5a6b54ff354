import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readConfig } from "../src/cli/settings/config.ts";
import { tempDir } from "./harness.ts";

const CHILD = fileURLToPath(new URL("./config_child.ts", import.meta.url));
const ROUNDS = 100;
const SERVER = "192.0.2.1:9999";
const USER = "alice";
/** Two children set one field each, once; all of them rewrite what they read. */
const FIELDS = [["server", SERVER], ["user", USER], ...Array(4).fill(["-", "-"])];

Deno.test("updateConfig() in parallel processes loses no field", async () => {
  await using dir = await tempDir();
  const home = join(dir.path, "home");
  const start = join(dir.path, "start");
  const children = FIELDS.map(([field, value]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", CHILD, home, start, field, value, `${ROUNDS}`],
      stdout: "null",
      stderr: "piped",
    }).spawn()
  );
  await Deno.writeTextFile(start, "");
  const results = await Promise.all(children.map((c) => c.output()));
  for (const r of results) assert.ok(r.success, new TextDecoder().decode(r.stderr));
  assert.deepEqual(await readConfig(home), { server: SERVER, user: USER });
});
