/**
 * The sender's side of relaying in a sharing session (docs/PROTOCOL.md §13): a relay token for
 * each shared file, and the answer to a RELAY_DIAL push: a leg opened to the relay, announced with
 * RELAY_JOIN and the pairing token, then handed to the caller to be served like a receiver that
 * dialled in.
 */
import { SfsError } from "../../errors.ts";
import { type Bytes, toHex } from "../../crypto/bytes.ts";
import { closeQuietly } from "../../closable.ts";
import { FrameKind, FrameWriter } from "../../wire/frame.ts";
import { withType } from "../../wire/channel.ts";
import { encodeMessage, MessageType } from "../../wire/messages.ts";
import { RELAY_TOKEN_BYTES, type RelayDial } from "../../wire/index_messages.ts";
import { decodeAnnouncement, type SignedAnnouncement } from "../protocol/announcement.ts";
import { type HostPort, tryParseHostPort } from "../../net/address.ts";
import { connect } from "../../net/connect.ts";

/** What the session tells about a relayed connection. */
export interface RelayedConnectionInfo {
  /** The file the receiver asked the relay for (it still asks for it in its GET). */
  readonly fileId: Bytes;
  /**
   * The receiver's index username as the server says (its session was authenticated); absent
   * for a receiver without an account. The server's word: the handshake still checks keys.
   */
  readonly username?: string;
}

/** Relaying (§13): how to reach the relay and who serves what comes through it. */
export interface ShareRelayOptions {
  /** Opens a new TCP connection to the index server, which relays on its own port. */
  dial: () => Promise<Deno.TcpConn>;
  /**
   * Opens a TCP connection to the relay address a RELAY_DIAL names (another server of the same
   * index, §13.7). @default {net/connect.ts connect}
   */
  dialAt?: (relay: HostPort) => Promise<Deno.TcpConn>;
  /**
   * Serves one relayed connection like one accepted from a receiver: the next bytes on it are
   * the receiver's HELLO. The callee owns (and closes) the connection.
   */
  onRelayedConnection: (conn: Deno.TcpConn, info: RelayedConnectionInfo) => void;
  /** Told when a leg could not be opened (the receiver then gets CONNECTION_FAILED). */
  onRelayError?: (error: SfsError) => void;
  /**
   * Relay tokens by file id (32 hex digits); files without one get a random token.
   * @default {} (all random)
   */
  tokens?: ReadonlyMap<string, Bytes>;
}

/**
 * The file id of each announcement and the relay token of each file (by file id, hex): the one
 * `relay.tokens` gives, else a random one.
 */
export function relayTokensFor(
  announcements: readonly SignedAnnouncement[],
  relay: ShareRelayOptions,
): { fileIds: Map<SignedAnnouncement, Bytes>; tokens: Map<string, Bytes> } {
  const fileIds = new Map<SignedAnnouncement, Bytes>();
  const tokens = new Map<string, Bytes>();
  for (const signed of announcements) {
    const fileId = decodeAnnouncement(signed.bytes).fileId;
    const id = toHex(fileId);
    fileIds.set(signed, fileId);
    const token = relay.tokens?.get(id) ??
      crypto.getRandomValues(new Uint8Array(RELAY_TOKEN_BYTES));
    tokens.set(id, token);
  }
  return { fileIds, tokens };
}

/**
 * Relay legs a sharing session opens at once (§13.5): each RELAY_DIAL push starts a TCP connect
 * to an address the server names, so a hostile or broken index could otherwise make the sender
 * open any number of connections. Pushes beyond it are refused as BUSY (the receiver gets
 * CONNECTION_FAILED from its relay); a leg once open is admitted like any receiver.
 */
export const MAX_RELAY_LEGS_OPENING = 4;

/**
 * The relay legs of one session (a file share or a code share): opens each through
 * {@link openRelayLeg}, at most {@link MAX_RELAY_LEGS_OPENING} at once.
 */
export class RelayLegs {
  /** Legs whose connect or RELAY_JOIN is still in progress. */
  #opening = 0;

  /** Opens a leg for `push`, or tells `relay.onRelayError` BUSY when too many are opening. */
  async open(relay: ShareRelayOptions, push: RelayDial): Promise<void> {
    if (this.#opening >= MAX_RELAY_LEGS_OPENING) {
      relay.onRelayError?.(new SfsError("BUSY", "Too many relay legs are being opened at once"));
      return;
    }
    this.#opening++;
    try {
      await openRelayLeg(relay, push);
    } finally {
      this.#opening--;
    }
  }
}

/**
 * Answers RELAY_DIAL (§13.5): opens a leg to the relay, sends RELAY_JOIN with the pairing token
 * and hands the connection over to be served; a leg that cannot be opened is reported to
 * `relay.onRelayError`.
 */
export async function openRelayLeg(relay: ShareRelayOptions, push: RelayDial): Promise<void> {
  let conn: Deno.TcpConn | undefined;
  try {
    // Empty: the index address this session uses; else the relay of another server (§13.7).
    const at = push.relay === "" ? undefined : tryParseHostPort(push.relay);
    if (typeof at === "string") {
      throw new SfsError("BAD_MESSAGE", `The relay address of RELAY_DIAL is invalid: ${at}`);
    }
    conn = at === undefined ? await relay.dial() : await (relay.dialAt ?? connect)(at);
    const join = { type: MessageType.RELAY_JOIN, pairingToken: push.pairingToken } as const;
    await new FrameWriter(conn).write(
      FrameKind.PLAIN,
      withType(MessageType.RELAY_JOIN, encodeMessage(join)),
    );
  } catch (err) {
    if (conn !== undefined) closeQuietly(conn);
    relay.onRelayError?.(
      err instanceof SfsError
        ? err
        : new SfsError("CONNECTION_FAILED", "Cannot reach the relay", { cause: err }),
    );
    return;
  }
  relay.onRelayedConnection(conn, {
    fileId: push.fileId,
    username: push.receiver === "" ? undefined : push.receiver,
  });
}
