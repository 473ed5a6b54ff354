/**
 * `deno task demo`: two fresh identities and two transfers, told as a short story.
 *
 * Part one, direct mode: Alice and Bob each run `sfs keygen`; Alice shares a few MiB of random
 * data with `sfs send --once`, Bob fetches it with the ticket, and the script checks what both
 * sides reported against the files on disk. Part two, through an index server: an `sfs server`
 * starts, both register, Alice shares a file under keywords, Bob finds it with `sfs search` and
 * fetches it by name. Exits 1 if anything did not hold. Everything happens on 127.0.0.1 in a
 * temporary folder, which is removed afterwards.
 *
 * `SFS_CMD=PATH deno task demo` runs every step with that executable instead of the source, e.g.
 * a compiled binary: CI's smoke transfer with what users download.
 *
 * @module
 */

import { basename, join } from "node:path";
import { randomFile, sha256File } from "./lib/files.ts";
import { runSfs, SFS_CMD, type SfsEvent, startSfs } from "./lib/sfs_process.ts";

const DEMO_BYTES = 4 * 1024 * 1024 + 321;
// An empty passphrase means "store unencrypted, do not ask": the demo never waits for a prompt.
const ENV = { SFS_PASSPHRASE: "", SFS_PASSWORD: "demo password 1234" };

const say = (text = ""): void => console.log(text);
const failures: string[] = [];

function check(ok: boolean, what: string): void {
  say(`   ${ok ? "✓" : "✗"} ${what}`);
  if (!ok) failures.push(what);
}

/** Runs `sfs keygen` for a fresh home and returns the new fingerprint. */
async function keygen(home: string): Promise<string> {
  const result = await runSfs(["keygen", "--json"], { home, env: ENV });
  const event = result.events.find((e) => e.event === "identity");
  if (result.code !== 0 || !event) throw new Error(`sfs keygen failed:\n${result.stderr}`);
  return String(event.fingerprint);
}

async function demo(dir: string): Promise<void> {
  const aliceHome = join(dir, "alice");
  const bobHome = join(dir, "bob");
  say("1. Alice and Bob each create an identity (sfs keygen):");
  say("   RSA-3072 for key transport and signatures, plus an Ed25519 signing key.");
  const [alice, bob] = await Promise.all([keygen(aliceHome), keygen(bobHome)]);
  say(`   Alice  ${alice}`);
  say(`   Bob    ${bob}`);

  const file = join(dir, "holiday-photos.tar");
  await randomFile(file, DEMO_BYTES);
  const original = await sha256File(file);
  say();
  say(`2. Alice shares "holiday-photos.tar" (${DEMO_BYTES} bytes) with sfs send --once.`);
  await using sender = startSfs(
    ["send", file, "--listen", "127.0.0.1:0", "--once", "--json"],
    { home: aliceHome, env: ENV },
  );
  const ready = await sender.nextEvent((e) => e.event === "ready");
  const ticket = String(ready.ticket);
  say("   She gives Bob this ticket (address, file id and her fingerprint):");
  say(`   ${ticket}`);
  check(ticket.endsWith(`#${alice}`), "the ticket names Alice's key");

  say();
  say("3. Bob fetches it with sfs get. Before any byte of the file arrives, sfs checks that the");
  say("   sender holds the key named in the ticket; every 256 KiB chunk is authenticated as it");
  say("   arrives, and the file appears under its name only after all checks passed.");
  const out = join(dir, "bob-downloads");
  const got = await runSfs(["get", ticket, "--out", out, "--json"], { home: bobHome, env: ENV });
  const done: SfsEvent | undefined = got.events.find((e) => e.event === "done");
  if (got.code !== 0 || !done) throw new Error(`sfs get failed (exit ${got.code}):\n${got.stderr}`);
  const saved = String(done.path);
  say(`   Saved ${saved} (${done.bytes} bytes)`);
  say(`   Verified: ${(done.verified as string[]).join(", ")}`);

  const sent = await sender.nextEvent((e) => e.event === "sent");
  const status = await sender.status;

  say();
  say("4. What the two sides agree on:");
  const received = await sha256File(saved);
  check(received === original, `SHA-256 of the received file equals the original: ${original}`);
  check(done.sha256 === original && ready.sha256 === original, "both sides reported that hash");
  check(done.bytes === DEMO_BYTES && (await Deno.stat(saved)).size === DEMO_BYTES, "sizes equal");
  check(done.sender === alice, "Bob's sfs verified the sender as Alice");
  check(sent.receiver === bob, "Alice's sfs saw Bob's key as the receiver");
  check(status.code === 0, "sfs send --once exited 0 after the transfer");
  const left = [];
  for await (const entry of Deno.readDir(out)) left.push(entry.name);
  // Beside the file, its proof of origin: the owner's signed manifest, for `sfs verify` later.
  check(
    left.length === 2 && left.includes(`${basename(saved)}.sfs-proof`),
    `only the final file and its proof of origin are in Bob's folder (${left.sort().join(", ")})`,
  );
}

/** Part two: the same people, now through an index server with search. */
async function demoIndex(dir: string): Promise<void> {
  const aliceHome = join(dir, "alice");
  const bobHome = join(dir, "bob");
  say();
  say("5. An index server starts (sfs server). It has its own identity, and it stores accounts");
  say("   and signed listings in SQLite; it never sees file contents.");
  await using server = startSfs(
    ["server", "--listen", "127.0.0.1:0", "--db", join(dir, "index.db"), "--json"],
    { home: join(dir, "server"), env: ENV },
  );
  const listening = await server.nextEvent((e) => e.event === "listening");
  const address = `127.0.0.1:${listening.port}`;
  say(`   Listening on ${address}, fingerprint ${listening.fingerprint}`);

  say();
  say("6. Both register (sfs register); each pins the server's key on first use, like SSH.");
  for (const [name, home] of [["alice", aliceHome], ["bob", bobHome]]) {
    const result = await runSfs(
      [
        "register",
        "--server",
        address,
        "--user",
        name,
        "--server-fingerprint",
        String(listening.fingerprint),
        "--json",
      ],
      { home, env: ENV },
    );
    check(result.code === 0, `${name} registered${result.code === 0 ? "" : `: ${result.stderr}`}`);
  }

  const file = join(dir, "q3-report.pdf");
  await randomFile(file, 1_500_000);
  const original = await sha256File(file);
  say();
  say('7. Alice shares "q3-report.pdf" under the keywords quarterly and finance. The listing is');
  say("   signed with her keys, so a compromised index could hide it but not alter it.");
  await using sender = startSfs(
    [
      "send",
      file,
      "--keyword",
      "quarterly",
      "--keyword",
      "finance",
      "--listen",
      "127.0.0.1:0",
      "--once",
      "--json",
    ],
    { home: aliceHome, env: ENV },
  );
  const ready = await sender.nextEvent((e) => e.event === "ready");
  say(`   Announced as ${ready.id}`);

  say();
  say('8. Bob searches for "quarterly" (sfs search) and fetches the file by name (sfs get).');
  const found = await runSfs(["search", "quarterly", "--json"], { home: bobHome, env: ENV });
  const listings = found.code === 0 ? JSON.parse(found.stdout) as SfsEvent[] : [];
  const hit = listings.find((l) => l.id === ready.id);
  check(hit !== undefined && hit.online === true, "the search shows Alice's file, online");
  check(hit?.owner === "alice", "listed as Alice's, signature checked by Bob's sfs");
  const out = join(dir, "bob-index-downloads");
  const got = await runSfs(["get", "q3-report.pdf", "--out", out, "--yes", "--json"], {
    home: bobHome,
    env: ENV,
  });
  const done = got.events.find((e) => e.event === "done");
  if (got.code !== 0 || !done) throw new Error(`sfs get by name failed:\n${got.stderr}`);
  say(`   Saved ${done.path}`);
  check(await sha256File(String(done.path)) === original, "the file arrived intact, by name");
  check((await sender.status).code === 0, "Alice's sfs send --once withdrew the file and exited");
}

async function run(): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "sfs-demo-" });
  say("sfs demo: an end-to-end encrypted, signed transfer between two fresh identities");
  say(`(working in ${dir}; running ${Deno.env.get("SFS_CMD") ? SFS_CMD[0] : "sfs from source"})`);
  say();
  try {
    await demo(dir);
    await demoIndex(dir);
  } catch (err) {
    failures.push(err instanceof Error ? err.message : String(err));
    console.error(`\ndemo failed: ${failures.at(-1)}`);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  say();
  say(failures.length === 0 ? "All checks passed." : `${failures.length} check(s) FAILED.`);
  return failures.length === 0 ? 0 : 1;
}

if (import.meta.main) {
  Deno.exit(await run());
}
