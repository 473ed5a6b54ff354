/**
 * What every request handler of the index server shares (docs/PROTOCOL.md §12): the store, the
 * options turned into values, the per-connection state, and the checks most requests start with.
 * The handlers themselves are plain functions over a {@link HandlerContext}, one file per concern
 * (handlers_accounts.ts, handlers_listings.ts); handlers.ts dispatches to them.
 */
import { SfsError } from "../../errors.ts";
import type { Bytes } from "../../crypto/bytes.ts";
import { formatFingerprint, type PublicIdentity } from "../../crypto/identity.ts";
import type { GroupCommit } from "./group_commit.ts";
import type { PasswordHashOptions } from "./password.ts";
import type { IndexStore, User } from "./store.ts";
import type { Throttle } from "./throttle.ts";
import type { RelayBroker } from "./relay.ts";
import type { CodeRegistry } from "./code_registry.ts";
import type { Message } from "../../wire/messages.ts";

/** A server log entry; printed by the CLI, never by the handlers. */
export type LogFields = Record<string, string | number | boolean | undefined>;

/** What the handlers share, built once per server by IndexHandlers. */
export interface HandlerContext {
  readonly store: IndexStore;
  /** Clock in ms since the epoch. */
  readonly now: () => number;
  /** scrypt cost for new password hashes. */
  readonly hashOptions: PasswordHashOptions;
  readonly throttle: Throttle;
  /** Listings one account may have stored at once. */
  readonly maxListings: number;
  readonly log: (event: string, fields: LogFields) => void;
  /** Batches announcements of all connections into shared transactions. */
  readonly commits: GroupCommit;
  /** A hash of a random password with the current cost, made once, for unknown users. */
  readonly dummyHash: () => Promise<string>;
  /** The relay's tokens, pairings and limits (§13). */
  readonly relay: RelayBroker;
  /** The short codes' nameplates (§14.5). */
  readonly codes: CodeRegistry;
}

/** What the server knows about one connection. */
export interface ConnectionState {
  /** The channel's peer: its identity is what REGISTER registers and AUTH must match. */
  readonly peer: PublicIdentity;
  /** The channel's transcript hash, the challenge proofs answer. */
  readonly transcriptHash: Bytes;
  /** The client's address, `HOST:PORT`, recorded with its sharing session. */
  readonly address: string;
  /** The client's host alone, the key of the per-address rate limits. */
  readonly host: string;
  /** Failed AUTHs on this connection; at the limit the server closes it. */
  authFailures?: number;
  /** Sends a message unasked, between whole replies (§13.4); absent where nothing can be pushed. */
  readonly push?: (message: Message) => Promise<void>;
  /** Set by a handler when the connection must end once its reply is sent. */
  closeAfterReply?: boolean;
  /** The authenticated user's id, once REGISTER, LOGIN or AUTH succeeded for this identity. */
  userId?: number;
  /** The sharing session, created by the first ANNOUNCE. */
  sessionId?: string;
  /** File ids this connection announced, with their signed creation times. */
  announced?: Map<string, number>;
  /** Server time up to which withdrawals of `announced` files have been reported. */
  withdrawalsCheckedAt?: number;
  /**
   * Open mode without an account (§14.5): how many nameplates this connection was given, and
   * the files it registered relay tokens for since, at most one per nameplate (§13.2).
   */
  openCodes?: { granted: number; readonly files: Set<string> };
}

/** The authenticated user, re-read so a key change made meanwhile takes effect at once. */
export async function requireUser(ctx: HandlerContext, state: ConnectionState): Promise<User> {
  const user = state.userId === undefined ? undefined : await ctx.store.getUserById(state.userId);
  if (user === undefined || user.fingerprint !== formatFingerprint(state.peer.fingerprint)) {
    throw new SfsError("AUTH_FAILED", "Authenticate first (AUTH, LOGIN or REGISTER)");
  }
  return user;
}

/** Refuses a request that only an unauthenticated connection may make. */
export function requireAnonymous(state: ConnectionState): void {
  if (state.userId !== undefined) {
    throw new SfsError("UNEXPECTED_MESSAGE", "This connection is already authenticated");
  }
}

/** Runs a throttle check, logging a refusal. */
export async function throttled(
  ctx: HandlerContext,
  state: ConnectionState,
  user: string,
  check: () => unknown,
): Promise<void> {
  try {
    await check();
  } catch (err) {
    ctx.log("rate_limited", { user, address: state.address });
    throw err;
  }
}
