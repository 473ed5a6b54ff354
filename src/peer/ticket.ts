/**
 * Tickets (docs/PROTOCOL.md §10): `sfs://HOST:PORT/FILEID#FINGERPRINT`, everything a receiver
 * needs to fetch one file from one sender and to know the sender's key in advance.
 */
import { SfsError } from "../errors.ts";
import { type Bytes, fromHex, toHex } from "../crypto/bytes.ts";
import { formatFingerprint, parseFingerprint } from "../crypto/identity.ts";
import { FILE_ID_BYTES } from "../wire/messages.ts";
import { formatHostPort, tryParseHostPort } from "../net/address.ts";

/** A parsed ticket. */
export interface Ticket {
  readonly host: string;
  readonly port: number;
  readonly fileId: Bytes;
  readonly fingerprint: Bytes;
}

const MAX_TICKET_LENGTH = 512;

/** Formats a ticket; IPv6 hosts are bracketed. */
export function formatTicket(ticket: Ticket): string {
  return `sfs://${formatHostPort(ticket)}/${toHex(ticket.fileId)}#${
    formatFingerprint(ticket.fingerprint)
  }`;
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
  // The address is everything up to the first slash; net/address.ts says what it may be.
  const match = /^sfs:\/\/([^/]*)\/([0-9a-fA-F]+)#(.+)$/.exec(trimmed);
  if (!match) return bad("expected sfs://HOST:PORT/FILEID#FINGERPRINT");
  const [, rawAddress, rawId, rawFingerprint] = match;
  const address = tryParseHostPort(rawAddress);
  if (typeof address === "string") return bad(address);
  const fileId = fromHex(rawId);
  if (!fileId || fileId.length !== FILE_ID_BYTES) return bad("file id must be 32 hex digits");
  let fingerprint: Bytes;
  try {
    fingerprint = parseFingerprint(rawFingerprint);
  } catch {
    return bad("the fingerprint part is malformed");
  }
  return { host: address.host, port: address.port, fileId, fingerprint };
}
