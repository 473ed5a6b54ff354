/**
 * Account requests of the index server (docs/PROTOCOL.md §12): REGISTER, LOGIN, AUTH and
 * USER_KEYS. Every failed login gets the same answer, so nothing tells which names exist.
 */
import { SfsError } from "../../errors.ts";
import { formatFingerprint } from "../../crypto/identity.ts";
import { type Message, MessageType } from "../../wire/messages.ts";
import {
  type Auth,
  type Login,
  type Register,
  type UserKeys,
  type UserKeysReply,
} from "../../wire/index_messages.ts";
import { hashPassword, needsRehash, verifyPassword } from "./password.ts";
import { verifyProof } from "../protocol/proof.ts";
import { MIN_PASSWORD_CHARS } from "../protocol/limits.ts";
import { validateUsername } from "../protocol/usernames.ts";
import type { User } from "./store.ts";
import { MAX_AUTH_FAILURES_PER_CONNECTION } from "./throttle.ts";
import {
  type ConnectionState,
  type HandlerContext,
  requireAnonymous,
  throttled,
} from "./handlers_context.ts";

/** The one answer to a failed login, whatever failed: nothing tells which names exist. */
const LOGIN_FAILED = "Wrong username or password";
const AUTH_FAILED_TEXT = "Authentication failed: unknown user, or not the registered key";

/** REGISTER: creates the account for the channel's identity and authenticates the connection. */
export async function register(
  ctx: HandlerContext,
  state: ConnectionState,
  request: Register,
): Promise<Message> {
  requireAnonymous(state);
  const key = validateUsername(request.username);
  if ([...request.password].length < MIN_PASSWORD_CHARS) {
    throw new SfsError("USAGE", `Passwords must have at least ${MIN_PASSWORD_CHARS} characters`);
  }
  // Proof first: it is cheap, and a client that cannot sign has no business costing a hash.
  await verifyProof(state.peer, state.transcriptHash, request.username, request.proof, "both");
  await throttled(ctx, state, key, () => ctx.throttle.registration(state.host));
  const passwordHash = await hashPassword(request.password, ctx.hashOptions);
  const userId = await ctx.store.createUser({
    username: request.username,
    passwordHash,
    identity: state.peer.encoded,
    fingerprint: formatFingerprint(state.peer.fingerprint),
  });
  state.userId = userId;
  ctx.log("register", {
    user: request.username,
    fingerprint: formatFingerprint(state.peer.fingerprint),
    address: state.address,
  });
  return { type: MessageType.OK };
}

/** LOGIN: checks the password, and with `rotateKeys` registers the channel's identity. */
export async function login(
  ctx: HandlerContext,
  state: ConnectionState,
  request: Login,
): Promise<Message> {
  requireAnonymous(state);
  const key = validateUsername(request.username);
  await verifyProof(state.peer, state.transcriptHash, request.username, request.proof, "both");
  await throttled(ctx, state, key, () => ctx.throttle.beforeLogin(key, state.host));
  const user = await ctx.store.getUser(key);
  // Unknown users cost one hash too, against a dummy, so timing does not reveal who exists.
  const ok = await verifyPassword(request.password, user?.passwordHash ?? await ctx.dummyHash());
  if (user === undefined || !ok) {
    await ctx.throttle.loginFailed(key, state.host);
    ctx.log("login_failed", { user: key, address: state.address });
    throw new SfsError("AUTH_FAILED", LOGIN_FAILED);
  }
  await ctx.throttle.loginSucceeded(key, state.host);
  if (needsRehash(user.passwordHash, ctx.hashOptions)) {
    await ctx.store.updatePasswordHash(
      user.id,
      await hashPassword(request.password, ctx.hashOptions),
    );
  }
  const fingerprint = formatFingerprint(state.peer.fingerprint);
  const rotated = request.rotateKeys && user.fingerprint !== fingerprint;
  if (rotated) await rotateKeys(ctx, state, user, fingerprint);
  if (rotated || user.fingerprint === fingerprint) state.userId = user.id;
  ctx.log("login", { user: user.username, address: state.address, rotated });
  return { type: MessageType.OK };
}

/** Registers the channel's identity as the user's new keys, withdrawing what the old ones signed. */
async function rotateKeys(
  ctx: HandlerContext,
  state: ConnectionState,
  user: User,
  fingerprint: string,
): Promise<void> {
  await ctx.store.updateUserKeys(user.id, state.peer.encoded, fingerprint);
  // Announcements signed by the old keys could no longer be verified by anyone.
  const withdrawn = await ctx.store.unshareAll(user.id);
  ctx.log("rotate_keys", { user: user.username, fingerprint, withdrawn });
}

/** AUTH: a signature proof by the registered identity, the daily way in. */
export async function auth(
  ctx: HandlerContext,
  state: ConnectionState,
  request: Auth,
): Promise<Message> {
  requireAnonymous(state);
  // Validated before anything else, so only a well-formed name can reach the log.
  const key = validateUsername(request.username);
  // No per-address limit: a signature proof cannot be guessed, so a failure costs the client
  // its own round trip and nobody else anything. A connection gets a few tries, then ends.
  const fail = (): never => {
    state.authFailures = (state.authFailures ?? 0) + 1;
    if (state.authFailures >= MAX_AUTH_FAILURES_PER_CONNECTION) state.closeAfterReply = true;
    ctx.log("auth_failed", { user: key, address: state.address });
    throw new SfsError("AUTH_FAILED", AUTH_FAILED_TEXT);
  };
  const user = await ctx.store.getUser(key);
  if (user === undefined || user.fingerprint !== formatFingerprint(state.peer.fingerprint)) {
    return fail();
  }
  try {
    // Ed25519 is required for daily use; an RSA-PSS signature, if sent, must verify too.
    await verifyProof(state.peer, state.transcriptHash, request.username, request.proof, "ed25519");
  } catch {
    return fail();
  }
  state.userId = user.id;
  ctx.log("auth", { user: user.username, address: state.address });
  return { type: MessageType.OK };
}

/** USER_KEYS: the registered identities of the named users; unknown names are left out. */
export async function userKeys(
  ctx: HandlerContext,
  request: UserKeys,
): Promise<UserKeysReply> {
  const users = [];
  for (const name of request.usernames) {
    const user = await ctx.store.getUser(name);
    if (user !== undefined) {
      users.push({ username: user.username, identity: new Uint8Array(user.identity) });
    }
  }
  return { type: MessageType.USER_KEYS_REPLY, users };
}
