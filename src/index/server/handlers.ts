/**
 * Request handlers of the index server (docs/PROTOCOL.md §12): one request in, one reply out, with
 * every check the protocol asks for. The accept loop (server.ts) owns sockets and channels; this
 * module owns the rules, so it can be tested without either. Each request's handler is a plain
 * function over a shared {@link HandlerContext}, in one file per concern (handlers_*.ts); a new
 * request is a new function there and one line in {@link IndexHandlers.handle}.
 *
 * Store calls, scrypt and signature checks are awaited, so one connection's work never holds up
 * the others for long.
 */
import { SfsError } from "../../errors.ts";
import { type Message, MessageType } from "../../wire/messages.ts";
import { GroupCommit } from "./group_commit.ts";
import { hashPassword, type PasswordHashOptions } from "./password.ts";
import type { IndexStore } from "./store.ts";
import { Throttle } from "./throttle.ts";
import type { ConnectionState, HandlerContext, LogFields } from "./handlers_context.ts";
import { auth, login, register, userKeys } from "./handlers_accounts.ts";
import { relay, relayToken } from "./handlers_relay.ts";
import { RelayBroker } from "./relay.ts";
import { announce, heartbeat, list, resolve, search, unshare } from "./handlers_listings.ts";
import { type CodeLimits, CodeRegistry } from "./code_registry.ts";
import { codeClaim, codeClose, codeMail, codeOpen } from "./handlers_codes.ts";

export type { ConnectionState, LogFields } from "./handlers_context.ts";

/**
 * Listings one account may have stored at once by default: far more than a person shares at a
 * time, and it bounds one account's share of the disk to about 6 MB (rows of at most ~6 KiB).
 */
export const DEFAULT_MAX_LISTINGS_PER_USER = 1000;

/** Options of {@link IndexHandlers}. */
export interface HandlerOptions {
  /** Clock in ms since the epoch. @default {Date.now} */
  now?: () => number;
  /** scrypt cost for new password hashes. @default {password.ts defaults} */
  passwordHash?: PasswordHashOptions;
  /** Wrong passwords allowed per (username, address) within the window. @default 5 */
  maxFailures?: number;
  /** Window of the failed-login counts. @default 300000 */
  failureWindowMs?: number;
  /** Registrations allowed per address (IPv6: per /64) an hour. @default 10 */
  maxRegistrationsPerAddress?: number;
  /** Listings one account may have stored at once. @default 1000 */
  maxListingsPerUser?: number;
  /** Waits `ms` (the login delay of throttle.ts); tests inject their own. @default {setTimeout} */
  sleep?: (ms: number) => Promise<void>;
  /** Receives log entries (`register`, `login_failed`, `announce`, …). */
  log?: (event: string, fields: LogFields) => void;
  /** The relay's state (§13). @default {a relay with default limits} */
  relayBroker?: RelayBroker;
  /** Short codes (§14.5): who may open them, and their limits. @default {DEFAULT_CODE_LIMITS} */
  codes?: Partial<CodeLimits>;
}

/** The index's request handlers over one store. */
export class IndexHandlers {
  readonly #ctx: HandlerContext;

  constructor(store: IndexStore, options: HandlerOptions = {}) {
    const now = options.now ?? Date.now;
    const hashOptions = options.passwordHash ?? {};
    let dummy: Promise<string> | undefined;
    const codes = new CodeRegistry({ now, limits: options.codes, log: options.log });
    this.#ctx = {
      store,
      now,
      hashOptions,
      throttle: new Throttle(store, {
        now,
        sleep: options.sleep,
        maxFailures: options.maxFailures,
        failureWindowMs: options.failureWindowMs,
        maxRegistrations: options.maxRegistrationsPerAddress,
        maxCodeClaims: codes.limits.maxClaimsPerAddress,
        codeClaimWindowMs: codes.limits.claimWindowMs,
        maxCodeOpens: codes.limits.maxOpensPerAddress,
      }),
      maxListings: options.maxListingsPerUser ?? DEFAULT_MAX_LISTINGS_PER_USER,
      log: options.log ?? (() => {}),
      relay: options.relayBroker ?? new RelayBroker({ log: options.log }),
      codes,
      commits: new GroupCommit(store),
      // Made once, on first use: a hash of a random password with the current cost.
      dummyHash: () => dummy ??= hashPassword(crypto.randomUUID(), hashOptions),
    };
  }

  /**
   * Answers one request. Throws SfsError for a refused request: the caller reports it with an
   * ERROR and keeps the connection, except for UNEXPECTED_MESSAGE, which ends it.
   */
  async handle(state: ConnectionState, request: Message): Promise<Message> {
    const ctx = this.#ctx;
    switch (request.type) {
      case MessageType.REGISTER:
        return await register(ctx, state, request);
      case MessageType.LOGIN:
        return await login(ctx, state, request);
      case MessageType.AUTH:
        return await auth(ctx, state, request);
      case MessageType.USER_KEYS:
        return await userKeys(ctx, request);
      case MessageType.ANNOUNCE:
        return await announce(ctx, state, request);
      case MessageType.HEARTBEAT:
        return await heartbeat(ctx, state);
      case MessageType.UNSHARE:
        return await unshare(ctx, state, request);
      case MessageType.SEARCH:
        return await search(ctx, state, request);
      case MessageType.LIST:
        return await list(ctx, state, request);
      case MessageType.RESOLVE:
        return await resolve(ctx, state, request);
      case MessageType.RELAY:
        return await relay(ctx, state, request);
      case MessageType.RELAY_TOKEN:
        return await relayToken(ctx, state, request);
      case MessageType.CODE_OPEN:
        return await codeOpen(ctx, state, request);
      case MessageType.CODE_CLAIM:
        return await codeClaim(ctx, state, request);
      case MessageType.CODE_MAIL:
        return await codeMail(ctx, state, request);
      case MessageType.CODE_CLOSE:
        return codeClose(ctx, state, request);
      default:
        throw new SfsError("UNEXPECTED_MESSAGE", `Message ${request.type} is not a request`);
    }
  }

  /**
   * Ends the short codes the connection opened, and marks its sharing session offline; its files
   * stay listed as offline.
   */
  async closed(state: ConnectionState): Promise<void> {
    this.#ctx.codes.closed(state);
    if (state.sessionId === undefined) return;
    await this.#ctx.store.setOffline(state.sessionId);
    this.#ctx.log("offline", { session: state.sessionId });
  }

  /** Ends every short code, answering held claims (the server stops). */
  stop(): void {
    this.#ctx.codes.stop();
  }
}
