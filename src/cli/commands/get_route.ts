/**
 * How `sfs get` reaches the sender (docs/PROTOCOL.md §10.1): every direct candidate at once, and
 * the relay after a short delay, or only one kind with `--direct` / `--relay`. The first
 * connection whose handshake completes carries the transfer, and a resume reconnects the same way.
 */
import { isSfsError, SfsError } from "../../errors.ts";
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
import type { DialRelayOptions, RelayRoute } from "../../index/client/relay_dial.ts";

/** Which routes `sfs get` may take: both (the default), or only one with --direct / --relay. */
export type RouteChoice = "any" | "direct" | "relay";

/** Opens a connection that reaches the sharing sender through the index server's relay. */
export type RelayDialer = (route: RelayRoute, options: DialRelayOptions) => Promise<Deno.Conn>;

/**
 * The relay dialer `sfs get` uses: relay-server's (src/index/client/relay_dial.ts), loaded with
 * the index client only when a relay is dialled (a direct get does without).
 */
export const DIAL_RELAY: RelayDialer = async (route, options) =>
  (await import("../../index/client/relay_dial.ts")).dialRelay(route, options);

/** A relay for one share, and how to check and enter its index session. */
export interface RelayAccess {
  readonly route: RelayRoute;
  /** Checks the index server's key before anything is sent (the token above all, §10). */
  readonly verifyServer: DialRelayOptions["verifyServer"];
  /** Authenticates the index session (through the index with an account). */
  readonly authenticate?: DialRelayOptions["authenticate"];
  /** Runs once the relayed connection is open (pins a server met for the first time). */
  readonly opened?: () => Promise<void>;
}

/** Where a share can be reached. */
export interface Reachable {
  readonly candidates: readonly HostPort[];
  readonly relay?: RelayAccess;
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
  const access = where.relay;
  const relay: Candidate | undefined = options.choice === "direct" || access === undefined
    ? undefined
    : {
      label: `relay ${formatHostPort(access.route)}`,
      dial: async (signal) => {
        const conn = await dialRelay(access.route, {
          signal,
          identity: options.identity,
          verifyServer: access.verifyServer,
          authenticate: access.authenticate,
        }).catch((err) => {
          throw noSenderAtRelay(err, formatHostPort(access.route));
        });
        try {
          await access.opened?.();
        } catch (err) {
          conn.close();
          throw err;
        }
        return conn;
      },
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

/**
 * The relay's NOT_FOUND or REFUSED means no sender of this file is online there (or not one this
 * receiver may reach): for the person that is a sender out of reach, like a refused direct
 * address, not a refusal by the sender, so it must not outrank the direct errors (§10.1).
 */
function noSenderAtRelay(err: unknown, relay: string): unknown {
  if (!isSfsError(err, "NOT_FOUND") && !isSfsError(err, "REFUSED")) return err;
  return new SfsError("CONNECTION_FAILED", `No sender of this file is online at relay ${relay}`, {
    cause: err,
    hint: "Is the sender still running sfs send?",
  });
}
