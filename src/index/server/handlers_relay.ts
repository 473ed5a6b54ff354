/**
 * The relay's requests (docs/PROTOCOL.md §13): RELAY_TOKEN registers a per-share relay token on
 * a sharing connection; RELAY decides whether this receiver may be relayed to whom, takes a slot
 * in the limits, and pairs it with the sender's leg. The server answers OK and then splices
 * (server.ts); these handlers never touch a socket.
 */
import { SfsError } from "../../errors.ts";
import { type Bytes, toHex } from "../../crypto/bytes.ts";
import { MessageType } from "../../wire/messages.ts";
import type { Ok, Relay, RelayToken } from "../../wire/index_messages.ts";
import { type ConnectionState, type HandlerContext, requireUser } from "./handlers_context.ts";
import type { RelayCandidate } from "./relay_directory.ts";
import { addressKey } from "./throttle.ts";

/**
 * RELAY_TOKEN (§13.2): the token of a file this connection announced, or, from an open code's
 * sender without an account, of the one file each of its codes stands for; OK.
 */
export async function relayToken(
  ctx: HandlerContext,
  state: ConnectionState,
  request: RelayToken,
): Promise<Ok> {
  const id = toHex(request.fileId);
  if (state.userId === undefined && state.openCodes !== undefined) {
    return codeRelayToken(ctx, state, { id, token: request.token, codes: state.openCodes });
  }
  await requireUser(ctx, state);
  if (state.announced?.has(id) !== true || ctx.relay.sharerOf(state) === undefined) {
    throw new SfsError("NOT_FOUND", `This connection does not share file ${id}`);
  }
  await ctx.relay.register(state, id, request.token);
  return { type: MessageType.OK };
}

/**
 * RELAY_TOKEN without an account (§13.2, §14.5): one file per code this connection opened,
 * registered in this server alone; the token of a file already registered is replaced.
 */
function codeRelayToken(
  ctx: HandlerContext,
  state: ConnectionState,
  request: { id: string; token: Bytes; codes: { granted: number; files: Set<string> } },
): Ok {
  const { id, codes } = request;
  if (!codes.files.has(id) && codes.files.size >= codes.granted) {
    throw new SfsError("QUOTA_EXCEEDED", "One relayed file per code opened on this connection");
  }
  codes.files.add(id);
  ctx.relay.registerForCode(state, id, request.token, `address:${addressKey(state.host)}`);
  ctx.log("relay_token", { id, address: state.address });
  return { type: MessageType.OK };
}

/**
 * RELAY (§13.3): checks, in order, that the relay is on, who the sender is and that this
 * receiver may reach it, and the limits; then waits for the sender's leg. OK means paired: the
 * server hands the connection over to the splice once the reply is out.
 */
export async function relay(
  ctx: HandlerContext,
  state: ConnectionState,
  request: Relay,
): Promise<Ok> {
  if (!ctx.relay.enabled) {
    throw new SfsError("RELAY_OFF", "This index server does not relay", {
      hint: "Ask the sender for a direct route (a port forward, --advertise)",
    });
  }
  const id = toHex(request.fileId);
  const sharer = await chooseSender(ctx, state, id, request.token);
  const owner = sharer.codeOwner ?? `user:${sharer.userId}`;
  const reservation = ctx.relay.reserve(owner, state.host);
  try {
    // The receiver's account, if its session authenticated: the sender shows who it serves.
    const receiver = state.userId === undefined
      ? ""
      : (await ctx.store.getUserById(state.userId))?.username ?? "";
    const leg = await ctx.relay.pair(sharer, request.fileId, receiver);
    ctx.relay.handOver(state, {
      sender: leg,
      reservation,
      owner,
      username: sharer.codeOwner !== undefined
        ? ""
        : (await ctx.store.getUserById(sharer.userId))?.username ?? String(sharer.userId),
      fileId: id,
      address: state.address,
    });
  } catch (err) {
    reservation.release();
    throw err;
  }
  return { type: MessageType.OK };
}

/**
 * The sender a RELAY may reach: the one whose relay token it carries, or else the most recent
 * sharer of a file this viewer may see (as RESOLVE by id), on whichever server of the index it
 * is connected to (§13.7). Never anyone who does not share it.
 */
async function chooseSender(
  ctx: HandlerContext,
  state: ConnectionState,
  id: string,
  token: Uint8Array,
): Promise<RelayCandidate> {
  const byToken = token.length > 0 ? await ctx.relay.byToken(id, token) : undefined;
  // A code's sender without an account announced nothing: its token alone names it.
  if (byToken?.codeOwner !== undefined) return byToken;
  // Withdrawn meanwhile (`sfs unshare` elsewhere): the owner no longer offers it.
  if (byToken !== undefined && await ctx.store.get(id, byToken.userId) !== undefined) {
    return byToken;
  }
  const visible = await ctx.store.get(id, state.userId) !== undefined;
  const sharer = visible ? await ctx.relay.anySharer(id) : undefined;
  if (sharer !== undefined) return sharer;
  if (token.length > 0) {
    throw new SfsError("REFUSED", "The relay token is not valid for this file");
  }
  throw new SfsError("NOT_FOUND", `No sender that this relay may reach shares file ${id}`);
}
