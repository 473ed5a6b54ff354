/**
 * The read loop of an index client that listens for the server's pushes (RELAY_DIAL, §13.4, and
 * a short code's CODE_MAIL, §14.5): it reads the connection all the time, hands each push to the
 * caller and each other record to the one request waiting for its reply. A sharing connection
 * never gets CODE_MAIL as a reply (its own CODE_MAIL requests are answered OK), so the type alone
 * tells a push.
 */
import { codeInfo, SfsError } from "../../errors.ts";
import type { Channel } from "../../wire/channel.ts";
import { type Message, MessageType } from "../../wire/messages.ts";
import type { CodeMail, RelayDial } from "../../wire/index_messages.ts";

/** A message the server pushes on a sharing connection. */
export type Push = RelayDial | CodeMail;

/** The connection a push reader serves: it stops once closed, and closes it on a broken one. */
export interface PushedConnection {
  readonly closed: boolean;
  close(): void;
}

/** Tells pushes from replies; at most one request waits for a reply at a time. */
export class PushReader {
  /** The request waiting for its reply. */
  #waiting: ((reply: Promise<Message>) => void) | undefined;

  /** True while a request waits for its reply. */
  get waiting(): boolean {
    return this.#waiting !== undefined;
  }

  /** Reads `channel` until `connection` is closed, or closes it when the server breaks a rule. */
  async run(
    channel: Channel,
    onPush: (push: Push) => void,
    connection: PushedConnection,
  ): Promise<void> {
    while (!connection.closed) {
      const next = channel.receive();
      let message: Message;
      try {
        message = await next;
      } catch (err) {
        // An ERROR answers the waiting request; a broken connection fails it, and ends here.
        const answered = this.deliver(next);
        if (!answered || !(err instanceof SfsError) || codeInfo(err.code).fatalToConnection) {
          connection.close();
          return;
        }
        continue;
      }
      if (message.type === MessageType.RELAY_DIAL || message.type === MessageType.CODE_MAIL) {
        onPush(message);
      } else if (!this.deliver(next)) {
        // A reply nobody asked for: the server broke the protocol.
        connection.close();
        return;
      }
    }
  }

  /** Hands a reply to the waiting request; false when none waits. */
  deliver(reply: Promise<Message>): boolean {
    const waiting = this.#waiting;
    if (waiting === undefined) return false;
    this.#waiting = undefined;
    waiting(reply);
    return true;
  }

  /** Claims the next reply the reader sees; `cancel` gives the claim up. */
  claim(): { reply: Promise<Message>; cancel: () => void } {
    let claim: ((reply: Promise<Message>) => void) | undefined;
    const reply = new Promise<Promise<Message>>((resolve) => {
      claim = resolve;
      this.#waiting = resolve;
    }).then((r) => r);
    return {
      reply,
      cancel: () => {
        if (this.#waiting === claim) this.#waiting = undefined;
      },
    };
  }
}
