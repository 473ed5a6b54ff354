/**
 * The short codes' nameplates (docs/PROTOCOL.md §14.5), held in this server's memory: who opened
 * each, whether it was claimed, and the one CODE_CLAIM waiting for the sender's answer.
 *
 * What makes a code worth one online guess is here: a nameplate takes one claim, ever, and
 * whatever goes wrong afterwards ends it, so a second guess always meets CODE_UNKNOWN. Every
 * refusal is that one code, whatever the cause, so a claim learns nothing but "not yours". A
 * request that names a nameplate of another connection is refused without ending it: nobody can
 * burn a code they are not part of, except by claiming it, which is the one guess.
 *
 * The registry owns no socket: it pushes through the function the sender's connection gave
 * (handlers_codes.ts passes Channel.send, which queues whole records between replies, §13.4).
 */
import { SfsError } from "../../errors.ts";
import type { Bytes } from "../../crypto/bytes.ts";
import type { CodeOutcome } from "../../wire/index_messages.ts";
import type { CodeMode } from "../protocol/code_modes.ts";
import type { LogFields } from "./handlers_context.ts";

export type { CodeMode } from "../protocol/code_modes.ts";

/** The short codes' settings and limits (§14.5). */
export interface CodeLimits {
  /** Who may open codes. */
  readonly mode: CodeMode;
  /** Lifetime of an unclaimed nameplate, and the most a sender may ask for. */
  readonly ttlMs: number;
  /** Open nameplates at once per account (per address for unauthenticated senders). */
  readonly maxPerOwner: number;
  /** Open nameplates at once on this server; beyond, BUSY. */
  readonly maxTotal: number;
  /** How long the exchange may last after the claim. */
  readonly exchangeMs: number;
  /** How long a CODE_CLAIM is held for the sender's answer. */
  readonly claimHoldMs: number;
  /** CODE_CLAIMs per address within {@link claimWindowMs}; beyond, RATE_LIMITED. */
  readonly maxClaimsPerAddress: number;
  /** Window of the claim count. */
  readonly claimWindowMs: number;
  /** CODE_OPENs per address an hour from unauthenticated senders (open mode). */
  readonly maxOpensPerAddress: number;
}

/** Defaults of {@link CodeLimits}. */
export const DEFAULT_CODE_LIMITS: CodeLimits = {
  mode: "accounts",
  ttlMs: 10 * 60_000,
  maxPerOwner: 8,
  maxTotal: 4096,
  exchangeMs: 60_000,
  // Under a client's default read deadline (30 s, wire/frame.ts), so the server answers first.
  claimHoldMs: 25_000,
  maxClaimsPerAddress: 20,
  claimWindowMs: 10 * 60_000,
  maxOpensPerAddress: 30,
};

/** How a nameplate reaches its sender: a CODE_MAIL push on the sender's connection. */
export type CodePush = (nameplate: number, payload: Bytes) => Promise<void>;

/** Options of {@link CodeRegistry}. */
export interface CodeRegistryOptions {
  /** Clock in ms since the epoch. @default {Date.now} */
  now?: () => number;
  /** Settings; missing fields take {@link DEFAULT_CODE_LIMITS}. */
  limits?: Partial<CodeLimits>;
  /** Receives `code_end` entries (never a payload). */
  log?: (event: string, fields: LogFields) => void;
}

/** Why a nameplate ended, as logged. */
type EndReason =
  | CodeOutcome
  | "expired"
  | "deadline"
  | "claim_timeout"
  | "sender_gone"
  | "broken_flow"
  | "stopping";

/** The CODE_CLAIM waiting for the sender's first CODE_MAIL. */
interface HeldClaim {
  resolve(payload: Bytes): void;
  reject(err: SfsError): void;
  timer: ReturnType<typeof setTimeout>;
}

/** One live nameplate. */
interface Entry {
  readonly nameplate: number;
  /** The sender's connection (its state object) and how to push to it. */
  readonly sender: object;
  readonly push: CodePush;
  /** What its limits count it against: `user:ID` or `address:KEY`. */
  readonly owner: string;
  readonly expiresAt: number;
  /** The claiming connection, once claimed. */
  receiver?: object;
  /** End of the exchange, once claimed. */
  deadline?: number;
  held?: HeldClaim;
  /** CODE_MAILs the receiver sent so far. */
  receiverMails: number;
}

/**
 * Most CODE_MAILs the receiver may send for one nameplate. The sender needs no count: its one
 * CODE_MAIL answers the held claim, and with no claim held any other breaks the flow.
 */
const MAX_RECEIVER_MAILS = 2;

/** The nameplates of one server (§14.5). */
export class CodeRegistry {
  /** The settings in force. */
  readonly limits: CodeLimits;
  readonly #now: () => number;
  readonly #log: (event: string, fields: LogFields) => void;
  readonly #entries = new Map<number, Entry>();

  constructor(options: CodeRegistryOptions = {}) {
    this.limits = { ...DEFAULT_CODE_LIMITS, ...options.limits };
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => {});
  }

  /** Nameplates live now (open or in an exchange). */
  get size(): number {
    this.#sweep();
    return this.#entries.size;
  }

  /**
   * Allocates the smallest free nameplate for `sender`, counted against `owner`; `ttlSeconds`
   * 0 takes the server's lifetime, anything else is capped by it. QUOTA_EXCEEDED when the owner
   * holds its limit, BUSY when the server does.
   */
  open(
    sender: object,
    push: CodePush,
    request: { owner: string; ttlSeconds: number },
  ): { nameplate: number; expiresAt: number; ttlSeconds: number } {
    this.#sweep();
    if (this.#entries.size >= this.limits.maxTotal) {
      throw new SfsError("BUSY", "The index server holds all the codes it may", {
        hint: "Try again in a moment",
      });
    }
    let held = 0;
    for (const entry of this.#entries.values()) if (entry.owner === request.owner) held++;
    if (held >= this.limits.maxPerOwner) {
      throw new SfsError(
        "QUOTA_EXCEEDED",
        `At most ${this.limits.maxPerOwner} codes may be open at once`,
      );
    }
    let nameplate = 1;
    while (this.#entries.has(nameplate)) nameplate++;
    const ttlMs = request.ttlSeconds === 0
      ? this.limits.ttlMs
      : Math.min(request.ttlSeconds * 1000, this.limits.ttlMs);
    const expiresAt = this.#now() + ttlMs;
    this.#entries.set(nameplate, {
      nameplate,
      sender,
      push,
      owner: request.owner,
      expiresAt,
      receiverMails: 0,
    });
    // What the sender is told: whole seconds, never more than the server keeps the code.
    return { nameplate, expiresAt, ttlSeconds: Math.floor(ttlMs / 1000) };
  }

  /**
   * Claims an open nameplate for `receiver` with the first payload: pushes it to the sender and
   * resolves with the sender's answer. CODE_UNKNOWN for anything but an open nameplate (a
   * second claim included), or when the sender is gone; TIMEOUT, ending the nameplate, when the
   * sender does not answer within the hold time.
   */
  claim(receiver: object, nameplate: number, payload: Bytes): Promise<Bytes> {
    this.#sweep();
    const entry = this.#entries.get(nameplate);
    if (entry === undefined || entry.receiver !== undefined) throw unknown();
    entry.receiver = receiver;
    entry.deadline = this.#now() + this.limits.exchangeMs;
    const answer = new Promise<Bytes>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#end(entry, "claim_timeout", new SfsError("TIMEOUT", "The sender did not answer"));
      }, this.limits.claimHoldMs);
      entry.held = { resolve, reject, timer };
    });
    entry.push(nameplate, payload).catch(() => this.#end(entry, "sender_gone"));
    return answer;
  }

  /** True when `nameplate` is live and `connection` opened it. */
  isSender(connection: object, nameplate: number): boolean {
    this.#sweep();
    return this.#entries.get(nameplate)?.sender === connection;
  }

  /**
   * A sender's CODE_MAIL: answers the held claim. CODE_UNKNOWN when the nameplate is not this
   * sender's live exchange; ending it as well when the sender breaks the flow (no claim held:
   * before the claim, or a second mail).
   */
  senderMail(sender: object, nameplate: number, payload: Bytes): void {
    const entry = this.#ownEntry(nameplate, (e) => e.sender === sender);
    const held = entry.held;
    if (held === undefined) {
      this.#end(entry, "broken_flow");
      throw unknown();
    }
    entry.held = undefined;
    clearTimeout(held.timer);
    held.resolve(payload);
  }

  /**
   * A receiver's CODE_MAIL: pushed to the sender. CODE_UNKNOWN when the nameplate is not this
   * receiver's live exchange; ending it as well past two mails or when the push fails.
   */
  async receiverMail(receiver: object, nameplate: number, payload: Bytes): Promise<void> {
    const entry = this.#ownEntry(nameplate, (e) => e.receiver === receiver);
    if (++entry.receiverMails > MAX_RECEIVER_MAILS) {
      this.#end(entry, "broken_flow");
      throw unknown();
    }
    try {
      await entry.push(nameplate, payload);
    } catch {
      this.#end(entry, "sender_gone");
      throw unknown();
    }
  }

  /** The sender's CODE_CLOSE: ends its nameplate (CODE_UNKNOWN if it has no such one). */
  close(sender: object, nameplate: number, outcome: CodeOutcome): void {
    this.#end(this.#ownEntry(nameplate, (e) => e.sender === sender), outcome);
  }

  /**
   * Ends every nameplate a closed connection opened. One it claimed lives on until the sender
   * closes it or its deadline passes: the claim already spent its one guess, and a receiver
   * that got what it needed closes its connection before the sender sends CODE_CLOSE.
   */
  closed(connection: object): void {
    for (const entry of [...this.#entries.values()]) {
      if (entry.sender === connection) this.#end(entry, "sender_gone");
    }
  }

  /** Ends every nameplate: the server stops. */
  stop(): void {
    for (const entry of [...this.#entries.values()]) {
      this.#end(entry, "stopping", new SfsError("CONNECTION_CLOSED", "The server is stopping"));
    }
  }

  /**
   * The live nameplate `nameplate` if `mine` says this connection is its side of it; otherwise
   * CODE_UNKNOWN, leaving a nameplate of others alone. A sender's own unclaimed nameplate passes
   * (CODE_CLOSE may cancel it).
   */
  #ownEntry(nameplate: number, mine: (entry: Entry) => boolean): Entry {
    this.#sweep();
    const entry = this.#entries.get(nameplate);
    if (entry === undefined || !mine(entry)) throw unknown();
    return entry;
  }

  /** Ends the nameplates past their expiry (unclaimed) or their exchange deadline (claimed). */
  #sweep(): void {
    const now = this.#now();
    for (const entry of [...this.#entries.values()]) {
      if (entry.deadline === undefined ? now >= entry.expiresAt : now >= entry.deadline) {
        this.#end(entry, entry.deadline === undefined ? "expired" : "deadline");
      }
    }
  }

  /** Forgets `entry` (its number is free again) and answers a held claim with `error`. */
  #end(entry: Entry, reason: EndReason, error: SfsError = unknown()): void {
    if (this.#entries.get(entry.nameplate) !== entry) return;
    this.#entries.delete(entry.nameplate);
    const held = entry.held;
    entry.held = undefined;
    if (held !== undefined) {
      clearTimeout(held.timer);
      held.reject(error);
    }
    this.#log("code_end", { nameplate: entry.nameplate, reason });
  }
}

/** The one refusal of every request about a nameplate that is not the asker's (§14.5). */
function unknown(): SfsError {
  return new SfsError("CODE_UNKNOWN", "Unknown or used code");
}
