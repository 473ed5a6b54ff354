/**
 * The signed corpus of the index benchmark: the server's and the users' identities, and every
 * announcement signed by its owner, listing fields drawn from the seeded workload.
 *
 * @module
 */

import { generateIdentity, type Identity } from "../../../src/crypto/identity.ts";
import { exportIdentity } from "../../../src/crypto/keystore.ts";
import { signAnnouncement } from "../../../src/index/protocol/announcement.ts";
import { fileIdOf } from "../../../src/crypto/file_id.ts";
import type { Log } from "../run.ts";
import type { IndexConfig } from "./config.ts";
import type { PoolItem } from "./load_group.ts";
import { listingFields, makeVocabulary } from "./workload.ts";

/** Signatures in flight while building the corpus (WebCrypto signs on a thread pool). */
const SIGN_CONCURRENCY = 8;

/** A bench user: its name, its identity, and that identity exported (unencrypted). */
export interface CorpusUser {
  name: string;
  identity: Identity;
  text: string;
}

/** The identities and signed announcements a run uses. */
export interface Corpus {
  server: Identity;
  serverText: string;
  users: CorpusUser[];
  /** Signed announcements: the first `listings` pre-fill the database, the rest are the pool. */
  items: PoolItem[];
  fromCache: boolean;
  seconds: number;
}

/** The name of bench user `u`: `bench-007`. */
export function userName(u: number): string {
  return `bench-${String(u).padStart(3, "0")}`;
}

/** Address user `u` serves its files from (documentation range; nothing connects to it). */
export function addressOf(u: number): string {
  return `192.0.2.${(u % 250) + 1}:${7000 + u}`;
}

/** Generates the identities and signs every announcement of the corpus (the slow part). */
export async function buildCorpus(config: IndexConfig, log: Log): Promise<Corpus> {
  const started = performance.now();
  log(`generating ${config.users} user identities and the server's (RSA-3072 ×2 each)…`);
  const identities = await Promise.all(
    Array.from({ length: config.users + 1 }, () => generateIdentity()),
  );
  const texts = await Promise.all(identities.map((identity) => exportIdentity(identity)));
  const users = identities.slice(1).map((identity, u) => ({
    name: userName(u),
    identity,
    text: texts[u + 1],
  }));
  const total = config.listings + config.announcePool;
  log(`signing ${total.toLocaleString("en-US")} announcements (RSA-PSS + Ed25519)…`);
  const sign = announcementSigner(config, users);
  const items = new Array<PoolItem>(total);
  let nextIndex = 0;
  let lastReport = performance.now();
  await Promise.all(Array.from({ length: SIGN_CONCURRENCY }, async () => {
    while (nextIndex < total) {
      const i = nextIndex++;
      items[i] = await sign(i);
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        const rate = i / ((lastReport - started) / 1000);
        log(`  ${i.toLocaleString("en-US")} signed (${Math.round(rate)}/s)`);
      }
    }
  }));
  return {
    server: identities[0],
    serverText: texts[0],
    users,
    items,
    fromCache: false,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Returns a function that signs corpus item `i` as its owner, user `i % users`. */
function announcementSigner(
  config: IndexConfig,
  users: CorpusUser[],
): (i: number) => Promise<PoolItem> {
  const vocab = makeVocabulary(config.seed, config.listings);
  const names = users.map((u) => u.name);
  const now = Date.now();
  return async (i) => {
    const u = i % config.users;
    const user = users[u];
    const f = listingFields(vocab, i, { seed: config.seed, users: config.users });
    const fingerprint = user.identity.public.fingerprint;
    const signed = await signAnnouncement(user.identity, {
      fileId: await fileIdOf(fingerprint, f.sha256, f.name),
      owner: user.name,
      ownerFingerprint: fingerprint,
      name: f.name,
      size: f.size,
      sha256: f.sha256,
      keywords: f.keywords,
      recipients: f.recipients.filter((r) => r !== u).map((r) => names[r]).sort(),
      address: addressOf(u),
      // Pre-fill listings were announced over the past weeks, one a minute; the pool is new.
      createdAt: i < config.listings ? now - (config.listings - i) * 60_000 : now,
    });
    return {
      bytes: signed.bytes,
      rsa: signed.signatures.rsa!,
      ed25519: signed.signatures.ed25519!,
    };
  };
}
