/**
 * The relay's messages (docs/PROTOCOL.md §13): their values and codecs. Their type numbers sit in
 * the one table of index message types (index_messages.ts), which merges these codecs into
 * INDEX_CODECS.
 */
import type { Bytes } from "../crypto/bytes.ts";
import { FILE_ID_BYTES } from "../crypto/file_id.ts";
import {
  IndexMessageType,
  MAX_ADDRESS_BYTES,
  MAX_USERNAME_BYTES,
  RELAY_TOKEN_BYTES,
} from "./index_numbers.ts";
import type { Codec } from "./message_fields.ts";

/** Asks to be relayed to whoever shares the file (§13.3); `token` is empty or 16 bytes. */
export interface Relay {
  type: typeof IndexMessageType.RELAY;
  fileId: Bytes;
  token: Bytes;
}

/** Registers the relay token of a file this connection announced (§13.2). */
export interface RelayToken {
  type: typeof IndexMessageType.RELAY_TOKEN;
  fileId: Bytes;
  token: Bytes;
}

/**
 * The server's push to a sharing connection: open a leg for this file (§13.4). `receiver` is
 * the receiver's canonical username when its index session was authenticated, else empty;
 * `relay` is the HOST:PORT the leg goes to, or empty for the index address (§13.7).
 */
export interface RelayDial {
  type: typeof IndexMessageType.RELAY_DIAL;
  fileId: Bytes;
  pairingToken: Bytes;
  receiver: string;
  relay: string;
}

/** The first frame (plain) of a sender's leg (§13.5). */
export interface RelayJoin {
  type: typeof IndexMessageType.RELAY_JOIN;
  pairingToken: Bytes;
}

/** Any relay message. */
export type RelayMessage = Relay | RelayToken | RelayDial | RelayJoin;

/** The codec of every relay message; a missing one is a compile error in INDEX_CODECS. */
export const RELAY_CODECS: { [M in RelayMessage as M["type"]]: Codec<M> } = {
  [IndexMessageType.RELAY]: {
    encode: (w, m) => w.raw(m.fileId).bytes16(m.token),
    decode: (r) => {
      const fileId = r.raw(FILE_ID_BYTES);
      const token = r.bytes16(RELAY_TOKEN_BYTES);
      if (token.length !== 0 && token.length !== RELAY_TOKEN_BYTES) {
        r.fail(`relay token of ${token.length} bytes`);
      }
      return { fileId, token };
    },
  },
  [IndexMessageType.RELAY_TOKEN]: {
    encode: (w, m) => w.raw(m.fileId).raw(m.token),
    decode: (r) => ({ fileId: r.raw(FILE_ID_BYTES), token: r.raw(RELAY_TOKEN_BYTES) }),
  },
  [IndexMessageType.RELAY_DIAL]: {
    encode: (w, m) => w.raw(m.fileId).raw(m.pairingToken).text(m.receiver).text(m.relay),
    decode: (r) => ({
      fileId: r.raw(FILE_ID_BYTES),
      pairingToken: r.raw(RELAY_TOKEN_BYTES),
      receiver: r.text(MAX_USERNAME_BYTES),
      relay: r.text(MAX_ADDRESS_BYTES),
    }),
  },
  [IndexMessageType.RELAY_JOIN]: {
    encode: (w, m) => w.raw(m.pairingToken),
    decode: (r) => ({ pairingToken: r.raw(RELAY_TOKEN_BYTES) }),
  },
};
