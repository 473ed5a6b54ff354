/**
 * How `sfs get` reaches the sender (docs/PROTOCOL.md §10.1): every direct candidate at once, and
 * the relay after a short delay, or only one kind with `--direct` / `--relay`. The first
 * connection whose handshake completes carries the transfer, and a resume reconnects the same way.
 */
import { SfsError } from "../../errors.ts";
import type { Bytes } from "../../crypto/bytes.ts";
import type { Identity } from "../../crypto/identity.ts";
import { formatHostPort, type HostPort } from "../../net/address.ts";
import {
  type Candidate,
  raceConnections,
  RELAY_DELAY_MS,
  type Route,
  tcpCandidate,
} from "../../net/race.ts";
import type { Connect } from "../../peer/receiver.ts";

/** Which routes `sfs get` may take: both (the default), or only one with --direct / --relay. */
export type RouteChoice = "any" | "direct" | "relay";

/**
 * What a receiver knows about a relay for one share; the shape of relay-server's `RelayRoute`
 * (src/index/client/relay_dial.ts), which replaces it at merge.
 */
export interface RelayRoute {
  /** The index server's address: it relays on its listening port. */
  readonly host: string;
  readonly port: number;
  readonly fileId: Bytes;
  /** The per-share token from a ticket's relay hint; absent when going through the index. */
  readonly token?: Bytes;
}

/** What the relay dialer is given besides the route. */
export interface RelayDialOptions {
  readonly signal: AbortSignal;
  readonly identity: Identity;
}

/** Opens a connection that reaches the sharing sender through the index server's relay. */
export type RelayDialer = (route: RelayRoute, options: RelayDialOptions) => Promise<Deno.Conn>;

/**
 * ADAPTER for issue 10, connected at merge: relay-server's `dialRelay` from
 * src/index/client/relay_dial.ts (`export const DIAL_RELAY: RelayDialer | undefined = dialRelay;`).
 * Until then there is no relay dialer, and `sfs get` connects directly only.
 */
export const DIAL_RELAY: RelayDialer | undefined = undefined;

/** Where a share can be reached. */
export interface Reachable {
  readonly candidates: readonly HostPort[];
  readonly relay?: RelayRoute;
}

/** Options of {@link racingConnect}. */
export interface RacingOptions {
  readonly choice: RouteChoice;
  readonly identity: Identity;
  /** Stops a race in progress (Ctrl-C). */
  readonly signal: AbortSignal;
  /** Told which route each successful connection took. */
  readonly onConnected: (route: Route, label: string) => void;
  /** The relay dialer. @default DIAL_RELAY */
  readonly dialRelay?: RelayDialer;
  /** @default RELAY_DELAY_MS */
  readonly relayDelayMs?: number;
}

/**
 * A {@link Connect} that races the direct candidates and the relay as `choice` allows. Throws
 * USAGE at once when the choice leaves nothing to try (`--relay` without a relay).
 */
export function racingConnect(where: Reachable, options: RacingOptions): Connect {
  const dialRelay = options.dialRelay ?? DIAL_RELAY;
  const direct = options.choice === "relay" ? [] : where.candidates.map((c) => tcpCandidate(c));
  const route = where.relay;
  const relay: Candidate | undefined =
    options.choice === "direct" || route === undefined || dialRelay === undefined ? undefined : {
      label: `relay ${formatHostPort(route)}`,
      dial: (signal) => dialRelay(route, { signal, identity: options.identity }),
    };
  if (options.choice === "relay" && relay === undefined) {
    throw new SfsError("USAGE", "No relay is known for this file", {
      hint: "A ticket names a relay only when the sender shares through an index server; " +
        "try without --relay",
    });
  }
  return async (handshake) => {
    const winner = await raceConnections({
      direct,
      relay,
      relayDelayMs: options.relayDelayMs ?? RELAY_DELAY_MS,
      signal: options.signal,
      establish: (conn, _route, claim) => handshake(conn, claim),
      discard: (channel) => channel.close(),
    });
    options.onConnected(winner.route, winner.label);
    return winner.value;
  };
}
