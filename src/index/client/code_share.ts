/**
 * A short code's share without an account (docs/PROTOCOL.md §14.5, `sfs server --codes open`):
 * one index connection, not authenticated, that announces nothing, so the share is in no search
 * and no list. It reads the connection all the time (CODE_MAIL and RELAY_DIAL pushes, §13.4),
 * keeps its idle deadline with HEARTBEATs, and registers the share's relay token right after
 * CODE_OPENED, the one thing that lets a connection without an account do so (§13.2).
 *
 * It never reconnects: the server burns a code whose sender's connection closed, and a new
 * connection could not register the token without a new code.
 */
import { SfsError } from "../../errors.ts";
import { type Bytes, toHex } from "../../crypto/bytes.ts";
import type { CodeMail, RelayDial } from "../../wire/index_messages.ts";
import { RELAY_TOKEN_BYTES } from "../../wire/index_messages.ts";
import { MessageType } from "../../wire/messages.ts";
import { HEARTBEAT_INTERVAL_MS } from "../protocol/limits.ts";
import type { IndexClient } from "./client.ts";
import type { Push } from "./push_reader.ts";
import type { CodeChannel } from "./sharing.ts";
import { RelayLegs, type ShareRelayOptions } from "./sharing_relay.ts";

/** Options of {@link CodeShareSession.start}. */
export interface CodeShareOptions {
  /** An index connection, not authenticated. */
  client: IndexClient;
  /** The id of the one share the code stands for. */
  fileId: Bytes;
  /** Told of each CODE_MAIL the server pushes. */
  onCodeMail: (mail: CodeMail) => void;
  /** Lets the code's receiver reach the share through the index server's relay. */
  relay?: ShareRelayOptions;
  /** Told once when the connection is lost (the code, if still open, is then burned). */
  onLost?: (error: SfsError) => void;
  /** Heartbeat interval. @default 10000 */
  heartbeatMs?: number;
}

/** The index side of a code's share without an account; see the module docs. */
export class CodeShareSession {
  readonly #options: CodeShareOptions;
  readonly #token: Bytes | undefined;
  #registered = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  readonly #relayLegs = new RelayLegs();

  private constructor(options: CodeShareOptions) {
    this.#options = options;
    this.#token = options.relay && crypto.getRandomValues(new Uint8Array(RELAY_TOKEN_BYTES));
  }

  /** Starts reading pushes and sending heartbeats on `options.client`. */
  static start(options: CodeShareOptions): CodeShareSession {
    const session = new CodeShareSession(options);
    options.client.listenForPushes((push) => session.#onPush(push));
    session.#schedule();
    return session;
  }

  /** The relay token of the share once the server took it (for its ticket); else undefined. */
  relayTokenFor(fileId: Bytes): Bytes | undefined {
    if (!this.#registered || toHex(fileId) !== toHex(this.#options.fileId)) return undefined;
    return this.#token;
  }

  /**
   * The connection for the code; its `openCode` registers the relay token once the nameplate is
   * given (a refusal only leaves the ticket without a relay hint). Undefined once closed.
   */
  codeChannel(): CodeChannel | undefined {
    const { client, relay } = this.#options;
    if (this.#closed || client.closed) return undefined;
    return {
      server: client.server,
      openCode: async (ttlSeconds) => {
        const opened = await client.openCode(ttlSeconds);
        if (this.#token !== undefined && !this.#registered) {
          try {
            await client.registerRelayToken(this.#options.fileId, this.#token);
            this.#registered = true;
          } catch (err) {
            if (!(err instanceof SfsError)) throw err;
            relay?.onRelayError?.(err);
          }
        }
        return opened;
      },
      codeMail: (nameplate, payload) => client.codeMail(nameplate, payload),
      closeCode: (nameplate, outcome) => client.closeCode(nameplate, outcome),
    };
  }

  /** Nothing was announced: nothing to withdraw. */
  unshare(): Promise<void> {
    return Promise.resolve();
  }

  /** Stops the heartbeats and closes the connection (an open code is burned). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#options.client.close();
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(async () => {
      try {
        await this.#options.client.heartbeat();
        this.#schedule();
      } catch (err) {
        if (this.#closed) return;
        this.close();
        this.#options.onLost?.(
          err instanceof SfsError ? err : new SfsError("CONNECTION_CLOSED", String(err)),
        );
      }
    }, this.#options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS);
  }

  #onPush(push: Push): void {
    if (push.type === MessageType.RELAY_DIAL) this.#dialRelay(push);
    else this.#options.onCodeMail(push);
  }

  /** Answers RELAY_DIAL for the share (§13.5); any other file id is ignored. */
  async #dialRelay(push: RelayDial): Promise<void> {
    const relay = this.#options.relay;
    if (relay === undefined || this.#closed || !this.#registered) return;
    if (toHex(push.fileId) !== toHex(this.#options.fileId)) return;
    await this.#relayLegs.open(relay, push);
  }
}
