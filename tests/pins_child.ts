/**
 * A child process for tests/pins_concurrency_test.ts: waits for the start file, then pins each
 * named user (and one server) in SFS home `home`, as `sfs get` and `sfs send` would.
 *
 *   deno run --allow-read --allow-write tests/pins_child.ts HOME START_FILE SERVER USER…
 */
import { pinServer, trustUser } from "../src/cli/settings/pins.ts";
import { Output } from "../src/cli/output.ts";

const [home, startFile, server, ...users] = Deno.args;
const out = new Output({ json: false, quiet: true, debug: false });
// Start together: Deno's start-up time varies by more than the race window.
while (!await Deno.stat(startFile).then(() => true, () => false)) {
  await new Promise((resolve) => setTimeout(resolve, 5));
}
const fingerprint = (name: string) =>
  new Uint8Array(32).fill(name.length).map((b, i) => b ^ name.charCodeAt(i % name.length));
for (const user of users) {
  await trustUser(home, server, user, fingerprint(user), { out, yes: true });
}
await pinServer(home, `${users[0]}.example:1`, fingerprint(users[0]));
