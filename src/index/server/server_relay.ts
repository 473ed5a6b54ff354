/**
 * The relay's hand-overs on the index server's port (§13): a sender's leg joins the RELAY
 * waiting for it, a receiver's connection answered OK is spliced to that leg, and a sharing
 * connection is where the relay pushes RELAY_DIAL.
 */
import { SfsError } from "../../errors.ts";
import { closeQuietly } from "../../closable.ts";
import type { Bytes } from "../../crypto/bytes.ts";
import type { Admitted } from "../../net/listener.ts";
import type { Channel } from "../../wire/channel.ts";
import { MessageType } from "../../wire/messages.ts";
import type { ConnectionState, LogFields } from "./handlers.ts";
import type { RelayBroker, RelayHandover } from "./relay.ts";
import { abortFrame } from "./relay_leg.ts";
import type { Connection } from "./server_connection.ts";

/**
 * Hands a sender's leg to the RELAY waiting for its pairing token; a token nobody waits for
 * (used, late, or made up) is refused in the clear (§13.5). Either way the connection is no
 * longer the caller's to close: the splice owns it, or the refusal closes it once written.
 */
export function joinLeg(
  relay: RelayBroker,
  admitted: Admitted,
  how: { pairingToken: Bytes; log: (event: string, fields: LogFields) => void },
): true {
  if (relay.join(how.pairingToken, admitted.conn)) return true;
  how.log("relay_refused", { address: admitted.peer });
  const refused = new SfsError("REFUSED", "Unknown pairing token");
  admitted.conn.write(abortFrame(refused)).catch(() => {}).finally(() =>
    closeQuietly(admitted.conn)
  );
  return true;
}

/** Copies between a receiver whose RELAY was answered OK and the sender's leg. */
export async function spliceRelayed(
  relay: RelayBroker,
  c: Connection,
  handover: RelayHandover,
): Promise<void> {
  c.relayed = handover;
  // The channel's keys are freed; the TCP connection stays open for the splice.
  const conn = c.transport!.take();
  c.channel!.close();
  await relay.run(conn, handover);
}

/** Closes a sender's leg paired for a RELAY whose OK could not be sent. */
export function dropHandover(relay: RelayBroker, state: ConnectionState): void {
  const handover = relay.takeHandover(state);
  if (handover === undefined) return;
  closeQuietly(handover.sender);
  handover.reservation.release();
}

/**
 * Tells the relay how to reach this connection if it shares files (§13.4); it pushes only
 * after a RELAY_TOKEN, and only between whole records (Channel.send queues them).
 */
export function attachSharer(relay: RelayBroker, state: ConnectionState, channel: Channel): void {
  relay.attach(state, {
    get userId() {
      return state.userId ?? -1;
    },
    push: (fileId, pairingToken, receiver, relayAddress) =>
      channel.send({
        type: MessageType.RELAY_DIAL,
        fileId,
        pairingToken,
        receiver,
        relay: relayAddress,
      }),
  });
}
