/**
 * Tickets (docs/PROTOCOL.md §10): everything a receiver needs to fetch one file from one sender
 * and to know the sender's key in advance.
 *
 *     sfs://HOST:PORT[,HOST:PORT…]/FILEID[/relay/TOKEN@HOST:PORT]#FINGERPRINT
 *
 * The short form `sfs://HOST:PORT/FILEID#FINGERPRINT` of earlier versions is the extended form
 * with one candidate and no relay hint, so every ticket printed before stays valid. The syntax
 * avoids characters a shell treats specially (`&`, `?`, `;`, spaces), so a ticket pastes as one
 * word.
 */
import { SfsError } from "../errors.ts";
import { type Bytes, fromHex, toHex } from "../crypto/bytes.ts";
import { formatFingerprint, parseFingerprint } from "../crypto/identity.ts";
import { FILE_ID_BYTES } from "../wire/messages.ts";
import { formatHostPort, type HostPort, tryParseHostPort } from "../net/address.ts";
import { MAX_ADDRESSES } from "../index/protocol/limits.ts";

/** Where and how to reach the sender through an index server's relay. */
export interface RelayHint {
  /** The index server's address (it relays on its listening port). */
  readonly host: string;
  readonly port: number;
  /** The per-share relay token ({@link RELAY_TOKEN_BYTES} random bytes) the sender registered. */
  readonly token: Bytes;
}

/** A parsed ticket; `host` and `port` are the first direct candidate. */
export interface Ticket {
  readonly host: string;
  readonly port: number;
  /** Further direct candidates, in the sender's order (absent in the short form). */
  readonly alternates?: readonly HostPort[];
  /** The relay to try when no direct candidate answers (absent when the sender has none). */
  readonly relay?: RelayHint;
  readonly fileId: Bytes;
  readonly fingerprint: Bytes;
}

/** Bytes of a per-share relay token. */
export const RELAY_TOKEN_BYTES = 16;
/** Most direct candidates in one ticket (the first and seven alternates). */
export const MAX_TICKET_CANDIDATES = MAX_ADDRESSES;
/**
 * Longest ticket in characters. Eight IPv6 candidates with a relay hint come to about 600; the
 * bound leaves room for DNS names and keeps a ticket something one can still paste in a chat.
 */
export const MAX_TICKET_LENGTH = 1024;

const TICKET_RE = /^sfs:\/\/([^/#]*)\/([0-9a-fA-F]+)(?:\/relay\/([0-9a-fA-F]+)@([^/#]*))?#(.+)$/;

/** Every direct candidate of a ticket, the first one first. */
export function ticketCandidates(ticket: Ticket): HostPort[] {
  return [{ host: ticket.host, port: ticket.port }, ...(ticket.alternates ?? [])];
}

/**
 * Formats a ticket: IPv6 hosts bracketed, lower-case hex, the full fingerprint form. Throws
 * SfsError USAGE when the result would break a §10 bound (too many candidates, too long).
 */
export function formatTicket(ticket: Ticket): string {
  const candidates = ticketCandidates(ticket);
  if (candidates.length > MAX_TICKET_CANDIDATES) {
    throw new SfsError("USAGE", `A ticket holds at most ${MAX_TICKET_CANDIDATES} addresses`);
  }
  const relay = ticket.relay === undefined
    ? ""
    : `/relay/${toHex(ticket.relay.token)}@${formatHostPort(ticket.relay)}`;
  const text = `sfs://${candidates.map(formatHostPort).join(",")}/${toHex(ticket.fileId)}${relay}#${
    formatFingerprint(ticket.fingerprint)
  }`;
  if (text.length > MAX_TICKET_LENGTH) {
    throw new SfsError(
      "USAGE",
      `The ticket would be ${text.length} characters, more than ${MAX_TICKET_LENGTH}`,
      { hint: "Advertise fewer or shorter addresses with --advertise HOST:PORT" },
    );
  }
  return text;
}

/** Parses a ticket pasted by a user; any defect is BAD_TICKET. */
export function parseTicket(text: string): Ticket {
  const bad = (why: string): never => {
    throw new SfsError("BAD_TICKET", `Not a valid ticket: ${why}`, {
      hint: "A ticket looks like sfs://HOST:PORT/FILEID#SHA256:…, as printed by sfs send",
    });
  };
  const trimmed = text.trim();
  if (trimmed.length > MAX_TICKET_LENGTH) bad("too long");
  const match = TICKET_RE.exec(trimmed);
  if (!match) return bad("expected sfs://HOST:PORT/FILEID#FINGERPRINT");
  const [, rawCandidates, rawId, rawToken, rawRelay, rawFingerprint] = match;
  const candidates = parseCandidates(rawCandidates);
  if (typeof candidates === "string") return bad(candidates);
  const fileId = fromHex(rawId);
  if (!fileId || fileId.length !== FILE_ID_BYTES) return bad("file id must be 32 hex digits");
  let fingerprint: Bytes;
  try {
    fingerprint = parseFingerprint(rawFingerprint);
  } catch {
    return bad("the fingerprint part is malformed");
  }
  const [first, ...alternates] = candidates;
  let ticket: Ticket = { host: first.host, port: first.port, fileId, fingerprint };
  if (alternates.length > 0) ticket = { ...ticket, alternates };
  if (rawToken !== undefined) {
    const token = fromHex(rawToken);
    if (!token || token.length !== RELAY_TOKEN_BYTES) bad("relay token must be 32 hex digits");
    const relay = tryParseHostPort(rawRelay);
    if (typeof relay === "string") return bad(`relay: ${relay}`);
    ticket = { ...ticket, relay: { host: relay.host, port: relay.port, token: token! } };
  }
  // A short fingerprint form could make a ticket whose canonical form is over the bound.
  try {
    formatTicket(ticket);
  } catch {
    bad("too long");
  }
  return ticket;
}

/** The comma-separated direct candidates: 1 to 8 distinct addresses, or what is wrong. */
function parseCandidates(text: string): HostPort[] | string {
  const parts = text.split(",");
  if (parts.length > MAX_TICKET_CANDIDATES) {
    return `at most ${MAX_TICKET_CANDIDATES} addresses`;
  }
  const seen = new Set<string>();
  const candidates: HostPort[] = [];
  for (const part of parts) {
    // The address is everything up to the next comma or slash; net/address.ts says what it may be.
    const address = tryParseHostPort(part);
    if (typeof address === "string") return address;
    const key = formatHostPort(address).toLowerCase();
    if (seen.has(key)) return `address "${part}" appears twice`;
    seen.add(key);
    candidates.push(address);
  }
  return candidates;
}
