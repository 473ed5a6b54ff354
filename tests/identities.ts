/**
 * Test identities, generated once per test run: RSA-3072 key generation takes up to ~1.5 s, so
 * each named identity is made by the first test that asks and cached on disk for the others
 * (deno test runs every test file in its own isolate but in one process, so the process id names
 * the run). Caches of earlier runs, whose process is gone, are deleted on first use.
 */
import { join } from "node:path";
import type { Identity } from "../src/crypto/identity.ts";
import { generateIdentity } from "../src/crypto/identity.ts";
import { exportIdentity, importIdentity } from "../src/crypto/keystore.ts";

const CACHE_ROOT = join(Deno.env.get("TMPDIR") ?? "/tmp", "sfs-test-identities");
const CACHE_DIR = join(CACHE_ROOT, String(Deno.pid));
const memory = new Map<string, Promise<string>>();
let swept = false;

/** The stored form (identity.json text) of the named test identity, unencrypted. */
export function identityText(name: string): Promise<string> {
  let text = memory.get(name);
  if (!text) {
    text = loadOrCreate(name);
    memory.set(name, text);
  }
  return text;
}

/** The named test identity, imported. */
export async function testIdentity(name: string): Promise<Identity> {
  return await importIdentity(await identityText(name));
}

/** Creates an sfs home folder inside `parent` holding the named identity; returns its path. */
export async function testHome(parent: string, name: string): Promise<string> {
  const home = join(parent, `home-${name}`);
  await Deno.mkdir(home, { recursive: true });
  await Deno.writeTextFile(join(home, "identity.json"), await identityText(name), { mode: 0o600 });
  return home;
}

async function loadOrCreate(name: string): Promise<string> {
  if (!swept) {
    swept = true;
    await sweepFinishedRuns();
  }
  const path = join(CACHE_DIR, `${name}.json`);
  try {
    return await Deno.readTextFile(path);
  } catch {
    const text = await exportIdentity(await generateIdentity());
    await Deno.mkdir(CACHE_DIR, { recursive: true });
    // Write then rename: a test file running at the same time never reads half a file.
    const temp = `${path}.${crypto.randomUUID()}`;
    await Deno.writeTextFile(temp, text);
    await Deno.rename(temp, path);
    return text;
  }
}

/** Removes the caches of runs whose process has ended (Linux: no /proc entry). */
async function sweepFinishedRuns(): Promise<void> {
  if (Deno.build.os !== "linux") return;
  try {
    for await (const entry of Deno.readDir(CACHE_ROOT)) {
      const alive = await Deno.stat(`/proc/${entry.name}`).then(() => true, () => false);
      if (!alive) await Deno.remove(join(CACHE_ROOT, entry.name), { recursive: true });
    }
  } catch {
    // No cache yet, or another run swept first.
  }
}
