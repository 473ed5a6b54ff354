/**
 * How `sfs get` enters the index server's relay (docs/PROTOCOL.md §10, §13.3): the server's key
 * is checked exactly as when connecting to the index (its pin, trust on first use) before a
 * byte of the request goes out. A ticket's relay token is as secret as the ticket, so a relay
 * named by a ticket must also present the key the ticket names: a server that is not the one
 * the sender registered with could otherwise use the token itself.
 */
import { SfsError } from "../../errors.ts";
import { type Bytes, constantTimeEqual } from "../../crypto/bytes.ts";
import { formatFingerprint, type PublicIdentity } from "../../crypto/identity.ts";
import { formatHostPort } from "../../net/address.ts";
import type { RelayHint } from "../../peer/ticket.ts";
import type { IndexFlags } from "../index_connect.ts";
import type { Output } from "../output.ts";
import type { IndexTarget } from "../settings/config.ts";
import { pinServer, trustServer } from "../settings/pins.ts";
import type { RelayAccess } from "./get_route.ts";

/** Who is asking, for the pin checks. */
export interface RelayAsker {
  readonly home: string;
  readonly flags: IndexFlags;
  readonly out: Output;
}

/**
 * The relay of a ticket's hint, for a receiver that needs no account: the server must present
 * the hint's fingerprint (KEY_MISMATCH otherwise) and agree with any pin for its address. A hint
 * of the first form, without a fingerprint, is checked against the pin alone, a first contact
 * accepted only as for an index server (`--yes`, `--server-fingerprint`, or the person).
 */
export function ticketRelay(asker: RelayAsker, hint: RelayHint, fileId: Bytes): RelayAccess {
  const server = formatHostPort(hint);
  const expected = hint.fingerprint;
  return pinnedRelay(asker, server, {
    route: { host: hint.host, port: hint.port, fileId, token: hint.token },
    expected: expected === undefined ? asker.flags.serverFingerprint : formatFingerprint(expected),
    check: (key) => {
      if (expected !== undefined && !constantTimeEqual(key.fingerprint, expected)) {
        throw new SfsError(
          "KEY_MISMATCH",
          `Relay ${server} presented key ${formatFingerprint(key.fingerprint)}, not the ${
            formatFingerprint(expected)
          } the ticket names`,
          { hint: "The ticket's relay is not the index server the sender shares through" },
        );
      }
    },
    // The ticket names the key: nobody needs to be asked about it.
    yes: expected !== undefined || asker.flags.yes,
  });
}

/**
 * The relay of the index `sfs get ID|NAME` resolved through: the same server, the same pin, and
 * the same account (listings shared with it may be relayed).
 */
export function indexRelay(asker: RelayAsker, target: IndexTarget, fileId: Bytes): RelayAccess {
  const user = target.user;
  return {
    ...pinnedRelay(asker, target.server, {
      route: { host: target.address.host, port: target.address.port, fileId },
      expected: asker.flags.serverFingerprint,
      yes: asker.flags.yes,
    }),
    ...(user === undefined ? {} : { authenticate: (client) => client.auth(user) }),
  };
}

/** A relay whose key is checked with trustServer and pinned once the connection opened. */
function pinnedRelay(
  asker: RelayAsker,
  server: string,
  how: {
    route: RelayAccess["route"];
    expected?: string;
    yes?: boolean;
    check?: (key: PublicIdentity) => void;
  },
): RelayAccess {
  let fresh: Bytes | undefined;
  return {
    route: how.route,
    verifyServer: async (key) => {
      how.check?.(key);
      const isNew = await trustServer(asker.home, server, key.fingerprint, {
        expected: how.expected,
        yes: how.yes,
        out: asker.out,
      });
      if (isNew) fresh = key.fingerprint;
    },
    // Pinned only once the handshake proved the server holds the key, as for the index.
    opened: async () => {
      if (fresh === undefined) return;
      await pinServer(asker.home, server, fresh, { out: asker.out });
      asker.out.note(`Pinned the key of index server ${server}`);
    },
  };
}
