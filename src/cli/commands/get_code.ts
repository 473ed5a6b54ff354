/**
 * `sfs get CODE` (docs/PROTOCOL.md §14): the receiver's side of a short code. It needs no account:
 * it connects to the index server as its own identity (created on first use), claims the
 * nameplate with the first payload of src/peer/code_pake.ts, checks the sender's confirmation,
 * opens the sealed ticket and sends its own fingerprint. The transfer then runs like `sfs get
 * TICKET`, expecting exactly the sender key the exchange named.
 *
 * The index server's key needs no question on first contact here: it is bound into the PAKE (CI),
 * so a server that showed the receiver another key than the sender saw fails the exchange. It is
 * pinned once the exchange succeeded; a key that differs from a pin is still refused.
 */
import { SfsError } from "../../errors.ts";
import type { Bytes } from "../../crypto/bytes.ts";
import { constantTimeEqual } from "../../crypto/bytes.ts";
import { formatFingerprint, type Identity } from "../../crypto/identity.ts";
import { IndexClient } from "../../index/client/client.ts";
import type { ShortCode } from "../../peer/code.ts";
import {
  notConfirmedMessage,
  receiverFinish,
  type ReceiverPake,
  receiverStart,
  type SenderOffer,
} from "../../peer/code_pake.ts";
import { type Ticket, ticketCandidates } from "../../peer/ticket.ts";
import { connect } from "../../net/connect.ts";
import type { IndexFlags } from "../index_connect.ts";

import type { JsonValue, Output } from "../output.ts";
import { type IndexTarget, resolveIndex } from "../settings/config.ts";
import { pinContact } from "../settings/contacts.ts";
import { pinServer, trustServer, trustUser } from "../settings/pins.ts";
import { loadOrCreateIdentity } from "./keygen_run.ts";
import type { Reachable } from "./get_route.ts";
import { ticketRelay } from "./get_relay.ts";

/**
 * How long the receiver waits for each index reply: the server holds the claim up to 25 s
 * (§14.5) before it answers TIMEOUT, so the client waits longer than that.
 */
const CLAIM_WAIT_MS = 40_000;

/** What `sfs get CODE` needs besides the code. */
export interface GetCodeOptions extends IndexFlags {
  home: string;
  /** Pin the sender under this name too (`--as`). */
  as?: string;
}

/** What the exchange yields: a share to fetch like a ticket's, and who the sender is. */
export interface CodeSource extends Reachable {
  readonly identity: Identity;
  readonly fileId: Bytes;
  readonly fingerprint: Bytes;
  readonly extra: Record<string, JsonValue>;
  /** Pins the sender (its verified username, `--as NAME`) after a successful transfer. */
  readonly pinSender: () => Promise<void>;
}

/**
 * Runs the code exchange with the sender through the configured (or `--server`) index. Throws
 * PAKE_FAILED when the code is wrong or a message was changed (the sender is told, and the code
 * is burned), CODE_UNKNOWN for a code that is unknown, used, burned or expired, and what
 * connecting throws. Nothing is written but the identity (first use) and the server pin.
 */
export async function exchangeCode(
  code: ShortCode,
  options: GetCodeOptions,
  out: Output,
): Promise<CodeSource> {
  // A bad --server or config.json keeps its own message; only a missing index gets this one.
  const target = await resolveIndex(options.home, { server: options.server });
  if (target === undefined) {
    throw new SfsError("USAGE", "A code needs the index server the sender uses", {
      hint: "Pass --server HOST:PORT (the sender's note names it)",
    });
  }
  const identity = await loadOrCreateIdentity(options.home, out);
  const client = await connectForCode(target, identity, options, out);
  let offer: SenderOffer;
  let ticket: Ticket;
  let username: string | undefined;
  try {
    const server = client.server.fingerprint;
    const { message, pake } = receiverStart(code, server);
    const reply = await client.claimCode(code.nameplate, message);
    try {
      ({ offer, ticket } = await finish(client, code, pake, reply, identity));
    } catch (err) {
      // Tell the sender at once: it burns the code and stops waiting.
      await client.codeMail(code.nameplate, notConfirmedMessage()).catch(() => {});
      throw err;
    }
    username = await verifiedUsername(client, offer, out);
  } catch (err) {
    throw withCodeHint(err);
  } finally {
    client.close();
  }
  const shown = formatFingerprint(offer.fingerprint);
  out.note(
    `The code matched: fetching from ${username ?? "the sender"} (${shown})` +
      (offer.username !== undefined && username === undefined
        ? ", whose username is not confirmed"
        : ""),
  );
  return {
    identity,
    candidates: ticketCandidates(ticket),
    ...(ticket.relay !== undefined
      ? {
        relay: ticketRelay(
          { home: options.home, flags: options, out },
          ticket.relay,
          ticket.fileId,
        ),
      }
      : {}),
    fileId: ticket.fileId,
    fingerprint: offer.fingerprint,
    extra: { code: true, ...(username !== undefined ? { owner: username } : {}) },
    pinSender: () => pinSender(options, target, { key: offer.fingerprint, username }, out),
  };
}

/**
 * A wrong or spent code is the person's to fix, so it says how: the server's CODE_UNKNOWN and a
 * failed exchange carry no hint of their own.
 */
function withCodeHint(err: unknown): unknown {
  if (!(err instanceof SfsError) || err.hint !== undefined || err.remedy !== undefined) return err;
  const hint = err.code === "PAKE_FAILED"
    ? "Check the code with the sender; it is used up now, so they run sfs send --code again"
    : err.code === "CODE_UNKNOWN"
    ? "A code works once and expires: check its number and --server, or ask the sender for a new one"
    : undefined;
  return hint === undefined ? err : new SfsError(err.code, err.message, { cause: err, hint });
}

/** Finishes the exchange and sends msg3; the server pin follows a successful exchange only. */
async function finish(
  client: IndexClient & { pinAfter: () => Promise<void> },
  code: ShortCode,
  pake: ReceiverPake,
  reply: Bytes,
  identity: Identity,
): Promise<{ offer: SenderOffer; ticket: Ticket }> {
  const { message, offer, ticket } = await receiverFinish(pake, reply, identity.public.fingerprint);
  await client.codeMail(code.nameplate, message);
  await client.pinAfter();
  return { offer, ticket };
}

/**
 * Connects to the index as `identity`, anonymously. A server key that differs from a pin (or from
 * `--server-fingerprint`) is refused; a new one is accepted without asking (see the module
 * comment) and pinned by `pinAfter` once the exchange succeeded.
 */
async function connectForCode(
  target: IndexTarget,
  identity: Identity,
  flags: IndexFlags & { home: string },
  out: Output,
): Promise<IndexClient & { pinAfter: () => Promise<void> }> {
  let fresh: Bytes | undefined;
  const conn = await connect(target.address);
  const client = await IndexClient.connect(conn, identity, {
    idleTimeoutMs: CLAIM_WAIT_MS,
    verifyServer: async (key) => {
      const isNew = await trustServer(flags.home, target.server, key.fingerprint, {
        expected: flags.serverFingerprint,
        yes: true,
        out,
      });
      if (isNew) fresh = key.fingerprint;
    },
  });
  return Object.assign(client, {
    pinAfter: async () => {
      if (fresh === undefined) return;
      await pinServer(flags.home, target.server, fresh, { out });
      out.note(`Pinned the key of index server ${target.server}`);
    },
  });
}

/**
 * The sender's username when the index confirms it: USER_KEYS must name the very key the
 * exchange authenticated. Otherwise (an index lying, or a sender claiming another's name)
 * undefined, with a warning: the transfer still goes to the authenticated key.
 */
async function verifiedUsername(
  client: IndexClient,
  offer: SenderOffer,
  out: Output,
): Promise<string | undefined> {
  const name = offer.username;
  if (name === undefined) return undefined;
  const key = (await client.userKeys([name]).catch(() => new Map())).get(name);
  if (key !== undefined && constantTimeEqual(key.fingerprint, offer.fingerprint)) return name;
  out.warn(`The sender says it is "${name}", but the index has another key for that user`, {
    hint: "The file is still checked against the key the code exchange authenticated",
  });
  return undefined;
}

/** Pins the sender under its verified username and under `--as NAME`; conflicts are warnings. */
async function pinSender(
  options: GetCodeOptions,
  target: IndexTarget,
  sender: { key: Bytes; username?: string },
  out: Output,
): Promise<void> {
  const pins: [string, () => Promise<unknown>][] = [];
  if (sender.username !== undefined) {
    const user = sender.username;
    pins.push([
      user,
      () => trustUser(options.home, target.server, user, sender.key, { yes: true, out }),
    ]);
  }
  if (options.as !== undefined) {
    const name = options.as;
    pins.push([name, () => pinContact(options.home, name, sender.key, target.server)]);
  }
  for (const [name, pin] of pins) {
    try {
      await pin();
      out.note(`Pinned the sender's key as "${name}"`);
    } catch (err) {
      if (!(err instanceof SfsError)) throw err;
      out.warn(`Could not pin the sender as "${name}": ${err.message}`, { hint: err.hint });
    }
  }
}
