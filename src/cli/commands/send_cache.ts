/**
 * SFS_HOME's hash cache around one share's hashing (send_prepare.ts, send_tree.ts): loaded before,
 * saved after, and let go of before anything is served (docs/design/folders.md F8).
 *
 * @module
 */
import { join } from "../../path.ts";
import { HASH_CACHE_FILE, HashCache } from "../../peer/hash_cache.ts";
import type { Output } from "../output.ts";

/**
 * Runs `use` with the cache of `home`, then saves it; the cache is released either way. With
 * `only`, just those files' records are held in memory (a share of one file or a few).
 */
export async function withHashCache<T>(
  home: string,
  out: Output,
  use: (cache: HashCache) => Promise<T>,
  only?: readonly Deno.FileInfo[],
): Promise<T> {
  using cache = await HashCache.load(join(home, HASH_CACHE_FILE), { only });
  const result = await use(cache);
  // A cache that cannot be saved costs the next share its hashing, nothing more.
  await cache.save().catch((err) => out.debug(`Hash cache not saved: ${err}`));
  return result;
}
