/**
 * The on-disk cache of the signed corpus, in the OS temp folder: signing takes ≈ 4 ms per
 * listing, so later runs with the same parameters reuse it (`--no-cache` re-signs).
 *
 * @module
 */

import { tmpdir } from "node:os";
import { join } from "node:path";
import { ByteReader, ByteWriter } from "../../../src/crypto/encoding.ts";
import { importIdentity } from "../../../src/crypto/keystore.ts";
import type { IndexConfig } from "./config.ts";
import { type Corpus, userName } from "./corpus.ts";
import type { PoolItem } from "./load_group.ts";

/** Bump when the corpus (fields, vocabulary, file layout) changes, so old caches are ignored. */
const CACHE_VERSION = 1;
const CACHE_ROOT = join(tmpdir(), "sfs-bench-index-cache");

/** The cache folder of one set of corpus parameters. */
export function cacheDir(config: IndexConfig): string {
  return join(
    CACHE_ROOT,
    `v${CACHE_VERSION}-seed${config.seed}-u${config.users}-n${config.listings}-p${config.announcePool}`,
  );
}

/** The cached corpus for `config`, or undefined when there is none (or it does not parse). */
export async function loadCorpus(config: IndexConfig): Promise<Corpus | undefined> {
  const dir = cacheDir(config);
  try {
    const started = performance.now();
    const ids = JSON.parse(await Deno.readTextFile(join(dir, "identities.json")));
    const bytes = await Deno.readFile(join(dir, "corpus.bin"));
    const reader = new ByteReader(bytes, "bench corpus");
    const count = reader.u32();
    const items: PoolItem[] = [];
    for (let i = 0; i < count; i++) {
      items.push({
        bytes: reader.bytes16(65535),
        rsa: reader.bytes16(65535),
        ed25519: reader.bytes16(65535),
      });
    }
    reader.end();
    if (count !== config.listings + config.announcePool) return undefined;
    const users = await Promise.all(
      (ids.users as string[]).map(async (text, u) => ({
        name: userName(u),
        identity: await importIdentity(text),
        text,
      })),
    );
    return {
      server: await importIdentity(ids.server),
      serverText: ids.server,
      users,
      items,
      fromCache: true,
      seconds: (performance.now() - started) / 1000,
    };
  } catch {
    return undefined;
  }
}

/** Stores `corpus` for later runs with the same parameters. */
export async function saveCorpus(config: IndexConfig, corpus: Corpus): Promise<void> {
  const dir = cacheDir(config);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const writer = new ByteWriter().u32(corpus.items.length);
  for (const item of corpus.items) {
    writer.bytes16(item.bytes).bytes16(item.rsa).bytes16(item.ed25519);
  }
  const ids = { server: corpus.serverText, users: corpus.users.map((u) => u.text) };
  // Temp file then rename: a run interrupted mid-write leaves no half cache behind.
  for (
    const [name, data] of [
      ["identities.json", new TextEncoder().encode(JSON.stringify(ids))],
      ["corpus.bin", writer.finish()],
    ] as const
  ) {
    const temp = join(dir, `${name}.${crypto.randomUUID()}`);
    await Deno.writeFile(temp, data, { mode: 0o600 });
    await Deno.rename(temp, join(dir, name));
  }
}
