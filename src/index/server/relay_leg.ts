/**
 * Telling a relay leg from an index client by its first frame (docs/PROTOCOL.md §13.5): a plain
 * RELAY_JOIN makes the connection a sender's leg; anything else is the start of a handshake and
 * is read again by it. Reads go into buffers of exactly the size wanted, so nothing beyond the
 * bytes looked at is consumed.
 */
import { type SfsError, wireText } from "../../errors.ts";
import type { Bytes } from "../../crypto/bytes.ts";
import { Lent } from "../../net/lent.ts";
import { FRAME_HEADER_BYTES, FrameKind } from "../../wire/frame.ts";
import { withType } from "../../wire/channel.ts";
import { encodeMessage, MessageType } from "../../wire/messages.ts";
import { RELAY_TOKEN_BYTES } from "../../wire/index_messages.ts";

/** A connection's first frame: a sender's leg with its pairing token, or an index client. */
export type FirstFrame =
  | { readonly kind: "leg"; readonly pairingToken: Bytes }
  | { readonly kind: "client"; readonly transport: Lent<Deno.TcpConn> };

/**
 * Reads just enough of a new connection to tell a leg from a client; null if it ended. The frame
 * header comes first; only a plain frame of exactly RELAY_JOIN's length has its type byte read
 * too, so a client that sent a header alone (an oversized length, say) is answered by the
 * handshake, as before, instead of waiting here for a byte that never comes.
 */
export async function readFirstFrame(conn: Deno.TcpConn): Promise<FirstFrame | null> {
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  if (!await readExactly(conn, header)) return null;
  const length = new DataView(header.buffer).getUint32(0);
  // kind ‖ type ‖ token (§13.1).
  if (header[4] !== FrameKind.PLAIN || length !== 2 + RELAY_TOKEN_BYTES) {
    return { kind: "client", transport: new Lent(conn, { prefix: header }) };
  }
  const rest = new Uint8Array(1 + RELAY_TOKEN_BYTES);
  if (!await readExactly(conn, rest.subarray(0, 1))) return null;
  if (rest[0] !== MessageType.RELAY_JOIN) {
    const prefix = new Uint8Array(FRAME_HEADER_BYTES + 1);
    prefix.set(header);
    prefix[FRAME_HEADER_BYTES] = rest[0];
    return { kind: "client", transport: new Lent(conn, { prefix }) };
  }
  if (!await readExactly(conn, rest.subarray(1))) return null;
  return { kind: "leg", pairingToken: rest.slice(1) };
}

/** The plain ABORT frame that refuses a leg (§13.5), with the code's fixed text. */
export function abortFrame(error: SfsError): Uint8Array {
  const body = withType(
    MessageType.ABORT,
    encodeMessage({ type: MessageType.ABORT, code: error.code, message: wireText(error.code) }),
  );
  const frame = new Uint8Array(FRAME_HEADER_BYTES + body.length);
  new DataView(frame.buffer).setUint32(0, body.length + 1);
  frame[4] = FrameKind.PLAIN;
  frame.set(body, FRAME_HEADER_BYTES);
  return frame;
}

/** Fills `into`; false when the connection ended, was reset, or was closed by a deadline. */
async function readExactly(conn: Deno.Conn, into: Uint8Array): Promise<boolean> {
  try {
    for (let filled = 0; filled < into.length;) {
      const n = await conn.read(into.subarray(filled));
      if (n === null) return false;
      filled += n;
    }
    return true;
  } catch {
    return false;
  }
}
