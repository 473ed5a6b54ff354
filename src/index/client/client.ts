/**
 * The index client (docs/PROTOCOL.md §12): the secure handshake as initiator, then one request at
 * a time. Requests from different callers (a heartbeat timer and an unshare, say) are queued, so
 * replies never get mixed up. A sharing client may also listen for the server's pushes
 * (RELAY_DIAL, §13.4): it then reads all the time and tells pushes from replies by type
 * (push_reader.ts). Listings come back as the server sent them; verify them with `verifyListing`
 * before trusting a byte.
 */
import { codeInfo, SfsError } from "../../errors.ts";
import { type Bytes, toHex } from "../../crypto/bytes.ts";
import { decodePublicIdentity, type Identity, type PublicIdentity } from "../../crypto/identity.ts";
import { type Channel } from "../../wire/channel.ts";
import { initiate } from "../../wire/handshake.ts";
import type { Transport } from "../../wire/frame.ts";
import { type Message, MessageType } from "../../wire/messages.ts";
import { isFileIdQuery, type WireListing } from "../../wire/index_messages.ts";
import { type Push, PushReader } from "./push_reader.ts";
import type { CodeOutcome } from "../../wire/code_messages.ts";
import type { FileAnnouncement, SignedAnnouncement } from "../protocol/announcement.ts";
import { signProof } from "../protocol/proof.ts";
import { DEFAULT_PAGE_SIZE } from "../protocol/limits.ts";
import { validateUsername } from "../protocol/usernames.ts";

/** Options of {@link IndexClient.connect}. */
export interface IndexClientOptions {
  /** Checks the server's identity (pinning); throws to refuse it before anything is sent. */
  verifyServer: (server: PublicIdentity) => void | Promise<void>;
  /** Bound on waiting for a reply. @default 30000 */
  idleTimeoutMs?: number;
}

/** A page of results. */
export interface PageRequest {
  /** Listings per page, 1 to 100. @default 50 */
  limit?: number;
  /** Listings to skip. @default 0 */
  offset?: number;
}

/** A connection to an index server. */
export class IndexClient {
  /** The server's identity, as verified during the handshake. */
  readonly server: PublicIdentity;
  readonly #channel: Channel;
  readonly #identity: Identity;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** While listening for pushes: where replies go (one request at a time). */
  readonly #pushes = new PushReader();
  #listening = false;

  private constructor(channel: Channel, identity: Identity) {
    this.#channel = channel;
    this.#identity = identity;
    this.server = channel.peer;
  }

  /** Runs the handshake over `transport` as `identity`; closes the transport if it fails. */
  static async connect(
    transport: Transport,
    identity: Identity,
    options: IndexClientOptions,
  ): Promise<IndexClient> {
    try {
      const channel = await initiate(transport, identity, {
        verifyResponder: options.verifyServer,
        idleTimeoutMs: options.idleTimeoutMs,
        peerName: "index server",
      });
      return new IndexClient(channel, identity);
    } catch (err) {
      try {
        transport.close();
      } catch {
        // Already closed.
      }
      throw err;
    }
  }

  /** True once closed, by us or because the connection failed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Creates an account for this identity; the connection is then authenticated. */
  async register(username: string, password: string): Promise<void> {
    validateUsername(username);
    const proof = await this.#proof(username, "both");
    await this.#request({ type: MessageType.REGISTER, username, password, proof }, MessageType.OK);
  }

  /**
   * Checks the password; with `rotateKeys` this identity replaces the registered keys. The
   * connection is authenticated when the registered keys are (now) this identity's.
   */
  async login(
    username: string,
    password: string,
    options: { rotateKeys?: boolean } = {},
  ): Promise<void> {
    validateUsername(username);
    const proof = await this.#proof(username, "both");
    await this.#request({
      type: MessageType.LOGIN,
      username,
      password,
      rotateKeys: options.rotateKeys ?? false,
      proof,
    }, MessageType.OK);
  }

  /** Authenticates as `username` with an Ed25519 proof (no password). */
  async auth(username: string): Promise<void> {
    validateUsername(username);
    const proof = await this.#proof(username, "ed25519");
    await this.#request({ type: MessageType.AUTH, username, proof }, MessageType.OK);
  }

  /**
   * The registered identities of `usernames`, keyed by canonical (lower-case) username; unknown
   * users are missing from the map.
   */
  async userKeys(usernames: readonly string[]): Promise<Map<string, PublicIdentity>> {
    const reply = await this.#request(
      { type: MessageType.USER_KEYS, usernames: [...usernames] },
      MessageType.USER_KEYS_REPLY,
    );
    const asked = new Set(usernames.map((name) => validateUsername(name)));
    const keys = new Map<string, PublicIdentity>();
    for (const entry of reply.users) {
      const key = validateUsername(entry.username);
      // Only answers to what was asked: a server cannot slip in keys for other names.
      if (asked.has(key)) keys.set(key, await decodePublicIdentity(entry.identity));
    }
    return keys;
  }

  /** Publishes a signed announcement. */
  async announce(signed: SignedAnnouncement): Promise<void> {
    await this.#request({
      type: MessageType.ANNOUNCE,
      announcement: signed.bytes,
      signatures: signed.signatures,
    }, MessageType.OK);
  }

  /** Tells the server this sharing session is alive. */
  async heartbeat(): Promise<void> {
    await this.#request({ type: MessageType.HEARTBEAT }, MessageType.OK);
  }

  /** Withdraws one of this user's announcements; SfsError NOT_FOUND if there is none. */
  async unshare(fileId: Bytes): Promise<void> {
    await this.#request({ type: MessageType.UNSHARE, fileId }, MessageType.OK);
  }

  /**
   * Registers the relay token of a file this connection announced (§13.2); receivers holding it
   * may then be relayed to this connection's owner.
   */
  async registerRelayToken(fileId: Bytes, token: Bytes): Promise<void> {
    await this.#request({ type: MessageType.RELAY_TOKEN, fileId, token }, MessageType.OK);
  }

  /**
   * Asks to be relayed to whoever shares `fileId` (§13.3); resolves once paired. From then on the
   * transport is a byte pipe to that sender: close this client only through a transport that
   * leaves the connection open (net/lent.ts).
   */
  async relay(fileId: Bytes, token?: Bytes): Promise<void> {
    await this.#request(
      { type: MessageType.RELAY, fileId, token: token ?? new Uint8Array() },
      MessageType.OK,
    );
  }

  /**
   * Reads the connection all the time from now on (§13.4): each RELAY_DIAL push goes to
   * `onPush` as it arrives; any other record answers the request waiting for it. Call it before
   * registering a relay token, after which pushes may come at any time.
   */
  listenForPushes(onPush: (push: Push) => void): void {
    if (this.#listening) return;
    this.#listening = true;
    this.#pushes.run(this.#channel, onPush, this).catch(() => {});
  }

  /**
   * Opens a short code's nameplate on this (sharing, push-reading) connection (§14.5); the
   * receiver's payloads then arrive as CODE_MAIL pushes. `ttlSeconds` 0 takes the server's.
   */
  async openCode(ttlSeconds: number): Promise<{ nameplate: number; expiresAt: number }> {
    const reply = await this.#request(
      { type: MessageType.CODE_OPEN, ttlSeconds },
      MessageType.CODE_OPENED,
    );
    // A duration from the reply, on this machine's clock (the server's may differ).
    return { nameplate: reply.nameplate, expiresAt: Date.now() + reply.ttlSeconds * 1000 };
  }

  /** Sends one payload to the other side of a nameplate (§14.5). */
  async codeMail(nameplate: number, payload: Bytes): Promise<void> {
    await this.#request({ type: MessageType.CODE_MAIL, nameplate, payload }, MessageType.OK);
  }

  /** Ends a nameplate this connection opened; `failed` tells the server the code is burned. */
  async closeCode(nameplate: number, outcome: CodeOutcome): Promise<void> {
    await this.#request({ type: MessageType.CODE_CLOSE, nameplate, outcome }, MessageType.OK);
  }

  /**
   * Claims a nameplate with the first payload and waits for the sender's answer (§14.5): the
   * server holds the request until the sender replies, up to 25 s, then answers TIMEOUT.
   */
  async claimCode(nameplate: number, payload: Bytes): Promise<Bytes> {
    const reply = await this.#request(
      { type: MessageType.CODE_CLAIM, nameplate, payload },
      MessageType.CODE_MAIL,
    );
    if (reply.nameplate !== nameplate) {
      throw new SfsError("UNEXPECTED_MESSAGE", "The index answered a claim for another nameplate");
    }
    return reply.payload;
  }

  /** Full-text search over names and keywords. */
  async search(query: string, page: PageRequest = {}): Promise<WireListing[]> {
    const reply = await this.#request({
      type: MessageType.SEARCH,
      query,
      limit: page.limit ?? DEFAULT_PAGE_SIZE,
      offset: page.offset ?? 0,
    }, MessageType.LISTINGS);
    return reply.listings;
  }

  /** Everything visible, newest first; with `mine`, only this user's own files. */
  async list(options: PageRequest & { mine?: boolean } = {}): Promise<WireListing[]> {
    const reply = await this.#request({
      type: MessageType.LIST,
      mine: options.mine ?? false,
      limit: options.limit ?? DEFAULT_PAGE_SIZE,
      offset: options.offset ?? 0,
    }, MessageType.LISTINGS);
    return reply.listings;
  }

  /** Listings with this file id (32 hex digits) or exactly this name. */
  async resolve(query: string): Promise<WireListing[]> {
    const reply = await this.#request({ type: MessageType.RESOLVE, query }, MessageType.LISTINGS);
    return reply.listings;
  }

  /** Closes the connection; safe to call twice. */
  close(): void {
    this.#closed = true;
    this.#channel.close();
    if (this.#pushes.waiting) {
      this.#pushes.deliver(
        Promise.reject(new SfsError("CONNECTION_CLOSED", "The index connection is closed")),
      );
    }
  }

  #proof(username: string, policy: "both" | "ed25519") {
    return signProof(this.#identity, this.#channel.authHash, username, policy);
  }

  /** Sends one request and waits for its reply, after every request queued before it. */
  #request<T extends MessageType>(
    message: Message,
    replyType: T,
  ): Promise<Extract<Message, { type: T }>> {
    const run = async () => {
      if (this.#closed) {
        throw new SfsError("CONNECTION_CLOSED", "The index connection is closed");
      }
      try {
        // With the push reader on, the reply is claimed before sending (it may come at once);
        // a send that fails gives the claim up, so no later reply goes astray.
        const claimed = this.#listening ? this.#pushes.claim() : undefined;
        claimed?.reply.catch(() => {});
        try {
          await this.#channel.send(message);
        } catch (err) {
          claimed?.cancel();
          throw err;
        }
        const received = await (claimed?.reply ?? this.#channel.receive());
        if (received.type !== replyType) {
          throw new SfsError(
            "UNEXPECTED_MESSAGE",
            `Expected message ${replyType}, got ${received.type}`,
          );
        }
        return received as Extract<Message, { type: T }>;
      } catch (err) {
        // An ERROR reply is the server refusing this request; anything else breaks the channel
        // (a reply could be left in flight), so the connection is done.
        if (!(err instanceof SfsError) || codeInfo(err.code).fatalToConnection) this.close();
        throw err;
      }
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => {});
    return result;
  }
}

/**
 * Throws LISTING_MISMATCH unless every announcement answers the RESOLVE `query`: a file id query
 * needs that exact id, a name query that name (ignoring case, as the server matches). Signatures
 * cannot catch this: an index that substitutes another file's listing hands over one its owner
 * really signed, so the receiver ties the answer to its own question (§12.4).
 */
export function checkResolved(query: string, announcements: readonly FileAnnouncement[]): void {
  const wanted = query.trim();
  const byId = isFileIdQuery(wanted);
  const key = byId ? wanted.toLowerCase() : nameKey(wanted);
  for (const a of announcements) {
    const got = byId ? toHex(a.fileId) : nameKey(a.name);
    if (got !== key) {
      throw new SfsError(
        "LISTING_MISMATCH",
        `Asked the index for ${byId ? "file" : "name"} "${wanted}", got a listing of ` +
          `${toHex(a.fileId)} by "${a.owner}"`,
        { hint: "The index server may be compromised; nothing was downloaded" },
      );
    }
  }
}

/** How names compare in RESOLVE: NFC, lower case (the server's name key). */
function nameKey(name: string): string {
  return name.normalize("NFC").toLowerCase();
}
