/**
 * The database of an index benchmark run: the users registered and the pre-fill listings stored
 * straight through the store (SqliteStore here, PgStore in pg.ts), the way the server's ANNOUNCE handler stores them (the same fields,
 * signatures and checks), so the server starts on a realistic index.
 *
 * @module
 */

import { join } from "node:path";
import { formatFingerprint } from "../../../src/crypto/identity.ts";
import {
  decodeAnnouncement,
  verifyAnnouncement,
} from "../../../src/index/protocol/announcement.ts";
import { announcementRow } from "../../../src/index/server/handlers_listings.ts";
import { hashPassword } from "../../../src/index/server/password.ts";
import type { Announcement, IndexStore } from "../../../src/index/server/store.ts";
import { SqliteStore } from "../../../src/index/server/store_sqlite.ts";
import type { IndexConfig } from "./config.ts";
import { addressOf, type Corpus } from "./corpus.ts";
import type { PoolItem } from "./load_group.ts";

const PREFILL_BATCH = 1000;
/** Listings of the pre-fill re-verified from a cached corpus, as a check on the cache. */
const CACHE_SPOT_CHECKS = 64;
const PASSWORD = "bench password, never used to log in";

/** The pre-filled database. */
export interface Prefill {
  dbPath: string;
  seconds: number;
  dbBytes: number;
}

/** Creates `dir`/index.db with the corpus's users and its first `config.listings` listings. */
export async function prefill(config: IndexConfig, corpus: Corpus, dir: string): Promise<Prefill> {
  const started = performance.now();
  const dbPath = join(dir, "index.db");
  const store = SqliteStore.open(dbPath);
  try {
    await fillStore(store, config, corpus);
  } finally {
    await store.close();
  }
  const dbBytes = (await Deno.stat(dbPath)).size;
  return { dbPath, seconds: (performance.now() - started) / 1000, dbBytes };
}

/** Registers the corpus's users in `store` and stores its first `config.listings` listings. */
export async function fillStore(
  store: IndexStore,
  config: IndexConfig,
  corpus: Corpus,
): Promise<void> {
  const userIds = await registerUsers(store, corpus);
  let batch: Announcement[] = [];
  for (let i = 0; i < config.listings; i++) {
    const u = i % config.users;
    const item = corpus.items[i];
    // A cached corpus is spot-checked against the registered keys the real path would use.
    if (corpus.fromCache && i % Math.ceil(config.listings / CACHE_SPOT_CHECKS) === 0) {
      await verifyAnnouncement(
        item.bytes,
        { rsa: item.rsa, ed25519: item.ed25519 },
        corpus.users[u].identity.public,
      );
    }
    const stored = storedAnnouncement(item, userIds[u], u);
    if (stored.ownerName !== corpus.users[u].name) {
      throw new Error(`Corpus item ${i} has the wrong owner`);
    }
    batch.push(stored.announcement);
    if (batch.length === PREFILL_BATCH || i === config.listings - 1) {
      await store.announceMany(batch);
      batch = [];
    }
  }
}

/** Registers every bench user and marks it online; returns their user ids. */
async function registerUsers(store: IndexStore, corpus: Corpus): Promise<number[]> {
  // One hash for all: the users never log in with a password (they use AUTH).
  const passwordHash = await hashPassword(PASSWORD);
  const userIds: number[] = [];
  for (const [u, user] of corpus.users.entries()) {
    const id = await store.createUser({
      username: user.name,
      passwordHash,
      identity: user.identity.public.encoded,
      fingerprint: formatFingerprint(user.identity.public.fingerprint),
    });
    await store.setOnline(id, `prefill-${u}`, addressOf(u));
    userIds.push(id);
  }
  return userIds;
}

/** The row the ANNOUNCE handler would store for `item`, announced by user `u` (id `ownerId`). */
function storedAnnouncement(
  item: PoolItem,
  ownerId: number,
  u: number,
): { ownerName: string; announcement: Announcement } {
  const a = decodeAnnouncement(item.bytes);
  const signatures = { rsa: item.rsa, ed25519: item.ed25519 };
  return {
    ownerName: a.owner,
    announcement: announcementRow(a, item.bytes, signatures, ownerId, `prefill-${u}`),
  };
}
