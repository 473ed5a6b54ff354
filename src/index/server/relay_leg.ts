/**
 * Telling a relay leg from an index client by its first frame (docs/PROTOCOL.md §13.5): a plain
 * RELAY_JOIN makes the connection a sender's leg; anything else is the start of a handshake and
 * is read again by it. Only the frame header and type byte are read to decide, into a buffer of
 * exactly that size, so nothing beyond them is consumed.
 */
import { SfsError, wireText } from "../../errors.ts";
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

/** Reads just enough of a new connection to tell a leg from a client; null if it ended. */
export async function readFirstFrame(conn: Deno.TcpConn): Promise<FirstFrame | null> {
  const head = new Uint8Array(FRAME_HEADER_BYTES + 1);
  if (!await readExactly(conn, head)) return null;
  const length = new DataView(head.buffer).getUint32(0);
  const isJoin = head[4] === FrameKind.PLAIN && head[5] === MessageType.RELAY_JOIN;
  if (!isJoin) return { kind: "client", transport: new Lent(conn, { prefix: head }) };
  // kind ‖ type ‖ token: any other length is not a RELAY_JOIN (§13.1).
  if (length !== 2 + RELAY_TOKEN_BYTES) {
    throw new SfsError("BAD_MESSAGE", `RELAY_JOIN of ${length} bytes`);
  }
  const pairingToken = new Uint8Array(RELAY_TOKEN_BYTES);
  if (!await readExactly(conn, pairingToken)) return null;
  return { kind: "leg", pairingToken };
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
