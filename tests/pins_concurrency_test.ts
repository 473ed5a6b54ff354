import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { KNOWN_SERVERS_FILE, KNOWN_USERS_FILE } from "../src/cli/settings/pins.ts";
import { tempDir } from "./harness.ts";

const CHILD = fileURLToPath(new URL("./pins_child.ts", import.meta.url));
const PROCESSES = 8;
const USERS_EACH = 10;
const SERVER = "192.0.2.1:9999";

Deno.test("trustUser() and pinServer() in parallel processes keep every pin", async () => {
  await using dir = await tempDir();
  const home = join(dir.path, "home");
  const start = join(dir.path, "start");
  const children = Array.from({ length: PROCESSES }, (_, p) => {
    const users = Array.from({ length: USERS_EACH }, (_, u) => `user-${p}-${u}`);
    return new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", CHILD, home, start, SERVER, ...users],
      stdout: "null",
      stderr: "piped",
    }).spawn();
  });
  await Deno.writeTextFile(start, "");
  const results = await Promise.all(children.map((c) => c.output()));
  for (const r of results) assert.ok(r.success, new TextDecoder().decode(r.stderr));
  const users = JSON.parse(await Deno.readTextFile(join(home, KNOWN_USERS_FILE))).users[SERVER];
  assert.equal(Object.keys(users).length, PROCESSES * USERS_EACH);
  const servers = JSON.parse(await Deno.readTextFile(join(home, KNOWN_SERVERS_FILE))).servers;
  assert.equal(Object.keys(servers).length, PROCESSES);
});
