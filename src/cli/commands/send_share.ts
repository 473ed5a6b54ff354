/**
 * What `sfs send` shares and where (send_run.ts): the prepared share, the port it is served on,
 * the direct candidates receivers connect to (§10.1), and the ticket that names a file there.
 */
import type { Identity } from "../../crypto/identity.ts";
import { MAX_ADDRESSES } from "../../index/protocol/limits.ts";
import type { Shared } from "../../peer/sender.ts";
import { formatTicket } from "../../peer/ticket.ts";
import type { HostPort } from "../../net/address.ts";
import { candidateAddresses } from "../../net/interfaces.ts";
import type { Announced } from "./send_announce.ts";

/** What is being shared and where, once the files are hashed and the port is open. */
export interface Share {
  readonly identity: Identity;
  /** The share (a file or a tree) by hex id; taken out when unshared elsewhere meanwhile. */
  readonly files: Map<string, Shared>;
  readonly listener: Deno.TcpListener;
  /** Where receivers connect: the direct candidates of tickets and announcements (§10.1). */
  readonly candidates: readonly HostPort[];
}

/** Where `sfs send` listens and what it advertises instead of its interface addresses. */
export interface CandidateOptions {
  listen: HostPort;
  /** Where receivers connect, replacing the interface addresses (§10.1); at most 8. */
  advertise?: HostPort[];
}

/**
 * The direct candidates (§10.1): `--advertise` when given (it replaces the rest: a port forward
 * or a DNS name is known better by the person), else every usable interface address with the
 * listening port.
 */
export function candidatesOf(options: CandidateOptions, listener: Deno.TcpListener): HostPort[] {
  if (options.advertise !== undefined && options.advertise.length > 0) return options.advertise;
  const bound = listener.addr as Deno.NetAddr;
  return candidateAddresses(options.listen, bound.port, { max: MAX_ADDRESSES });
}

/** The ticket that names `file` at the candidates, with the index's relay hint if it has one. */
export function ticketOf(share: Share, file: Shared, announced?: Announced): string {
  const [{ host, port }, ...alternates] = share.candidates;
  const relay = announced?.relayHint(file.id);
  return formatTicket({
    host,
    port,
    ...(alternates.length > 0 ? { alternates } : {}),
    ...(relay !== undefined ? { relay } : {}),
    fileId: file.id,
    fingerprint: share.identity.public.fingerprint,
  });
}
