/**
 * What a person sees in a terminal (issue 14): progress lines fitted to 80 columns, one line
 * per receiver on the sender, no stale bar above a warning. Run through a pseudo-terminal.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEFAULT_CHUNK_SIZE as CHUNK } from "../src/crypto/stream.ts";
import { randomFile, tempDir } from "./harness.ts";
import { testHome } from "./identities.ts";
import { get, withPort } from "./peers.ts";
import { startStallingProxy } from "./stall.ts";
import { screenOf, screenShows, startSfsInTerminal } from "./terminal.ts";
import {
  PASSWORD,
  registeredHome,
  sfs,
  startSender as startIndexSender,
  startServer,
} from "./index_fixture.ts";

const LONG_NAME = "a-very-long-file-name-that-goes-on-and-on-and-on-for-ever-2026-12-04.tar.gz";

/** Progress lines on a screen: those with a percent and an ETA. */
function barLines(lines: string[]): string[] {
  return lines.filter((line) => /\d+% .* ETA /.test(line));
}

/** The sender's lines for its receivers. */
function receiverLines(lines: string[]): string[] {
  return barLines(lines).filter((line) => line.startsWith("→ "));
}

/** Alice's home, bob's home and a file of `size` bytes named `name`, in a temp folder. */
async function setUp(name: string, size: number) {
  const dir = await tempDir();
  const alice = await testHome(dir.path, "alice");
  const bob = await testHome(dir.path, "bob");
  const source = join(dir.path, name);
  await randomFile(source, size);
  return { dir, alice, bob, source };
}

/** The ticket a sender in a terminal printed. */
async function ticketOn(sender: ReturnType<typeof startSfsInTerminal>): Promise<string> {
  const lines = await screenShows(sender, (l) => l.some((line) => line.startsWith("sfs://")));
  return lines.find((line) => line.startsWith("sfs://"))!.trim();
}

Deno.test("sfs get at 80 columns shortens a long name, never the numbers", async () => {
  const s = await setUp(LONG_NAME, 3 * CHUNK);
  await using _dir = s.dir;
  await using sender = startSfsInTerminal(["send", "--listen", "127.0.0.1:0", s.source], {
    home: s.alice,
  });
  const ticket = await ticketOn(sender);
  await using receiver = startSfsInTerminal(["get", ticket, "--out", join(s.dir.path, "out")], {
    home: s.bob,
  });
  assert.equal((await receiver.status).code, 0, receiver.stdoutText());
  await receiver.drained();
  const bars = barLines(screenOf(receiver.stdoutText()));
  assert.equal(bars.length, 1, screenOf(receiver.stdoutText()).join("\n"));
  assert.ok([...bars[0]].length < 80, bars[0]);
  assert.match(bars[0], /…[^ ]*\.tar\.gz \[#+\] 100% 768\.0 KiB\/768\.0 KiB \S+ \S+\/s ETA 0s$/);
  // The sender hashed before serving and showed how far it got.
  assert.ok(barLines(screenOf(sender.stdoutText())).some((l) => l.startsWith("Hashing ")));
});

Deno.test("sfs send shows one line per receiver; the first to finish leaves the other's", async () => {
  // Larger than the socket buffers, so a held receiver holds its transfer at the sender too.
  const s = await setUp("shared.bin", 128 * CHUNK);
  await using _dir = s.dir;
  await using sender = startSfsInTerminal(["send", "--listen", "127.0.0.1:0", s.source], {
    home: s.alice,
    columns: 120,
  });
  const ticket = await ticketOn(sender);
  const port = Number(/:(\d+)\//.exec(ticket)![1]);
  // Each receiver held at its own chunk, so both are mid-transfer at once.
  await using first = startStallingProxy(port, 4);
  await using second = startStallingProxy(port, 8);
  const one = get(s.bob, withPort(ticket, first.port), join(s.dir.path, "one"));
  await first.reached;
  const two = get(s.bob, withPort(ticket, second.port), join(s.dir.path, "two"));
  await second.reached;
  const both = await screenShows(sender, (l) => receiverLines(l).length === 2);
  const [a, b] = receiverLines(both);
  assert.notEqual(a.split(" ")[1], b.split(" ")[1], "each line names its own receiver");
  first.release();
  assert.equal((await one).code, 0);
  // The first receiver's line ends at 100% and stays; the second's stays live, at the bottom.
  const firstPeer = a.split(" ")[1];
  const after = await screenShows(sender, (l) => l.some((line) => line.startsWith("Sent ")));
  assert.ok(after.some((line) => line.startsWith(`→ ${firstPeer} `) && / 100% /.test(line)));
  const bottom = after[after.length - 1];
  assert.ok(receiverLines([bottom]).length === 1 && !bottom.startsWith(`→ ${firstPeer} `), bottom);
  second.release();
  assert.equal((await two).code, 0);
});

Deno.test("sfs send removes a failed receiver's line before its warning", async () => {
  const s = await setUp("shared.bin", 12 * CHUNK);
  await using _dir = s.dir;
  await using sender = startSfsInTerminal(["send", "--listen", "127.0.0.1:0", s.source], {
    home: s.alice,
  });
  const ticket = await ticketOn(sender);
  const port = Number(/:(\d+)\//.exec(ticket)![1]);
  await using proxy = startStallingProxy(port, 4);
  const receiver = get(s.bob, withPort(ticket, proxy.port), join(s.dir.path, "out"));
  await proxy.reached;
  await screenShows(sender, (l) => receiverLines(l).length === 1);
  await proxy[Symbol.asyncDispose]();
  await receiver;
  const lines = await screenShows(sender, (l) => l.some((line) => line.includes("failed")));
  assert.deepEqual(receiverLines(lines), [], lines.join("\n"));
});

Deno.test("sfs ls fits 80 columns, keeps the ID whole, and --mine says with whom", async () => {
  await using dir = await tempDir();
  await using server = await startServer(join(dir.path, "server"));
  const alice = await registeredHome(dir.path, server, "alice");
  await registeredHome(dir.path, server, "bob");
  const source = join(dir.path, LONG_NAME);
  await randomFile(source, 1000);
  await using sender = await startIndexSender(alice, [source], ["--to", "bob", "--yes"]);
  await using ls = startSfsInTerminal(["ls", "--mine"], {
    home: alice,
    env: { SFS_PASSWORD: PASSWORD },
  });
  assert.equal((await ls.status).code, 0, ls.stdoutText());
  await ls.drained();
  const lines = screenOf(ls.stdoutText());
  const header = lines.findIndex((line) => line.startsWith("ID "));
  assert.ok(header >= 0, lines.join("\n"));
  const table = lines.slice(header);
  for (const line of table) assert.ok([...line].length < 80, `${line.length}: ${line}`);
  assert.match(table[0], /\sTO\s/);
  assert.ok(table[1].startsWith(`${sender.id} `), table[1]);
  assert.match(table[1], /…[^ ]*\.tar\.gz .*\sbob\s/);
  // --json has every value whole.
  const json = await sfs(alice, ["ls", "--mine", "--json"]);
  const [listing] = JSON.parse(json.stdout.trim());
  assert.equal(listing.name, LONG_NAME);
  assert.deepEqual(listing.recipients, ["bob"]);
});
