/**
 * Throttling of password guesses and registrations on the index server (docs/PROTOCOL.md §12.3),
 * designed so that no client can use it to lock another one out:
 *
 * - A wrong password counts against the pair (username, client address). Five in five minutes
 *   and that pair is refused (`RATE_LIMITED`, no hash spent) until the oldest failure ages out:
 *   the guesser is stopped, the same user from any other address is not.
 * - The same failure also counts against the username alone and against the address alone.
 *   Past a ceiling (10 per username, 20 per address, in five minutes) every LOGIN for that
 *   username, or from that address, is delayed before its password is checked: 250 ms doubling
 *   with each further failure, at most 4 s. A delay slows a distributed guesser and costs an
 *   honest user seconds; it never refuses the right password.
 * - AUTH (a signature proof) is not throttled by address at all: a proof cannot be guessed, so a
 *   failure only costs the client its own round trip. A connection is closed after three failed
 *   AUTHs, so each further try costs the client a new handshake.
 * - Registrations are counted per address: past the quota (10 an hour by default) REGISTER is
 *   `RATE_LIMITED`.
 * - Short codes (§14.5): every CODE_CLAIM is counted per address, whatever it names, so nobody
 *   can sweep nameplates; in open mode, so is every CODE_OPEN of an unauthenticated sender.
 *
 * An IPv6 client is counted by its /64 prefix, the smallest block one subscriber is usually given:
 * counting single addresses would let one host rotate through 2^64 of them. An IPv4-mapped IPv6
 * address counts as the IPv4 address.
 */
import { SfsError } from "../../errors.ts";
import { ipv6Groups } from "../../net/address.ts";
import type { IndexStore } from "./store.ts";

/** Wrong passwords allowed per (username, address) within the window. */
export const DEFAULT_MAX_FAILURES = 5;
/** Window of every failed-login count. */
export const DEFAULT_FAILURE_WINDOW_MS = 5 * 60 * 1000;
/** Failures for one username (from anywhere) in the window after which its logins are delayed. */
export const DEFAULT_USER_DELAY_AFTER = 10;
/** Failures from one address (for any username) in the window after which its logins are delayed. */
export const DEFAULT_ADDRESS_DELAY_AFTER = 20;
/** First delay past a ceiling; it doubles with each further failure. */
export const BASE_LOGIN_DELAY_MS = 250;
/** Longest delay: well under the server's shutdown grace, and short for an honest user. */
export const MAX_LOGIN_DELAY_MS = 4_000;
/** Failed AUTHs after which the server closes the connection. */
export const MAX_AUTH_FAILURES_PER_CONNECTION = 3;
/** Registrations allowed per address within the registration window. */
export const DEFAULT_MAX_REGISTRATIONS = 10;
/** Window of the registration quota. */
export const REGISTRATION_WINDOW_MS = 60 * 60 * 1000;
/** CODE_CLAIMs allowed per address within the claim window: a person claims one code. */
export const DEFAULT_MAX_CODE_CLAIMS = 20;
/** Window of the CODE_CLAIM count. */
export const DEFAULT_CODE_CLAIM_WINDOW_MS = 10 * 60 * 1000;
/** CODE_OPENs allowed per address an hour from unauthenticated senders (`--codes open`). */
export const DEFAULT_MAX_CODE_OPENS = 30;

/** Options of {@link Throttle}. */
export interface ThrottleOptions {
  /** Clock in ms since the epoch. @default {Date.now} */
  now?: () => number;
  /** Waits `ms`; tests inject one that records instead. @default {setTimeout} */
  sleep?: (ms: number) => Promise<void>;
  /** Wrong passwords per (username, address) in the window. @default 5 */
  maxFailures?: number;
  /** Window of the failure counts. @default 300000 */
  failureWindowMs?: number;
  /** Registrations per address per hour. @default 10 */
  maxRegistrations?: number;
  /** CODE_CLAIMs per address within `codeClaimWindowMs`. @default 20 */
  maxCodeClaims?: number;
  /** Window of the CODE_CLAIM count. @default 600000 */
  codeClaimWindowMs?: number;
  /** CODE_OPENs of unauthenticated senders per address an hour (open mode). @default 30 */
  maxCodeOpens?: number;
}

/**
 * The rate-limit key of a client host: an IPv4 address as is, an IPv6 address by its /64 prefix
 * (`2001:db8:0:1::/64`), an IPv4-mapped IPv6 address as its IPv4 address.
 */
export function addressKey(host: string): string {
  const bare = host.replace(/^\[|\]$/g, "").replace(/%.*$/, "").toLowerCase();
  if (!bare.includes(":")) return bare;
  const groups = ipv6Groups(bare);
  if (groups === undefined) return bare;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join(".");
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}

/**
 * Failed-login and registration throttling over the store's attempt counts. Every count lives in
 * the store, none in this object, so servers sharing one database share the limits.
 */
export class Throttle {
  readonly #store: IndexStore;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #maxRegistrations: number;
  readonly #maxCodeClaims: number;
  readonly #codeClaimWindowMs: number;
  readonly #maxCodeOpens: number;

  constructor(store: IndexStore, options: ThrottleOptions = {}) {
    this.#store = store;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ??
      ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#maxFailures = options.maxFailures ?? DEFAULT_MAX_FAILURES;
    this.#windowMs = options.failureWindowMs ?? DEFAULT_FAILURE_WINDOW_MS;
    this.#maxRegistrations = options.maxRegistrations ?? DEFAULT_MAX_REGISTRATIONS;
    this.#maxCodeClaims = options.maxCodeClaims ?? DEFAULT_MAX_CODE_CLAIMS;
    this.#codeClaimWindowMs = options.codeClaimWindowMs ?? DEFAULT_CODE_CLAIM_WINDOW_MS;
    this.#maxCodeOpens = options.maxCodeOpens ?? DEFAULT_MAX_CODE_OPENS;
  }

  /**
   * Call before checking a password for canonical `user` from `host`: throws SfsError
   * RATE_LIMITED when this pair has used up its guesses, otherwise waits out the delay the
   * username's and the address's recent failures call for.
   */
  async beforeLogin(user: string, host: string): Promise<void> {
    const keys = loginKeys(user, host);
    const since = this.#now() - this.#windowMs;
    const [pairCount, userCount, addressCount] = await Promise.all([
      this.#store.attemptsSince(keys.pair, since),
      this.#store.attemptsSince(keys.user, since),
      this.#store.attemptsSince(keys.address, since),
    ]);
    if (pairCount >= this.#maxFailures) {
      throw new SfsError(
        "RATE_LIMITED",
        `Too many wrong passwords from your address; try again in ${
          Math.ceil(this.#windowMs / 60_000)
        } minutes`,
      );
    }
    const excess = Math.max(
      userCount - DEFAULT_USER_DELAY_AFTER,
      addressCount - DEFAULT_ADDRESS_DELAY_AFTER,
    );
    if (excess >= 0) {
      await this.#sleep(Math.min(MAX_LOGIN_DELAY_MS, BASE_LOGIN_DELAY_MS * 2 ** excess));
    }
  }

  /** Records a wrong password (or unknown user) for `user` from `host`. */
  async loginFailed(user: string, host: string): Promise<void> {
    const keys = loginKeys(user, host);
    for (const key of [keys.pair, keys.user, keys.address]) await this.#store.recordAttempt(key);
  }

  /**
   * Forgets the pair's failures after the right password. The username's and the address's
   * counts stay: they measure pressure from everyone, which one success does not end.
   */
  async loginSucceeded(user: string, host: string): Promise<void> {
    await this.#store.clearAttempts(loginKeys(user, host).pair);
  }

  /**
   * Counts one registration attempt from `host`; throws SfsError RATE_LIMITED past the quota.
   * Counted before the password is hashed, and counted and recorded in one store step, so
   * parallel requests (to any server of a shared database) cannot all slip under it.
   */
  async registration(host: string): Promise<void> {
    const key = `register:${addressKey(host)}`;
    const since = this.#now() - REGISTRATION_WINDOW_MS;
    if (!await this.#store.recordAttemptWithin(key, since, this.#maxRegistrations)) {
      throw new SfsError(
        "RATE_LIMITED",
        `Too many registrations from your address; at most ${this.#maxRegistrations} an hour`,
      );
    }
  }

  /**
   * Counts one CODE_CLAIM from `host`, before its nameplate is looked up; throws SfsError
   * RATE_LIMITED past the quota. Counted in the store like registrations, so every server of a
   * shared database sees the same count.
   */
  async codeClaim(host: string): Promise<void> {
    const key = `code-claim:${addressKey(host)}`;
    const since = this.#now() - this.#codeClaimWindowMs;
    if (!await this.#store.recordAttemptWithin(key, since, this.#maxCodeClaims)) {
      throw new SfsError("RATE_LIMITED", "Too many codes tried from your address", {
        hint: "Try again later",
      });
    }
  }

  /** Counts one CODE_OPEN of an unauthenticated sender from `host`; RATE_LIMITED past the quota. */
  async codeOpen(host: string): Promise<void> {
    const key = `code-open:${addressKey(host)}`;
    const since = this.#now() - REGISTRATION_WINDOW_MS;
    if (!await this.#store.recordAttemptWithin(key, since, this.#maxCodeOpens)) {
      throw new SfsError(
        "RATE_LIMITED",
        `Too many codes opened from your address; at most ${this.#maxCodeOpens} an hour`,
      );
    }
  }
}

function loginKeys(user: string, host: string): { pair: string; user: string; address: string } {
  const address = addressKey(host);
  return { pair: `login:${user}@${address}`, user: `user:${user}`, address: `addr:${address}` };
}
