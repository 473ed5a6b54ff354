/**
 * The dial request one server sends another (docs/PROTOCOL.md §13.7): "push RELAY_DIAL for this
 * file, with this pairing token, on your sharing connection C; its leg goes to my relay at R".
 * It travels as a NOTIFY payload, which any database role that may LISTEN can read and any that
 * may connect can forge, so it carries no secret but the single-use pairing token, and the
 * receiving server checks every field as strictly as a request from a client.
 */
import { SfsError } from "../../errors.ts";
import { type Bytes, fromHex, toHex } from "../../crypto/bytes.ts";
import { FILE_ID_BYTES } from "../../crypto/file_id.ts";
import { formatHostPort, tryParseHostPort } from "../../net/address.ts";
import { RELAY_TOKEN_BYTES } from "../../wire/index_messages.ts";
import { canonicalUsername } from "../protocol/usernames.ts";

/** Longest dial request, in bytes (a few hundred in practice; NOTIFY allows 8000). */
export const MAX_DIAL_NOTICE_BYTES = 1024;
const KEYS = ["type", "connection", "file", "pairing", "receiver", "relay"];
const CONNECTION_RE = /^[0-9a-f]{32}$/;

/** A dial request, checked. */
export interface DialNotice {
  /** The sharing connection's id on the server it is sent to (32 hex digits). */
  readonly connection: string;
  readonly fileId: Bytes;
  readonly pairingToken: Bytes;
  /** The receiver's username, or empty. */
  readonly receiver: string;
  /** HOST:PORT of the relay waiting for the leg, canonical. */
  readonly relay: string;
}

/** Encodes a dial request as JSON text. */
export function encodeDialNotice(notice: DialNotice): string {
  return JSON.stringify({
    type: "dial",
    connection: notice.connection,
    file: toHex(notice.fileId),
    pairing: toHex(notice.pairingToken),
    receiver: notice.receiver,
    relay: notice.relay,
  });
}

/** Decodes and checks a dial request; SfsError BAD_MESSAGE for anything else. */
export function decodeDialNotice(text: string): DialNotice {
  if (text.length > MAX_DIAL_NOTICE_BYTES) bad("too long");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    bad("not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) bad("not an object");
  const fields = value as Record<string, unknown>;
  const keys = Object.keys(fields);
  if (keys.length !== KEYS.length || !KEYS.every((k) => keys.includes(k))) bad("unknown fields");
  if (fields.type !== "dial") bad("unknown type");
  const { connection, file, pairing, receiver, relay } = fields;
  if (typeof connection !== "string" || !CONNECTION_RE.test(connection)) bad("connection id");
  const fileId = hexOf(file, FILE_ID_BYTES) ?? bad("file id");
  const pairingToken = hexOf(pairing, RELAY_TOKEN_BYTES) ?? bad("pairing token");
  // A valid username as the account spells it (RELAY_DIAL carries it as stored), or nothing.
  if (typeof receiver !== "string" || (receiver !== "" && !isUsername(receiver))) {
    bad("receiver");
  }
  if (typeof relay !== "string") bad("relay address");
  const address = tryParseHostPort(relay);
  // One spelling only, as for announced addresses: the sender dials exactly what was checked.
  if (typeof address === "string" || formatHostPort(address) !== relay) bad("relay address");
  return { connection, fileId, pairingToken, receiver, relay };
}

/** A valid username in NFC, in any case: what an account's stored name is. */
function isUsername(name: string): boolean {
  return name === name.normalize("NFC") && canonicalUsername(name) !== undefined;
}

/** Lower-case hex of exactly `bytes` bytes, decoded; undefined otherwise. */
function hexOf(value: unknown, bytes: number): Bytes | undefined {
  if (typeof value !== "string" || !new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(value)) {
    return undefined;
  }
  return fromHex(value);
}

function bad(what: string): never {
  throw new SfsError("BAD_MESSAGE", `Invalid dial request from another server: ${what}`);
}
