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
 */
import { codeInfo, SfsError } from "../../errors.ts";
import type { Bytes } from "../../crypto/bytes.ts";
import type { SignedAnnouncement } from "../protocol/announcement.ts";
import { HEARTBEAT_INTERVAL_MS } from "../protocol/limits.ts";
import type { IndexClient } from "./client.ts";

const RECONNECT_MIN_MS = 1_000;
const RECONNECT_MAX_MS = 30_000;

/** The part of {@link IndexClient} a session uses. */
export type ShareClient = Pick<
  IndexClient,
  "announce" | "heartbeat" | "unshare" | "close" | "closed"
>;

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
}

/** A live announcement of some files, kept online until closed. */
export class ShareSession {
  readonly #options: ShareSessionOptions;
  /** What is still announced: the files, less those found withdrawn. */
  #announcements: SignedAnnouncement[];
  #client: ShareClient | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #backoff: number;

  private constructor(options: ShareSessionOptions, client: ShareClient | undefined) {
    this.#options = options;
    this.#announcements = [...options.announcements];
    this.#client = client;
    this.#backoff = options.reconnectMs ?? RECONNECT_MIN_MS;
    this.#schedule(client ? options.heartbeatMs ?? HEARTBEAT_INTERVAL_MS : this.#nextBackoff());
  }

  /**
   * A session whose first connection failed: it keeps trying with the same bounded backoff as
   * after a lost connection, and reports "online" once the files are announced.
   */
  static startOffline(options: ShareSessionOptions): ShareSession {
    return new ShareSession(options, undefined);
  }

  /** Connects and announces everything; errors of this first attempt are thrown. */
  static async start(options: ShareSessionOptions): Promise<ShareSession> {
    const client = await options.connect();
    try {
      for (const signed of options.announcements) await client.announce(signed);
    } catch (err) {
      client.close();
      throw err;
    }
    return new ShareSession(options, client);
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
        await this.#announceAll(client);
        this.#client = client;
        this.#backoff = this.#options.reconnectMs ?? RECONNECT_MIN_MS;
        this.#options.onStatus?.("online");
      } else {
        await this.#client.heartbeat().catch(async (err) => {
          // Some file was unshared meanwhile: announcing again tells which.
          if (!(err instanceof SfsError && err.code === "WITHDRAWN")) throw err;
          await this.#announceAll(this.#client!);
        });
      }
      this.#schedule(heartbeatMs);
    } catch (err) {
      if (this.#closed) return;
      const e = err instanceof SfsError ? err : new SfsError("INTERNAL", String(err));
      const wasOnline = this.#client !== undefined;
      this.#client?.close();
      this.#client = undefined;
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

  /** Announces what is still shared; drops and reports each file refused as WITHDRAWN. */
  async #announceAll(client: ShareClient): Promise<void> {
    for (const signed of [...this.#announcements]) {
      try {
        await client.announce(signed);
      } catch (err) {
        if (!(err instanceof SfsError && err.code === "WITHDRAWN")) throw err;
        this.#announcements = this.#announcements.filter((a) => a !== signed);
        this.#options.onWithdrawn?.(signed);
      }
    }
  }

  #nextBackoff(): number {
    const wait = this.#backoff;
    this.#backoff = Math.min(this.#backoff * 2, RECONNECT_MAX_MS);
    return wait;
  }
}
