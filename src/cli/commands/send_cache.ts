/**
 * SFS_HOME's hash cache around one share's hashing (send_prepare.ts, send_tree.ts): loaded before,
 * saved after, and let go of before anything is served (docs/design/folders.md F8).
 *
 * @module
 */
import { join } from "../../path.ts";
import { HASH_CACHE_FILE, HashCache } from "../../peer/hash_cache.ts";
import type { Output } from "../output.ts";

/** Runs `use` with the cache of `home`, then saves it; the cache is released either way. */
export async function withHashCache<T>(
  home: string,
  out: Output,
  use: (cache: HashCache) => Promise<T>,
): Promise<T> {
  using cache = await HashCache.load(join(home, HASH_CACHE_FILE));
  const result = await use(cache);
  // A cache that cannot be saved costs the next share its hashing, nothing more.
  await cache.save().catch((err) => out.debug(`Hash cache not saved: ${err}`));
  return result;
}
