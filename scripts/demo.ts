/**
 * `deno task demo`: two fresh identities, one file, one transfer, told as a short story.
 *
 * Alice and Bob each run `sfs keygen`; Alice shares a few MiB of random data with
 * `sfs send --once`, Bob fetches it with `sfs get`, and the script checks what both sides
 * reported against the files on disk. Exits 1 if anything did not hold. Everything happens in a
 * temporary folder, which is removed afterwards.
 *
 * @module
 */

import { join } from "node:path";
import { randomFile, runSfs, type SfsEvent, sha256File, startSfs } from "../tests/harness.ts";

const DEMO_BYTES = 4 * 1024 * 1024 + 321;
// An empty passphrase means "store unencrypted, do not ask": the demo never waits for a prompt.
const ENV = { SFS_PASSPHRASE: "" };

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
  say("   sender holds the key named in the ticket; every 1 MiB chunk is authenticated as it");
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
  check(left.length === 1, `only the final file is in Bob's folder (${left.join(", ")})`);
}

async function run(): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "sfs-demo-" });
  say("sfs demo: an end-to-end encrypted, signed transfer between two fresh identities");
  say(`(working in ${dir})`);
  say();
  try {
    await demo(dir);
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
