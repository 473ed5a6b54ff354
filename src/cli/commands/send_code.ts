/**
 * `sfs send FILE --code` (docs/PROTOCOL.md §14): the sender's side of a short code. On the sharing
 * connection it opens a nameplate, draws the words, prints `7-crimson-tiger-lamp`, and runs the
 * exchange of src/peer/code_pake.ts with whoever claims the nameplate: the receiver gets the
 * sealed ticket, the sender the receiver's fingerprint, the one key it then serves the share to.
 *
 * One guess per code: any failure after the claim (a wrong code, a changed message, a silent
 * receiver) closes the nameplate as failed, so the server burns it, and the sender stops with
 * PAKE_FAILED; sharing again makes a new nameplate and new words, never the old words.
 */
import { SfsError } from "../../errors.ts";
import { type Bytes, toHex } from "../../crypto/bytes.ts";
import { formatFingerprint, type PublicIdentity } from "../../crypto/identity.ts";
import { CodeMailbox } from "../../index/client/code_mailbox.ts";
import type { CodeChannel, ShareSession } from "../../index/client/sharing.ts";
import { formatCode, randomCodeWords } from "../../peer/code.ts";
import { senderFinish, senderRespond } from "../../peer/code_pake.ts";
import type { Output } from "../output.ts";
import { pinContact } from "../settings/contacts.ts";
import { printQr } from "./qr.ts";

/** How long the exchange may take once the code is claimed (the server's deadline, §14.5). */
export const CODE_EXCHANGE_MS = 60_000;

/** What `--code` asks for. */
export interface CodeRequest {
  /** Words in the code, 3 to 8. @default 3 */
  words?: number;
  /** Seconds the code stays valid; 0 takes the server's default (10 minutes). @default 0 */
  ttlSeconds?: number;
  /** Pin the receiver under this name once the code matched (`--as`). */
  as?: string;
  /** Print the code as a QR code too. @default false */
  qr?: boolean;
}

/** A code being offered: who may fetch, and how the exchange ends. */
export interface CodeOffer {
  /** The code as printed. */
  readonly code: string;
  /** When the code expires unused (ms since the epoch). */
  readonly expiresAt: number;
  /** Hex fingerprints `serve` admits: empty until the exchange succeeded, then the receiver's. */
  readonly allowed: ReadonlySet<string>;
  /** Aborted when the exchange failed or the code expired: serving stops. */
  readonly failed: AbortSignal;
  /** Rejects with why the exchange failed; resolves with the receiver's fingerprint. */
  readonly outcome: Promise<Bytes>;
  /** Gives the code up (Ctrl-C): the nameplate is closed as failed. */
  cancel(): void;
  /**
   * Admits the code's receiver, refuses anyone else (REFUSED). A receiver may connect before
   * this side has read the last payload, so while a claimed exchange runs this waits for it, up
   * to {@link ADMIT_WAIT_MS}; before any claim it refuses at once.
   */
  admit(receiver: PublicIdentity): Promise<void>;
}

/**
 * How long a connecting receiver waits for the exchange to end: the receiver starts its transfer
 * as soon as the index took its last payload, which may be before that payload reached us.
 */
export const ADMIT_WAIT_MS = 5_000;

/** The share a code stands for. */
export interface CodeTarget {
  readonly session: Pick<ShareSession, "codeChannel">;
  readonly mailbox: CodeMailbox;
  /**
   * The ticket of the shared file (with the relay hint), sealed to the receiver: made once the
   * code is open, when a sender without an account has registered its relay token (§13.2).
   */
  readonly ticket: () => string;
  /** The sender's fingerprint, the one the ticket names. */
  readonly fingerprint: Bytes;
  /** The sender's index username, sealed to the receiver, who checks it with USER_KEYS. */
  readonly user: string;
  /** The index server `HOST:PORT`, for the contact pin. */
  readonly server: string;
  readonly home: string;
}

/** A new mailbox for the sharing session's CODE_MAIL pushes. */
export function codeMailbox(): CodeMailbox {
  return new CodeMailbox();
}

/**
 * Opens a nameplate, draws the words and starts the exchange in the background; see
 * {@link CodeOffer} and {@link printCode}. Throws CONNECTION_FAILED when the index is not
 * connected, and what the server answers CODE_OPEN (CODES_OFF, QUOTA_EXCEEDED, …).
 */
export async function offerCode(
  request: CodeRequest,
  target: CodeTarget,
  out: Output,
): Promise<CodeOffer> {
  const channel = target.session.codeChannel();
  if (channel === undefined) {
    throw new SfsError("CONNECTION_FAILED", "A code needs a connected index server", {
      hint: "Check that the index server is reachable, or share by ticket with --no-index",
    });
  }
  const { nameplate, expiresAt } = await channel.openCode(request.ttlSeconds ?? 0)
    .catch((err) => {
      // A server run with `--codes accounts` (the default) takes codes from accounts only.
      if (!(err instanceof SfsError) || err.code !== "AUTH_FAILED" || target.user !== "") throw err;
      throw new SfsError(err.code, "This index server takes codes from accounts only", {
        cause: err,
        hint: "Run sfs register or sfs login first, or share by ticket",
      });
    });
  target.mailbox.expect(nameplate);
  const words = randomCodeWords(request.words);
  const code = { nameplate, words };
  const text = formatCode(nameplate, words);
  const allowed = new Set<string>();
  const failed = new AbortController();
  const cancelled = new AbortController();
  let claimed = false;
  const run = { code, nameplate, expiresAt, onClaimed: () => claimed = true };
  const outcome = exchange(channel, target, run, cancelled.signal)
    .then(async (receiver) => {
      allowed.add(toHex(receiver));
      out.event("code_matched", { receiver: formatFingerprint(receiver) });
      out.note(`The code matched: serving only to receiver ${formatFingerprint(receiver)}`);
      if (request.as !== undefined) await pinReceiver(target, request.as, receiver, out);
      return receiver;
    }, (err) => {
      target.mailbox.forget(nameplate);
      failed.abort(err);
      throw burned(err, text, cancelled.signal.aborted);
    });
  outcome.catch(() => {}); // the caller awaits it; no unhandled rejection meanwhile
  return {
    code: text,
    expiresAt,
    allowed,
    failed: failed.signal,
    outcome,
    cancel: () => cancelled.abort(),
    admit: async (receiver) => {
      if (claimed && !allowed.has(toHex(receiver.fingerprint))) {
        const wait = new Promise((resolve) => Deno.unrefTimer(setTimeout(resolve, ADMIT_WAIT_MS)));
        await Promise.race([outcome.catch(() => {}), wait]);
      }
      if (!allowed.has(toHex(receiver.fingerprint))) {
        throw new SfsError("REFUSED", "This share is for the receiver of its code only");
      }
    },
  };
}

/** Prints the code for the person (the JSON `ready` event carries it as `code`). */
export function printCode(out: Output, offer: CodeOffer, qr: boolean, server: string): void {
  if (qr) printQr(out, offer.code);
  out.info(offer.code);
  const minutes = Math.max(1, Math.round((offer.expiresAt - Date.now()) / 60_000));
  out.note(
    `Tell the receiver this code; they run: sfs get ${offer.code} --server ${server} ` +
      `(valid ${minutes} min, for one try). Ctrl-C stops.`,
  );
}

/**
 * The exchange itself: msg1 (pushed), msg2 (sent), msg3 (pushed), then CODE_CLOSE. Any failure
 * closes the nameplate as failed before it is thrown.
 */
async function exchange(
  channel: CodeChannel,
  target: CodeTarget,
  run: {
    code: { nameplate: number; words: string[] };
    nameplate: number;
    expiresAt: number;
    onClaimed: () => void;
  },
  cancel: AbortSignal,
): Promise<Bytes> {
  const { code, nameplate } = run;
  const server = channel.server.fingerprint;
  try {
    const untilExpiry = Math.max(0, run.expiresAt - Date.now());
    const msg1 = await target.mailbox.next(nameplate, deadline(cancel, untilExpiry, expired()));
    run.onClaimed();
    // From the claim on, the server's deadline runs (§14.5).
    const exchangeDeadline = deadline(cancel, CODE_EXCHANGE_MS, silentReceiver());
    const { message, pake } = await senderRespond(code, server, msg1, {
      fingerprint: target.fingerprint,
      ticket: target.ticket(),
      username: target.user,
    });
    await channel.codeMail(nameplate, message);
    const msg3 = await target.mailbox.next(nameplate, exchangeDeadline);
    const receiver = await senderFinish(pake, msg3);
    target.mailbox.forget(nameplate);
    // The receiver may have left the index already, which ends the nameplate too (§14.5).
    await channel.closeCode(nameplate, "done").catch(() => {});
    return receiver;
  } catch (err) {
    target.mailbox.forget(nameplate);
    await channel.closeCode(nameplate, "failed").catch(() => {});
    throw err;
  }
}

/** A signal that aborts with `reason` after `ms`, or when `cancel` aborts. */
function deadline(cancel: AbortSignal, ms: number, reason: SfsError): AbortSignal {
  const timer = new AbortController();
  const id = setTimeout(() => timer.abort(reason), ms);
  // The timer must not keep the process alive after the exchange ended.
  Deno.unrefTimer(id);
  return AbortSignal.any([cancel, timer.signal]);
}

function expired(): SfsError {
  return new SfsError("CODE_EXPIRED", "The code expired before anyone used it", {
    hint: "Run sfs send --code again for a new code",
  });
}

function silentReceiver(): SfsError {
  return new SfsError("PAKE_FAILED", "The receiver did not finish the code exchange in time");
}

/** The error the sender stops with: the code is burned, a new share makes a new one. */
function burned(err: unknown, code: string, cancelled: boolean): unknown {
  if (cancelled || !(err instanceof SfsError)) return err;
  if (err.code === "CODE_EXPIRED") return err;
  const hint = `Code ${code} is burned; run sfs send --code again for a new one`;
  if (err.code === "PAKE_FAILED") {
    return new SfsError("PAKE_FAILED", `${err.message}: the code is burned`, { cause: err, hint });
  }
  return new SfsError(err.code, `The code exchange failed: ${err.message}`, { cause: err, hint });
}

/** Pins the receiver under `--as NAME`; a name taken by another key is a warning here. */
async function pinReceiver(target: CodeTarget, name: string, key: Bytes, out: Output) {
  try {
    if (await pinContact(target.home, name, key, target.server)) {
      out.note(`Pinned the receiver's key as contact "${name}"`);
    }
  } catch (err) {
    if (!(err instanceof SfsError)) throw err;
    out.warn(`Could not pin the receiver as "${name}": ${err.message}`, { hint: err.hint });
  }
}
