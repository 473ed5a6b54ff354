/**
 * A hostile index server for the short-code tests: it speaks the index protocol (§12) well
 * enough for `sfs send --code` and `sfs get CODE` (every request of a sharing session answered
 * OK, one nameplate), forwards the three PAKE payloads between them (§14.5) through `tamper`, and
 * can hand a relayed receiver to another process instead of the sender (§13.3).
 */
import type { Bytes } from "../src/crypto/bytes.ts";
import { formatFingerprint, type Identity } from "../src/crypto/identity.ts";
import type { Channel } from "../src/wire/channel.ts";
import { respond } from "../src/wire/handshake.ts";
import { type Message, MessageType } from "../src/wire/messages.ts";
import { type LoopbackServer, serveLoopback } from "./loopback_server.ts";

/** Which payload of §14.3 is on its way: 1 and 3 to the sender, 2 to the receiver. */
export type PakeStep = 1 | 2 | 3;

/** What the hostile index does. */
export interface MitmOptions {
  /** Its key, as an index server's. */
  identity: Identity;
  /** Changes a payload on its way. @default unchanged */
  tamper?: (step: PakeStep, payload: Bytes) => Bytes;
  /** Splices a relayed receiver to this port on 127.0.0.1 instead of the sender. */
  relayTo?: number;
}

/** The running hostile index. */
export interface MitmIndex extends AsyncDisposable {
  readonly address: string;
  readonly fingerprint: string;
  /** The payloads it saw, in order, before tampering. */
  readonly seen: { step: PakeStep; payload: Bytes }[];
}

const NAMEPLATE = 1;

/** Starts the hostile index on 127.0.0.1. */
export function startMitmIndex(options: MitmOptions): MitmIndex {
  const tamper = options.tamper ?? ((_step, payload) => payload);
  const seen: { step: PakeStep; payload: Bytes }[] = [];
  let sender: Channel | undefined;
  let claim: Channel | undefined;
  const forward = (step: PakeStep, payload: Bytes): Message => {
    seen.push({ step, payload });
    return { type: MessageType.CODE_MAIL, nameplate: NAMEPLATE, payload: tamper(step, payload) };
  };
  const server: LoopbackServer = serveLoopback(async (conn, track) => {
    const channel = await respond(conn, options.identity, {});
    for (;;) {
      const message = await channel.receive();
      switch (message.type) {
        case MessageType.CODE_OPEN:
          sender = channel;
          await channel.send({
            type: MessageType.CODE_OPENED,
            nameplate: NAMEPLATE,
            ttlSeconds: 600,
          });
          break;
        case MessageType.CODE_CLAIM:
          claim = channel;
          await sender!.send(forward(1, message.payload));
          break;
        case MessageType.CODE_MAIL:
          if (channel === sender) {
            await channel.send({ type: MessageType.OK });
            await claim!.send(forward(2, message.payload));
          } else {
            await sender!.send(forward(3, message.payload));
            await channel.send({ type: MessageType.OK });
          }
          break;
        case MessageType.USER_KEYS:
          await channel.send({ type: MessageType.USER_KEYS_REPLY, users: [] });
          break;
        case MessageType.RELAY: {
          if (options.relayTo === undefined) throw new Error("Not relaying");
          await channel.send({ type: MessageType.OK });
          // From here on the connection is a byte pipe: to whoever the index chooses.
          const other = await Deno.connect({ hostname: "127.0.0.1", port: options.relayTo });
          track(other);
          // Either side closing ends both directions (the session's end closes `conn`).
          await Promise.race([copy(conn, other), copy(other, conn)]);
          other.close();
          return;
        }
        default:
          // AUTH, ANNOUNCE, RELAY_TOKEN, HEARTBEAT, UNSHARE, CODE_CLOSE: all fine.
          await channel.send({ type: MessageType.OK });
      }
    }
  });
  return {
    address: `127.0.0.1:${server.port}`,
    fingerprint: formatFingerprint(options.identity.public.fingerprint),
    seen,
    [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
  };
}

/** Copies `from` to `to` until either fails or `from` ends. */
async function copy(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await from.read(buffer);
      if (n === null) return;
      let written = 0;
      while (written < n) written += await to.write(buffer.subarray(written, n));
    }
  } catch {
    // A closed side ends the copy.
  }
}
