/**
 * Request handlers of the index server (docs/PROTOCOL.md §12): one request in, one reply out, with
 * every check the protocol asks for. The accept loop (server.ts) owns sockets and channels; this
 * module owns the rules, so it can be tested without either.
 *
 * Store calls, scrypt and signature checks are awaited, so one connection's work never holds up
 * the others for long.
 */
import { SfsError } from "../../errors.ts";
import { type Bytes, toHex } from "../../crypto/bytes.ts";
import { formatFingerprint, type PublicIdentity } from "../../crypto/identity.ts";
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
} from "../../wire/messages.ts";
import {
  decodeSignatureSet,
  encodeSignatureSet,
  verifyAnnouncement,
} from "../protocol/announcement.ts";
import { GroupCommit } from "./group_commit.ts";
import { hashPassword, needsRehash, type PasswordHashOptions, verifyPassword } from "./password.ts";
import { verifyProof } from "../protocol/proof.ts";
import { MAX_CLOCK_SKEW_MS, MIN_PASSWORD_CHARS } from "../protocol/limits.ts";
import { validateUsername } from "../protocol/usernames.ts";
import type { IndexStore, ListingRecord, User } from "./store.ts";
import { MAX_AUTH_FAILURES_PER_CONNECTION, Throttle } from "./throttle.ts";

/**
 * Listings one account may have stored at once by default: far more than a person shares at a
 * time, and it bounds one account's share of the disk to about 6 MB (rows of at most ~6 KiB).
 */
export const DEFAULT_MAX_LISTINGS_PER_USER = 1000;

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
  /** Wrong passwords allowed per (username, address) within the window. @default 5 */
  maxFailures?: number;
  /** Window of the failed-login counts. @default 300000 */
  failureWindowMs?: number;
  /** Registrations allowed per address (IPv6: per /64) an hour. @default 10 */
  maxRegistrationsPerAddress?: number;
  /** Listings one account may have stored at once. @default 1000 */
  maxListingsPerUser?: number;
  /** Waits `ms` (the login delay of throttle.ts); tests inject their own. @default {setTimeout} */
  sleep?: (ms: number) => Promise<void>;
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
  /** The client's host alone, the key of the per-address rate limits. */
  readonly host: string;
  /** Failed AUTHs on this connection; at the limit the server closes it. */
  authFailures?: number;
  /** Set by a handler when the connection must end once its reply is sent. */
  closeAfterReply?: boolean;
  /** The authenticated user's id, once REGISTER, LOGIN or AUTH succeeded for this identity. */
  userId?: number;
  /** The sharing session, created by the first ANNOUNCE. */
  sessionId?: string;
  /** File ids this connection announced, with their signed creation times. */
  announced?: Map<string, number>;
  /** Server time up to which withdrawals of `announced` files have been reported. */
  withdrawalsCheckedAt?: number;
}

/** The index's request handlers over one store. */
export class IndexHandlers {
  readonly #store: IndexStore;
  readonly #now: () => number;
  readonly #hashOptions: PasswordHashOptions;
  readonly #throttle: Throttle;
  readonly #maxListings: number;
  readonly #log: (event: string, fields: LogFields) => void;
  readonly #commits: GroupCommit;
  #dummyHash: Promise<string> | undefined;

  constructor(store: IndexStore, options: HandlerOptions = {}) {
    this.#store = store;
    this.#now = options.now ?? Date.now;
    this.#hashOptions = options.passwordHash ?? {};
    this.#throttle = new Throttle(store, {
      now: this.#now,
      sleep: options.sleep,
      maxFailures: options.maxFailures,
      failureWindowMs: options.failureWindowMs,
      maxRegistrations: options.maxRegistrationsPerAddress,
    });
    this.#maxListings = options.maxListingsPerUser ?? DEFAULT_MAX_LISTINGS_PER_USER;
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
        return await this.#userKeys(request);
      case MessageType.ANNOUNCE:
        return await this.#announce(state, request);
      case MessageType.HEARTBEAT: {
        const user = await this.#requireUser(state);
        if (state.sessionId !== undefined) await this.#store.heartbeat(state.sessionId);
        await this.#reportWithdrawals(state, user);
        return { type: MessageType.OK };
      }
      case MessageType.UNSHARE: {
        const user = await this.#requireUser(state);
        const id = toHex(request.fileId);
        if (!await this.#store.unshare(user.id, id)) {
          throw new SfsError("NOT_FOUND", `You share no file with id ${id}`);
        }
        this.#log("unshare", { user: user.username, id });
        return { type: MessageType.OK };
      }
      case MessageType.SEARCH:
        return this.#listings(
          await this.#store.search(request.query, {
            viewer: state.userId,
            limit: request.limit,
            offset: request.offset,
          }),
        );
      case MessageType.LIST:
        return this.#listings(
          await this.#store.list({
            viewer: state.userId,
            mine: request.mine,
            limit: request.limit,
            offset: request.offset,
          }),
        );
      case MessageType.RESOLVE:
        return await this.#resolve(state, request);
      default:
        throw new SfsError("UNEXPECTED_MESSAGE", `Message ${request.type} is not a request`);
    }
  }

  /** Marks the connection's sharing session offline; its files stay listed as offline. */
  async closed(state: ConnectionState): Promise<void> {
    if (state.sessionId === undefined) return;
    await this.#store.setOffline(state.sessionId);
    this.#log("offline", { session: state.sessionId });
  }

  async #register(state: ConnectionState, request: Register): Promise<Message> {
    this.#requireAnonymous(state);
    const key = validateUsername(request.username);
    if ([...request.password].length < MIN_PASSWORD_CHARS) {
      throw new SfsError("USAGE", `Passwords must have at least ${MIN_PASSWORD_CHARS} characters`);
    }
    // Proof first: it is cheap, and a client that cannot sign has no business costing a hash.
    await verifyProof(state.peer, state.transcriptHash, request.username, request.proof, "both");
    await this.#throttled(state, key, () => this.#throttle.registration(state.host));
    const passwordHash = await hashPassword(request.password, this.#hashOptions);
    const userId = await this.#store.createUser({
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
    await this.#throttled(state, key, () => this.#throttle.beforeLogin(key, state.host));
    const user = await this.#store.getUser(key);
    // Unknown users cost one hash too, against a dummy, so timing does not reveal who exists.
    const ok = await verifyPassword(request.password, user?.passwordHash ?? await this.#dummy());
    if (user === undefined || !ok) {
      await this.#throttle.loginFailed(key, state.host);
      this.#log("login_failed", { user: key, address: state.address });
      throw new SfsError("AUTH_FAILED", LOGIN_FAILED);
    }
    await this.#throttle.loginSucceeded(key, state.host);
    if (needsRehash(user.passwordHash, this.#hashOptions)) {
      await this.#store.updatePasswordHash(
        user.id,
        await hashPassword(request.password, this.#hashOptions),
      );
    }
    const fingerprint = formatFingerprint(state.peer.fingerprint);
    let rotated = false;
    if (request.rotateKeys && user.fingerprint !== fingerprint) {
      await this.#store.updateUserKeys(user.id, state.peer.encoded, fingerprint);
      // Announcements signed by the old keys could no longer be verified by anyone.
      const withdrawn = await this.#store.unshareAll(user.id);
      this.#log("rotate_keys", { user: user.username, fingerprint, withdrawn });
      rotated = true;
    }
    if (rotated || user.fingerprint === fingerprint) state.userId = user.id;
    this.#log("login", { user: user.username, address: state.address, rotated });
    return { type: MessageType.OK };
  }

  async #auth(state: ConnectionState, request: Auth): Promise<Message> {
    this.#requireAnonymous(state);
    // Validated before anything else, so only a well-formed name can reach the log.
    const key = validateUsername(request.username);
    // No per-address limit: a signature proof cannot be guessed, so a failure costs the client
    // its own round trip and nobody else anything. A connection gets a few tries, then ends.
    const fail = (): never => {
      state.authFailures = (state.authFailures ?? 0) + 1;
      if (state.authFailures >= MAX_AUTH_FAILURES_PER_CONNECTION) state.closeAfterReply = true;
      this.#log("auth_failed", { user: key, address: state.address });
      throw new SfsError("AUTH_FAILED", AUTH_FAILED_TEXT);
    };
    const user = await this.#store.getUser(key);
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

  async #userKeys(request: UserKeys): Promise<UserKeysReply> {
    const users = [];
    for (const name of request.usernames) {
      const user = await this.#store.getUser(name);
      if (user !== undefined) {
        users.push({ username: user.username, identity: new Uint8Array(user.identity) });
      }
    }
    return { type: MessageType.USER_KEYS_REPLY, users };
  }

  async #announce(state: ConnectionState, request: Announce): Promise<Message> {
    const user = await this.#requireUser(state);
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
      await this.#store.setOnline(user.id, sessionId, state.address);
      state.sessionId = sessionId;
    }
    const id = toHex(a.fileId);
    // Before the write: a withdrawal committed while it waits is then still reported.
    state.withdrawalsCheckedAt ??= this.#now();
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
      maxOwnerListings: this.#maxListings,
    });
    state.announced ??= new Map();
    state.announced.set(id, a.createdAt);
    this.#log("announce", { user: user.username, id, name: a.name, address: a.address });
    return { type: MessageType.OK };
  }

  /**
   * Tells a sharing connection, in the reply to its HEARTBEAT, that files it announced were
   * unshared meanwhile (by `sfs unshare` elsewhere): the reply is ERROR WITHDRAWN, and the
   * client re-announces to learn which (each withdrawn one is refused with WITHDRAWN).
   */
  async #reportWithdrawals(state: ConnectionState, user: User): Promise<void> {
    const announced = state.announced;
    if (announced === undefined || state.withdrawalsCheckedAt === undefined) return;
    const since = state.withdrawalsCheckedAt;
    state.withdrawalsCheckedAt = this.#now();
    let withdrawn = 0;
    for (const w of await this.#store.withdrawalsSince(user.id, since)) {
      const createdAt = announced.get(w.id);
      if (createdAt !== undefined && createdAt <= w.createdAt) {
        announced.delete(w.id);
        withdrawn++;
      }
    }
    if (withdrawn > 0) {
      throw new SfsError("WITHDRAWN", `${withdrawn} of your shared files were unshared`, {
        hint: "Announce again to learn which",
      });
    }
  }

  async #resolve(state: ConnectionState, request: Resolve): Promise<Listings> {
    const query = request.query.trim();
    if (isFileIdQuery(query)) {
      // An id names one file or none: no fallback to names, where anyone can pick one that
      // spells the id of a file hidden from this user or withdrawn.
      const found = await this.#store.get(query.toLowerCase(), state.userId);
      return this.#listings(found === undefined ? [] : [found]);
    }
    return this.#listings(await this.#store.findByName(query, state.userId));
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
  async #requireUser(state: ConnectionState): Promise<User> {
    const user = state.userId === undefined
      ? undefined
      : await this.#store.getUserById(state.userId);
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

  /** Runs a throttle check, logging a refusal. */
  async #throttled(state: ConnectionState, user: string, check: () => unknown): Promise<void> {
    try {
      await check();
    } catch (err) {
      this.#log("rate_limited", { user, address: state.address });
      throw err;
    }
  }

  /** A hash of a random password with the current cost, made once, for unknown users. */
  #dummy(): Promise<string> {
    this.#dummyHash ??= hashPassword(crypto.randomUUID(), this.#hashOptions);
    return this.#dummyHash;
  }
}
