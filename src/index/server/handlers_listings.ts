/**
 * Listing requests of the index server (docs/PROTOCOL.md §12): ANNOUNCE, HEARTBEAT and UNSHARE
 * from a sharing owner, SEARCH, LIST and RESOLVE from anyone.
 */
import { SfsError } from "../../errors.ts";
import { type Bytes, toHex } from "../../crypto/bytes.ts";
import { type Message, MessageType } from "../../wire/messages.ts";
import {
  type Announce,
  isFileIdQuery,
  type List,
  type Listings,
  MAX_ANNOUNCEMENT_BYTES,
  MAX_LISTINGS,
  type Resolve,
  type Search,
  type Unshare,
  type WireListing,
} from "../../wire/index_messages.ts";
import {
  ED25519_SIGNATURE_BYTES,
  MAX_IDENTITY_BYTES,
  MAX_SIGNATURE_BYTES,
} from "../../wire/message_fields.ts";
import type { Signatures } from "../../crypto/sign.ts";
import {
  encodeSignatureSet,
  type FileAnnouncement,
  verifyAnnouncement,
} from "../protocol/announcement.ts";
import { MAX_CLOCK_SKEW_MS } from "../protocol/limits.ts";
import { validateUsername } from "../protocol/usernames.ts";
import type { Announcement, ListingRecord, User } from "./store.ts";
import { type ConnectionState, type HandlerContext, requireUser } from "./handlers_context.ts";

/**
 * The row ANNOUNCE stores for verified announcement `a` (decoded from `bytes`, signed with
 * `signatures`), shared by owner `ownerId` from session `sessionId`; the benchmark prefill
 * stores the same.
 */
export function announcementRow(
  a: FileAnnouncement,
  bytes: Uint8Array,
  signatures: Signatures,
  ownerId: number,
  sessionId: string,
): Announcement {
  return {
    id: toHex(a.fileId),
    ownerId,
    sessionId,
    name: a.name,
    size: a.size,
    sha256: toHex(a.sha256),
    keywords: a.keywords,
    recipients: a.recipients,
    address: a.address,
    createdAt: a.createdAt,
    announcement: bytes,
    signature: encodeSignatureSet(signatures),
  };
}

/** ANNOUNCE: stores a signed announcement, opening the connection's sharing session. */
export async function announce(
  ctx: HandlerContext,
  state: ConnectionState,
  request: Announce,
): Promise<Message> {
  const user = await requireUser(ctx, state);
  // The channel's peer is the registered identity (checked by requireUser), so its keys are
  // the ones the announcement must verify against.
  const a = await verifyAnnouncement(request.announcement, request.signatures, state.peer);
  if (a.owner !== validateUsername(user.username)) {
    throw new SfsError("REFUSED", `The announcement names owner "${a.owner}", not you`);
  }
  if (a.createdAt > ctx.now() + MAX_CLOCK_SKEW_MS) {
    throw new SfsError("BAD_MESSAGE", "The announcement's creation time is in the future");
  }
  if (state.sessionId === undefined) {
    const sessionId = crypto.randomUUID();
    await ctx.store.setOnline(user.id, sessionId, state.address);
    state.sessionId = sessionId;
  }
  const id = toHex(a.fileId);
  // Before the write: a withdrawal committed while it waits is then still reported.
  state.withdrawalsCheckedAt ??= ctx.now();
  // Stored together with the announcements of other connections that arrive meanwhile, in one
  // transaction; the reply waits until it is committed. The fingerprint is re-checked in that
  // transaction, so a key rotation during the signature check cannot slip this one in.
  await ctx.commits.add({
    ...announcementRow(a, request.announcement, request.signatures, user.id, state.sessionId),
    ownerFingerprint: user.fingerprint,
    maxOwnerListings: ctx.maxListings,
  });
  state.announced ??= new Map();
  state.announced.set(id, a.createdAt);
  ctx.log("announce", { user: user.username, id, name: a.name, address: a.address });
  return { type: MessageType.OK };
}

/**
 * HEARTBEAT: keeps the sharing session online and reports files withdrawn meanwhile; from a
 * code's sender without an account, it only keeps the connection's idle deadline.
 */
export async function heartbeat(ctx: HandlerContext, state: ConnectionState): Promise<Message> {
  // An open code's sender without an account (§14.5) has no session: this keeps its deadline.
  if (state.userId === undefined && state.openCodes !== undefined) return { type: MessageType.OK };
  const user = await requireUser(ctx, state);
  if (state.sessionId !== undefined) await ctx.store.heartbeat(state.sessionId);
  await reportWithdrawals(ctx, state, user);
  return { type: MessageType.OK };
}

/** UNSHARE: withdraws one of the user's files. */
export async function unshare(
  ctx: HandlerContext,
  state: ConnectionState,
  request: Unshare,
): Promise<Message> {
  const user = await requireUser(ctx, state);
  const id = toHex(request.fileId);
  if (!await ctx.store.unshare(user.id, id)) {
    throw new SfsError("NOT_FOUND", `You share no file with id ${id}`);
  }
  ctx.log("unshare", { user: user.username, id });
  return { type: MessageType.OK };
}

/**
 * Tells a sharing connection, in the reply to its HEARTBEAT, that files it announced were
 * unshared meanwhile (by `sfs unshare` elsewhere): the reply is ERROR WITHDRAWN, and the
 * client re-announces to learn which (each withdrawn one is refused with WITHDRAWN).
 */
async function reportWithdrawals(
  ctx: HandlerContext,
  state: ConnectionState,
  user: User,
): Promise<void> {
  const announced = state.announced;
  if (announced === undefined || state.withdrawalsCheckedAt === undefined) return;
  const since = state.withdrawalsCheckedAt;
  state.withdrawalsCheckedAt = ctx.now();
  let withdrawn = 0;
  for (const w of await ctx.store.withdrawalsSince(user.id, since)) {
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

/** SEARCH: listings matching a query, as far as the connection's user may see them. */
export async function search(
  ctx: HandlerContext,
  state: ConnectionState,
  request: Search,
): Promise<Listings> {
  return listings(
    ctx,
    await ctx.store.search(request.query, {
      viewer: state.userId,
      limit: request.limit,
      offset: request.offset,
    }),
  );
}

/** LIST: all listings the connection's user may see, or only the user's own. */
export async function list(
  ctx: HandlerContext,
  state: ConnectionState,
  request: List,
): Promise<Listings> {
  return listings(
    ctx,
    await ctx.store.list({
      viewer: state.userId,
      mine: request.mine,
      limit: request.limit,
      offset: request.offset,
    }),
  );
}

/** RESOLVE: the listing a file id names, or the listings of files with exactly that name. */
export async function resolve(
  ctx: HandlerContext,
  state: ConnectionState,
  request: Resolve,
): Promise<Listings> {
  const query = request.query.trim();
  if (isFileIdQuery(query)) {
    // An id names one file or none: no fallback to names, where anyone can pick one that
    // spells the id of a file hidden from this user or withdrawn.
    const found = await ctx.store.get(query.toLowerCase(), state.userId);
    return listings(ctx, found === undefined ? [] : [found]);
  }
  return listings(ctx, await ctx.store.findByName(query, state.userId));
}

/** A LISTINGS reply of at most MAX_LISTINGS rows, leaving out rows it could not encode. */
function listings(ctx: HandlerContext, rows: ListingRecord[]): Listings {
  const out: WireListing[] = [];
  for (let i = 0; i < rows.length && i < MAX_LISTINGS; i++) {
    const row = rows[i];
    const signatures = signatureViews(row.signature);
    // Only a damaged database holds rows like these; one would make the whole reply
    // undecodable for the client, so it is left out instead.
    if (
      signatures === undefined || row.announcement.length > MAX_ANNOUNCEMENT_BYTES ||
      row.ownerIdentity.length > MAX_IDENTITY_BYTES
    ) {
      ctx.log("bad_row", { id: row.id });
      continue;
    }
    // No copies: the rows are fresh from the store and the encoder only reads them.
    out.push({
      announcement: row.announcement,
      signatures,
      ownerIdentity: row.ownerIdentity,
      online: row.online,
      lastSeen: row.lastSeen,
    });
  }
  return { type: MessageType.LISTINGS, listings: out };
}

/**
 * A stored signature set (§5, as encodeSignatureSet wrote it) as views into `bytes`, or
 * undefined when it is not one the LISTINGS codec could carry. The same checks as
 * decodeSignatureSet without its two copies and reader per listing: the reply only passes the
 * bytes on, and the receiving client decodes them with the strict codec.
 */
function signatureViews(bytes: Uint8Array): Signatures | undefined {
  if (bytes.length < 4) return undefined;
  const rsaLength = (bytes[0] << 8) | bytes[1];
  const edStart = 2 + rsaLength;
  if (rsaLength > MAX_SIGNATURE_BYTES || edStart + 2 > bytes.length) return undefined;
  const edLength = (bytes[edStart] << 8) | bytes[edStart + 1];
  if (edLength !== 0 && edLength !== ED25519_SIGNATURE_BYTES) return undefined;
  if (edStart + 2 + edLength !== bytes.length) return undefined;
  return {
    rsa: rsaLength === 0 ? undefined : bytes.subarray(2, edStart) as Bytes,
    ed25519: edLength === 0 ? undefined : bytes.subarray(edStart + 2) as Bytes,
  };
}
