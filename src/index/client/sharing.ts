/**
 * A sharing session (docs/PROTOCOL.md §12.6): announce files, then keep the index connection open
 * with a heartbeat every 10 s so the files show as online. When the connection fails the session
 * reconnects with backoff and announces again; errors that retrying cannot fix (a changed server
 * key, refused authentication) stop it.
 *
 * A file its owner unshared meanwhile (`sfs unshare` in another terminal) stays withdrawn: the
 * server refuses the old announcement with WITHDRAWN, whether it comes again after a reconnect or
 * is found out through a heartbeat answered WITHDRAWN (the session then re-announces to learn
 * which). The session drops each such file and reports it, so the caller stops serving it.
 *
 * With relaying on (docs/PROTOCOL.md §13), the session registers a random relay token for each
 * file after announcing it (the ticket carries it), reads its connection all the time for the
 * server's RELAY_DIAL pushes, and answers each by opening a leg to the relay and handing that
 * connection to the caller, who serves it like a receiver that dialled in (sharing_relay.ts).
 */
import { codeInfo, isSfsError, SfsError } from "../../errors.ts";
import { type Bytes, toHex } from "../../crypto/bytes.ts";
import type { CodeMail, RelayDial } from "../../wire/index_messages.ts";
import { MessageType } from "../../wire/messages.ts";
import type { Push } from "./push_reader.ts";
import type { SignedAnnouncement } from "../protocol/announcement.ts";
import { HEARTBEAT_INTERVAL_MS } from "../protocol/limits.ts";
import type { IndexClient } from "./client.ts";
import { RelayLegs, relayTokensFor, type ShareRelayOptions } from "./sharing_relay.ts";

export type { RelayedConnectionInfo, ShareRelayOptions } from "./sharing_relay.ts";

const RECONNECT_MIN_MS = 1_000;
const RECONNECT_MAX_MS = 30_000;

/** The part of {@link IndexClient} a session uses; the relay part only when relaying. */
export type ShareClient =
  & Pick<IndexClient, "announce" | "heartbeat" | "unshare" | "close" | "closed">
  & Partial<Pick<IndexClient, "registerRelayToken" | "listenForPushes">>
  & Partial<CodeChannel>;

/** What a short code's sender needs of the sharing connection (§14.5). */
export type CodeChannel = Pick<IndexClient, "openCode" | "codeMail" | "closeCode" | "server">;

/** Options of {@link ShareSession.start}. */
export interface ShareSessionOptions {
  /** Opens an authenticated index connection. */
  connect: () => Promise<ShareClient>;
  /** The files to announce, signed. */
  announcements: readonly SignedAnnouncement[];
  /** Heartbeat interval. @default 10000 */
  heartbeatMs?: number;
  /** Shortest wait before reconnecting; doubles up to 30 s. @default 1000 */
  reconnectMs?: number;
  /** Told when the session drops (with why) and when it is back. */
  onStatus?: (status: "offline" | "online" | "stopped", error?: SfsError) => void;
  /** Told of each file the owner unshared while it was shared; it is no longer announced. */
  onWithdrawn?: (signed: SignedAnnouncement) => void;
  /** Lets receivers reach this session's files through the index server's relay. */
  relay?: ShareRelayOptions;
  /**
   * Told of each CODE_MAIL the server pushes (§14.5); set it to open short codes on this
   * session's connection (the connection then reads pushes even without relaying).
   */
  onCodeMail?: (mail: CodeMail) => void;
}

/** A live announcement of some files, kept online until closed. */
export class ShareSession {
  readonly #options: ShareSessionOptions;
  /** What is still announced: the files, less those found withdrawn. */
  #announcements: SignedAnnouncement[];
  /** Relay token of each shared file, by file id (hex); empty without relaying. */
  readonly #relayTokens: Map<string, Bytes>;
  /** File id of each announcement, when relaying. */
  readonly #fileIds: Map<SignedAnnouncement, Bytes>;
  #client: ShareClient | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  readonly #relayLegs = new RelayLegs();
  #backoff: number;

  private constructor(options: ShareSessionOptions) {
    this.#options = options;
    this.#announcements = [...options.announcements];
    this.#backoff = options.reconnectMs ?? RECONNECT_MIN_MS;
    const relaying = options.relay === undefined
      ? { fileIds: new Map(), tokens: new Map() }
      : relayTokensFor(options.announcements, options.relay);
    this.#fileIds = relaying.fileIds;
    this.#relayTokens = relaying.tokens;
  }

  /**
   * A session whose first connection failed: it keeps trying with the same bounded backoff as
   * after a lost connection, and reports "online" once the files are announced.
   */
  static startOffline(options: ShareSessionOptions): ShareSession {
    const session = new ShareSession(options);
    session.#schedule(session.#nextBackoff());
    return session;
  }

  /** Connects and announces everything; errors of this first attempt are thrown. */
  static async start(options: ShareSessionOptions): Promise<ShareSession> {
    const session = new ShareSession(options);
    let client = await options.connect();
    try {
      await session.#announceAll(client, { dropWithdrawn: false });
    } catch (err) {
      client.close();
      if (!session.#relayRefused(err)) throw err;
      // A server older than the relay closed the connection at RELAY_TOKEN: share without it.
      client = await options.connect();
      try {
        await session.#announceAll(client, { dropWithdrawn: false });
      } catch (err) {
        client.close();
        throw err;
      }
    }
    session.#client = client;
    session.#schedule(options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS);
    return session;
  }

  /**
   * The relay token registered for a shared file (for its ticket, §13.2); undefined without
   * relaying or for a file this session does not share.
   */
  relayTokenFor(fileId: Bytes): Bytes | undefined {
    return this.#relayTokens.get(toHex(fileId));
  }

  /**
   * The connection that is up now, for a short code (§14.5); undefined while offline. A code
   * lives on one connection: the server burns it when that connection closes.
   */
  codeChannel(): CodeChannel | undefined {
    const client = this.#client;
    if (client === undefined || client.closed || this.#options.onCodeMail === undefined) return;
    const { openCode, codeMail, closeCode, server } = client;
    if (!openCode || !codeMail || !closeCode || !server) return;
    return {
      server,
      openCode: openCode.bind(client),
      codeMail: codeMail.bind(client),
      closeCode: closeCode.bind(client),
    };
  }

  /** Withdraws the given files (best effort: the caller is usually about to exit). */
  async unshare(fileIds: readonly Bytes[]): Promise<void> {
    const client = this.#client;
    if (client === undefined || client.closed) return;
    for (const id of fileIds) await client.unshare(id).catch(() => {});
  }

  /** Stops heartbeats and closes the connection; the server then shows the files offline. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#client?.close();
    this.#client = undefined;
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => this.#tick(), delayMs);
  }

  async #tick(): Promise<void> {
    const heartbeatMs = this.#options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS;
    try {
      if (this.#client === undefined || this.#client.closed) {
        this.#client = undefined;
        const client = await this.#options.connect();
        if (this.#closed) return client.close();
        await this.#announceAll(client, { dropWithdrawn: true });
        this.#client = client;
        this.#backoff = this.#options.reconnectMs ?? RECONNECT_MIN_MS;
        this.#options.onStatus?.("online");
      } else {
        await this.#client.heartbeat().catch(async (err) => {
          // Some file was unshared meanwhile: announcing again tells which.
          if (!(err instanceof SfsError && err.code === "WITHDRAWN")) throw err;
          await this.#announceAll(this.#client!, { dropWithdrawn: true });
        });
      }
      this.#schedule(heartbeatMs);
    } catch (err) {
      if (this.#closed) return;
      const e = err instanceof SfsError ? err : new SfsError("INTERNAL", String(err));
      const wasOnline = this.#client !== undefined;
      this.#client?.close();
      this.#client = undefined;
      // The server no longer relays (an older one took its place): go on without.
      if (this.#relayRefused(e)) return this.#schedule(0);
      // Reconnecting is pointless until someone changes something.
      if (codeInfo(e.code).permanent) {
        this.#closed = true;
        this.#options.onStatus?.("stopped", e);
        return;
      }
      if (wasOnline) this.#options.onStatus?.("offline", e);
      this.#schedule(wasOnline ? this.#backoff : this.#nextBackoff());
    }
  }

  /**
   * Announces what is still shared, registering each file's relay token when relaying; with
   * `dropWithdrawn`, drops and reports each file refused as WITHDRAWN (else throws it).
   */
  async #announceAll(client: ShareClient, options: { dropWithdrawn: boolean }): Promise<void> {
    const relaying = this.#relayTokens.size > 0;
    if (relaying || this.#options.onCodeMail !== undefined) {
      if (
        client.listenForPushes === undefined ||
        (relaying && client.registerRelayToken === undefined)
      ) {
        throw new SfsError("INTERNAL", "This index client cannot read pushes");
      }
      // Before the first token is registered: from then on a push may come at any time (§13.4).
      client.listenForPushes((push) => this.#onPush(push));
    }
    for (const signed of [...this.#announcements]) {
      try {
        await client.announce(signed);
        const fileId = this.#fileIds.get(signed);
        if (relaying && fileId !== undefined) {
          await client.registerRelayToken!(fileId, this.#relayTokens.get(toHex(fileId))!);
        }
      } catch (err) {
        if (!options.dropWithdrawn || !(err instanceof SfsError && err.code === "WITHDRAWN")) {
          throw err;
        }
        this.#announcements = this.#announcements.filter((a) => a !== signed);
        this.#options.onWithdrawn?.(signed);
      }
    }
  }

  /**
   * True (and relaying is off from now on) when `err` is a server's refusal of RELAY_TOKEN as a
   * request it does not know: a server older than the relay. Its tickets then carry no token.
   */
  #relayRefused(err: unknown): boolean {
    if (this.#relayTokens.size === 0 || !isSfsError(err, "UNEXPECTED_MESSAGE")) return false;
    this.#relayTokens.clear();
    this.#options.relay?.onRelayError?.(
      new SfsError("RELAY_OFF", "The index server does not relay", { cause: err }),
    );
    return true;
  }

  #onPush(push: Push): void {
    if (push.type === MessageType.RELAY_DIAL) this.#dialRelay(push);
    else this.#options.onCodeMail?.(push);
  }

  /** Answers RELAY_DIAL (§13.5, sharing_relay.ts); a push for a file no longer shared is ignored. */
  async #dialRelay(push: RelayDial): Promise<void> {
    const relay = this.#options.relay;
    const id = toHex(push.fileId);
    const shared = this.#announcements.some((a) =>
      toHex(this.#fileIds.get(a) ?? new Uint8Array()) === id
    );
    if (relay === undefined || this.#relayTokens.size === 0 || this.#closed || !shared) return;
    await this.#relayLegs.open(relay, push);
  }

  #nextBackoff(): number {
    const wait = this.#backoff;
    this.#backoff = Math.min(this.#backoff * 2, RECONNECT_MAX_MS);
    return wait;
  }
}
