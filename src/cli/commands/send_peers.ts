/**
 * Who a sender is serving, in words: the receiver's index username where the sender knows it (a
 * `--to` user's registered key, or what the relay leg says), else its address; and whether the
 * connection came through the relay (docs/PROTOCOL.md §10.1).
 */
import { type Bytes, toHex } from "../../crypto/bytes.ts";
import type { Route } from "../../net/race.ts";
import { isCanonicalUsername } from "../../index/protocol/usernames.ts";
import type { JsonValue } from "../output.ts";

/** What the relay leg says about a relayed connection (relay-server's `onRelayedConnection`). */
export interface RelayedInfo {
  /** The receiver's index username, when it went through the index with an account. */
  readonly username?: string;
}

/** One receiver as the sender shows it. */
export interface PeerView {
  /** For progress lines and notes: `bob (192.0.2.7:51234)`, `192.0.2.7:51234`, `bob (relayed)`. */
  readonly label: string;
  readonly route: Route;
  /** The index username, when known. */
  readonly user?: string;
}

/** The sender's knowledge of its receivers, by the `peer` string the serving code reports. */
export class PeerBook {
  readonly #names: ReadonlyMap<string, string>;
  readonly #relayed = new Map<string, RelayedInfo>();

  /** `names`: index usernames by hex fingerprint (the `--to` users' registered keys). */
  constructor(names: ReadonlyMap<string, string> = new Map()) {
    this.#names = names;
  }

  /** Records that the connection reported as `peer` came through the relay. */
  markRelayed(peer: string, info: RelayedInfo = {}): void {
    // The name reaches the terminal: only a canonical username is shown, anything else dropped.
    const username = info.username !== undefined && isCanonicalUsername(info.username)
      ? info.username
      : undefined;
    this.#relayed.set(peer, { username });
  }

  /** Forgets a connection that ended. */
  forget(peer: string): void {
    this.#relayed.delete(peer);
  }

  /** How to show `peer`, whose key is `receiver` once its handshake completed. */
  view(peer: string, receiver?: Bytes): PeerView {
    const relayed = this.#relayed.get(peer);
    const user = relayed?.username ??
      (receiver === undefined ? undefined : this.#names.get(toHex(receiver)));
    if (relayed !== undefined) {
      return { label: `${user ?? peer} (relayed)`, route: "relay", user };
    }
    return { label: user === undefined ? peer : `${user} (${peer})`, route: "direct", user };
  }
}

/** The fields a view adds to the sender's JSON events. */
export function viewFields(view: PeerView): Record<string, JsonValue | undefined> {
  return { route: view.route, user: view.user };
}
