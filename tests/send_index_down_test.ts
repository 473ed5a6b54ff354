/**
 * `sfs send` with an index configured (issue 14): it still prints a ticket beside each listing
 * id, and an index that cannot be reached does not stop the sharing: tickets work at once, and
 * the files are announced as soon as the index answers.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { randomFile, sha256File, startSfs, tempDir } from "./harness.ts";
import { doneOf } from "./peers.ts";
import {
  eventually,
  PASSWORD,
  registeredHome,
  seedServerIdentity,
  sfs,
  startServer,
} from "./index_fixture.ts";
import { testHome } from "./identities.ts";

/** The `sfs://…` tickets a human-mode `sfs send` printed on stdout. */
function ticketsIn(stdout: string): string[] {
  return stdout.split("\n").flatMap((line) => line.match(/sfs:\/\/\S+/g) ?? []);
}

Deno.test("sfs send with an index prints each listing id with its ticket", async () => {
  await using dir = await tempDir();
  await seedServerIdentity(dir.path);
  await using server = await startServer(dir.path);
  const alice = await registeredHome(dir.path, server, "alice");
  const bob = await testHome(dir.path, "bob");
  const file = join(dir.path, "report.bin");
  await randomFile(file, 3000);
  await using sender = startSfs(["send", file, "--listen", "127.0.0.1:0", "--once"], {
    home: alice,
    env: { SFS_PASSWORD: PASSWORD },
  });
  let tickets: string[] = [];
  await eventually(
    () => Promise.resolve((tickets = ticketsIn(sender.stdoutText())).length > 0),
    30_000,
    `a ticket on stdout (stderr: ${sender.stderrText()})`,
  );
  const out = join(dir.path, "out");
  const result = await sfs(bob, ["get", tickets[0], "--out", out, "--json"]);
  assert.equal(doneOf(result).sha256, await sha256File(file));
  const id = ticketsIn(sender.stdoutText())[0].split("/")[3].split("#")[0];
  assert.match(sender.stdoutText(), new RegExp(`^${id}  `, "m"), "the listing id starts the line");
});

Deno.test("sfs send with an unreachable index shares by ticket and announces once it is up", async () => {
  await using dir = await tempDir();
  await seedServerIdentity(dir.path);
  const first = await startServer(dir.path);
  const port = first.port;
  const alice = await registeredHome(dir.path, first, "alice");
  const bob = await registeredHome(dir.path, first, "bob");
  await first[Symbol.asyncDispose](); // the index goes down
  const file = join(dir.path, "plan.bin");
  await randomFile(file, 3000);
  await using sender = startSfs(["send", file, "--listen", "127.0.0.1:0", "--json"], {
    home: alice,
    env: { SFS_PASSWORD: PASSWORD },
  });
  const ready = await sender.nextEvent((e) => e.event === "ready");
  assert.ok(
    sender.events.some((e) => e.event === "index" && e.status === "offline"),
    "the sender reports the index offline",
  );
  const out = join(dir.path, "out");
  const byTicket = await sfs(bob, ["get", String(ready.ticket), "--out", out, "--json"]);
  assert.equal(doneOf(byTicket).sha256, await sha256File(file));

  // The index comes back on its address: the sender announces in the background.
  await using _server = await startServer(dir.path, port);
  await sender.nextEvent((e) => e.event === "index" && e.status === "online", 40_000);
  await eventually(
    async () => {
      const found = await sfs(bob, ["search", "plan", "--json"]);
      return found.code === 0 && found.stdout.includes(String(ready.id));
    },
    10_000,
    "the file is listed on the index",
  );
});
