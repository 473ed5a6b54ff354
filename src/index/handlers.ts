/**
 * Request handlers of the index server (docs/PROTOCOL.md §12): one request in, one reply out, with
 * every check the protocol asks for. The accept loop (server.ts) owns sockets and channels; this
 * module owns the rules, so it can be tested without either.
 *
 * Store calls are synchronous and short; the slow parts (scrypt, signature checks) are awaited,
 * so one connection's work never holds up the others for long.
 */
import { SfsError } from "../errors.ts";
import { type Bytes, toHex } from "../crypto/bytes.ts";
import { formatFingerprint, type PublicIdentity } from "../crypto/identity.ts";
import {
  type Announce,
  type Auth,
  isFileIdQuery,
  type Listings,
  type Login,
  MAX_ANNOUNCEMENT_BYTES,
  MAX_IDENTITY_BYTES,
  MAX_LISTINGS,
  type Message,
  MessageType,
  type Register,
  type Resolve,
  type UserKeys,
  type UserKeysReply,
  type WireListing,
} from "../wire/messages.ts";
import { decodeSignatureSet, encodeSignatureSet, verifyAnnouncement } from "./announcement.ts";
import { GroupCommit } from "./group_commit.ts";
import { hashPassword, needsRehash, type PasswordHashOptions, verifyPassword } from "./password.ts";
import { verifyProof } from "./proof.ts";
import { type IndexStore, type ListingRecord, type User, validateUsername } from "./store.ts";

/** Failed logins allowed per user and per client address within the window. */
export const DEFAULT_MAX_FAILURES = 5;
/** Window of the failed-login rate limit. */
export const DEFAULT_FAILURE_WINDOW_MS = 5 * 60 * 1000;
/** Shortest password a new account may have, in characters. */
export const MIN_PASSWORD_CHARS = 8;
/** How far in the future an announcement's creation time may lie (clock skew). */
export const MAX_CLOCK_SKEW_MS = 24 * 60 * 60 * 1000;

/** The one answer to a failed login, whatever failed: nothing tells which names exist. */
const LOGIN_FAILED = "Wrong username or password";
const AUTH_FAILED_TEXT = "Authentication failed: unknown user, or not the registered key";

/** A server log entry; printed by the CLI, never by this module. */
export type LogFields = Record<string, string | number | boolean | undefined>;

/** Options of {@link IndexHandlers}. */
export interface HandlerOptions {
  /** Clock in ms since the epoch. @default {Date.now} */
  now?: () => number;
  /** scrypt cost for new password hashes. @default {password.ts defaults} */
  passwordHash?: PasswordHashOptions;
  /** Failed logins allowed per user and per address within the window. @default 5 */
  maxFailures?: number;
  /** Rate-limit window. @default 300000 */
  failureWindowMs?: number;
  /** Receives log entries (`register`, `login_failed`, `announce`, …). */
  log?: (event: string, fields: LogFields) => void;
}

/** What the server knows about one connection. */
export interface ConnectionState {
  /** The channel's peer: its identity is what REGISTER registers and AUTH must match. */
  readonly peer: PublicIdentity;
  /** The channel's transcript hash, the challenge proofs answer. */
  readonly transcriptHash: Bytes;
  /** The client's address, `HOST:PORT`, recorded with its sharing session. */
  readonly address: string;
  /** The client's host alone, the key of the per-address rate limit. */
  readonly host: string;
  /** The authenticated user's id, once REGISTER, LOGIN or AUTH succeeded for this identity. */
  userId?: number;
  /** The sharing session, created by the first ANNOUNCE. */
  sessionId?: string;
}

/** The index's request handlers over one store. */
export class IndexHandlers {
  readonly #store: IndexStore;
  readonly #now: () => number;
  readonly #hashOptions: PasswordHashOptions;
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #log: (event: string, fields: LogFields) => void;
  readonly #commits: GroupCommit;
  #dummyHash: Promise<string> | undefined;

  constructor(store: IndexStore, options: HandlerOptions = {}) {
    this.#store = store;
    this.#now = options.now ?? Date.now;
    this.#hashOptions = options.passwordHash ?? {};
    this.#maxFailures = options.maxFailures ?? DEFAULT_MAX_FAILURES;
    this.#windowMs = options.failureWindowMs ?? DEFAULT_FAILURE_WINDOW_MS;
    this.#log = options.log ?? (() => {});
    this.#commits = new GroupCommit(store);
  }

  /**
   * Answers one request. Throws SfsError for a refused request: the caller reports it with an
   * ERROR and keeps the connection, except for UNEXPECTED_MESSAGE, which ends it.
   */
  async handle(state: ConnectionState, request: Message): Promise<Message> {
    switch (request.type) {
      case MessageType.REGISTER:
        return await this.#register(state, request);
      case MessageType.LOGIN:
        return await this.#login(state, request);
      case MessageType.AUTH:
        return await this.#auth(state, request);
      case MessageType.USER_KEYS:
        return this.#userKeys(request);
      case MessageType.ANNOUNCE:
        return await this.#announce(state, request);
      case MessageType.HEARTBEAT:
        this.#requireUser(state);
        if (state.sessionId !== undefined) this.#store.heartbeat(state.sessionId);
        return { type: MessageType.OK };
      case MessageType.UNSHARE: {
        const user = this.#requireUser(state);
        const id = toHex(request.fileId);
        if (!this.#store.unshare(user.id, id)) {
          throw new SfsError("NOT_FOUND", `You share no file with id ${id}`);
        }
        this.#log("unshare", { user: user.username, id });
        return { type: MessageType.OK };
      }
      case MessageType.SEARCH:
        return this.#listings(this.#store.searchRecords(request.query, {
          viewer: state.userId,
          limit: request.limit,
          offset: request.offset,
        }));
      case MessageType.LIST:
        return this.#listings(this.#store.listRecords({
          viewer: state.userId,
          mine: request.mine,
          limit: request.limit,
          offset: request.offset,
        }));
      case MessageType.RESOLVE:
        return this.#resolve(state, request);
      default:
        throw new SfsError("UNEXPECTED_MESSAGE", `Message ${request.type} is not a request`);
    }
  }

  /** Marks the connection's sharing session offline; its files stay listed as offline. */
  closed(state: ConnectionState): void {
    if (state.sessionId === undefined) return;
    this.#store.setOffline(state.sessionId);
    this.#log("offline", { session: state.sessionId });
  }

  async #register(state: ConnectionState, request: Register): Promise<Message> {
    this.#requireAnonymous(state);
    validateUsername(request.username);
    if ([...request.password].length < MIN_PASSWORD_CHARS) {
      throw new SfsError("USAGE", `Passwords must have at least ${MIN_PASSWORD_CHARS} characters`);
    }
    // Proof first: it is cheap, and a client that cannot sign has no business costing a hash.
    await verifyProof(state.peer, state.transcriptHash, request.username, request.proof, "both");
    const passwordHash = await hashPassword(request.password, this.#hashOptions);
    const userId = this.#store.createUser({
      username: request.username,
      passwordHash,
      identity: state.peer.encoded,
      fingerprint: formatFingerprint(state.peer.fingerprint),
    });
    state.userId = userId;
    this.#log("register", {
      user: request.username,
      fingerprint: formatFingerprint(state.peer.fingerprint),
      address: state.address,
    });
    return { type: MessageType.OK };
  }

  async #login(state: ConnectionState, request: Login): Promise<Message> {
    this.#requireAnonymous(state);
    const key = validateUsername(request.username);
    await verifyProof(state.peer, state.transcriptHash, request.username, request.proof, "both");
    const limitKeys = [`user:${key}`, `addr:${state.host}`];
    this.#checkRateLimit(limitKeys, request.username, state);
    const user = this.#store.getUser(key);
    // Unknown users cost one hash too, against a dummy, so timing does not reveal who exists.
    const ok = await verifyPassword(request.password, user?.passwordHash ?? await this.#dummy());
    if (user === undefined || !ok) {
      for (const limitKey of limitKeys) this.#store.recordFailedLogin(limitKey);
      this.#log("login_failed", { user: request.username, address: state.address });
      throw new SfsError("AUTH_FAILED", LOGIN_FAILED);
    }
    // Only the user's count is cleared: a login to one's own account must not reset what an
    // address has spent guessing other people's passwords.
    this.#store.clearFailedLogins(limitKeys[0]);
    if (needsRehash(user.passwordHash, this.#hashOptions)) {
      this.#store.updatePasswordHash(
        user.id,
        await hashPassword(request.password, this.#hashOptions),
      );
    }
    const fingerprint = formatFingerprint(state.peer.fingerprint);
    let rotated = false;
    if (request.rotateKeys && user.fingerprint !== fingerprint) {
      this.#store.updateUserKeys(user.id, state.peer.encoded, fingerprint);
      // Announcements signed by the old keys could no longer be verified by anyone.
      const withdrawn = this.#store.unshareAll(user.id);
      this.#log("rotate_keys", { user: user.username, fingerprint, withdrawn });
      rotated = true;
    }
    if (rotated || user.fingerprint === fingerprint) state.userId = user.id;
    this.#log("login", { user: user.username, address: state.address, rotated });
    return { type: MessageType.OK };
  }

  async #auth(state: ConnectionState, request: Auth): Promise<Message> {
    this.#requireAnonymous(state);
    const addressKey = `addr:${state.host}`;
    this.#checkRateLimit([addressKey], request.username, state);
    const user = this.#store.getUser(request.username);
    const fail = (): never => {
      this.#store.recordFailedLogin(addressKey);
      this.#log("auth_failed", { user: request.username, address: state.address });
      throw new SfsError("AUTH_FAILED", AUTH_FAILED_TEXT);
    };
    if (user === undefined || user.fingerprint !== formatFingerprint(state.peer.fingerprint)) {
      return fail();
    }
    try {
      // Ed25519 is required for daily use; an RSA-PSS signature, if sent, must verify too.
      await verifyProof(
        state.peer,
        state.transcriptHash,
        request.username,
        request.proof,
        "ed25519",
      );
    } catch {
      return fail();
    }
    state.userId = user.id;
    this.#log("auth", { user: user.username, address: state.address });
    return { type: MessageType.OK };
  }

  #userKeys(request: UserKeys): UserKeysReply {
    const users = [];
    for (const name of request.usernames) {
      const user = this.#store.getUser(name);
      if (user !== undefined) {
        users.push({ username: user.username, identity: new Uint8Array(user.identity) });
      }
    }
    return { type: MessageType.USER_KEYS_REPLY, users };
  }

  async #announce(state: ConnectionState, request: Announce): Promise<Message> {
    const user = this.#requireUser(state);
    // The channel's peer is the registered identity (checked by #requireUser), so its keys are
    // the ones the announcement must verify against.
    const a = await verifyAnnouncement(request.announcement, request.signatures, state.peer);
    if (a.owner !== validateUsername(user.username)) {
      throw new SfsError("REFUSED", `The announcement names owner "${a.owner}", not you`);
    }
    if (a.createdAt > this.#now() + MAX_CLOCK_SKEW_MS) {
      throw new SfsError("BAD_MESSAGE", "The announcement's creation time is in the future");
    }
    if (state.sessionId === undefined) {
      const sessionId = crypto.randomUUID();
      this.#store.setOnline(user.id, sessionId, state.address);
      state.sessionId = sessionId;
    }
    const id = toHex(a.fileId);
    // Stored together with the announcements of other connections that arrive meanwhile, in one
    // transaction; the reply waits until it is committed. The fingerprint is re-checked in that
    // transaction, so a key rotation during the signature check cannot slip this one in.
    await this.#commits.add({
      id,
      ownerId: user.id,
      sessionId: state.sessionId,
      name: a.name,
      size: a.size,
      sha256: toHex(a.sha256),
      keywords: a.keywords,
      recipients: a.recipients,
      address: a.address,
      createdAt: a.createdAt,
      announcement: request.announcement,
      signature: encodeSignatureSet(request.signatures),
      ownerFingerprint: user.fingerprint,
    });
    this.#log("announce", { user: user.username, id, name: a.name, address: a.address });
    return { type: MessageType.OK };
  }

  #resolve(state: ConnectionState, request: Resolve): Listings {
    const query = request.query.trim();
    if (isFileIdQuery(query)) {
      // An id names one file or none: no fallback to names, where anyone can pick one that
      // spells the id of a file hidden from this user or withdrawn.
      const found = this.#store.getRecord(query.toLowerCase(), state.userId);
      return this.#listings(found === undefined ? [] : [found]);
    }
    return this.#listings(this.#store.findRecordsByName(query, state.userId));
  }

  #listings(rows: ListingRecord[]): Listings {
    const listings: WireListing[] = [];
    for (const row of rows.slice(0, MAX_LISTINGS)) {
      let signatures;
      try {
        signatures = decodeSignatureSet(row.signature);
      } catch {
        signatures = undefined;
      }
      // Only a damaged database holds rows like these; one would make the whole reply
      // undecodable for the client, so it is left out instead.
      if (
        signatures === undefined || row.announcement.length > MAX_ANNOUNCEMENT_BYTES ||
        row.ownerIdentity.length > MAX_IDENTITY_BYTES
      ) {
        this.#log("bad_row", { id: row.id });
        continue;
      }
      // No copies: the rows are fresh from the store and the encoder only reads them.
      listings.push({
        announcement: row.announcement,
        signatures,
        ownerIdentity: row.ownerIdentity,
        online: row.online,
        lastSeen: row.lastSeen,
      });
    }
    return { type: MessageType.LISTINGS, listings };
  }

  /** The authenticated user, re-read so a key change made meanwhile takes effect at once. */
  #requireUser(state: ConnectionState): User {
    const user = state.userId === undefined ? undefined : this.#store.getUserById(state.userId);
    if (user === undefined || user.fingerprint !== formatFingerprint(state.peer.fingerprint)) {
      throw new SfsError("AUTH_FAILED", "Authenticate first (AUTH, LOGIN or REGISTER)");
    }
    return user;
  }

  #requireAnonymous(state: ConnectionState): void {
    if (state.userId !== undefined) {
      throw new SfsError("UNEXPECTED_MESSAGE", "This connection is already authenticated");
    }
  }

  #checkRateLimit(keys: string[], username: string, state: ConnectionState): void {
    const since = this.#now() - this.#windowMs;
    if (keys.some((key) => this.#store.failedLoginsSince(key, since) >= this.#maxFailures)) {
      this.#log("rate_limited", { user: username, address: state.address });
      throw new SfsError(
        "RATE_LIMITED",
        `Too many failed attempts; try again in ${Math.ceil(this.#windowMs / 60_000)} minutes`,
      );
    }
  }

  /** A hash of a random password with the current cost, made once, for unknown users. */
  #dummy(): Promise<string> {
    this.#dummyHash ??= hashPassword(crypto.randomUUID(), this.#hashOptions);
    return this.#dummyHash;
  }
}
