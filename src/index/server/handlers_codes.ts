/**
 * The short codes' requests (docs/PROTOCOL.md §14.5): who may open a nameplate, the claim's rate
 * limit, and the forwarding of the PAKE payloads between the two sides. The nameplates themselves
 * live in code_registry.ts; these handlers check and log, and never read a payload.
 */
import { SfsError } from "../../errors.ts";
import { MessageType } from "../../wire/messages.ts";
import type {
  CodeClaim,
  CodeClose,
  CodeMail,
  CodeOpen,
  CodeOpened,
  Ok,
} from "../../wire/index_messages.ts";
import {
  type ConnectionState,
  type HandlerContext,
  requireUser,
  throttled,
} from "./handlers_context.ts";
import { addressKey } from "./throttle.ts";

/**
 * CODE_OPEN: a nameplate for this connection, which then gets the receiver's payloads pushed.
 * `--codes accounts` needs an authenticated user; `open` counts an unauthenticated sender by
 * its address; `off` refuses.
 */
export async function codeOpen(
  ctx: HandlerContext,
  state: ConnectionState,
  request: CodeOpen,
): Promise<CodeOpened> {
  const { codes } = ctx;
  requireCodes(ctx);
  const push = state.push;
  if (push === undefined) throw new SfsError("INTERNAL", "This connection cannot take pushes");
  let owner: string;
  let who: string;
  if (codes.limits.mode === "accounts" || state.userId !== undefined) {
    const user = await requireUser(ctx, state);
    owner = `user:${user.id}`;
    who = user.username;
  } else {
    owner = `address:${addressKey(state.host)}`;
    who = "";
    await throttled(ctx, state, who, () => ctx.throttle.codeOpen(state.host));
  }
  const opened = codes.open(
    state,
    (nameplate, payload) => push({ type: MessageType.CODE_MAIL, nameplate, payload }),
    {
      owner,
      ttlSeconds: request.ttlSeconds,
    },
  );
  if (state.userId === undefined) {
    // Each code lets its sender without an account be relayed for one file (§13.2).
    state.openCodes ??= { granted: 0, files: new Set() };
    state.openCodes.granted++;
  }
  ctx.log("code_open", {
    nameplate: opened.nameplate,
    user: who || undefined,
    address: state.address,
    expiresAt: opened.expiresAt,
  });
  return {
    type: MessageType.CODE_OPENED,
    nameplate: opened.nameplate,
    ttlSeconds: opened.ttlSeconds,
  };
}

/**
 * CODE_CLAIM: counted against the address before anything is looked up, then held until the
 * sender answers (the reply is the sender's CODE_MAIL). Needs no account.
 */
export async function codeClaim(
  ctx: HandlerContext,
  state: ConnectionState,
  request: CodeClaim,
): Promise<CodeMail> {
  requireCodes(ctx);
  await throttled(ctx, state, "", () => ctx.throttle.codeClaim(state.host));
  ctx.log("code_claim", { nameplate: request.nameplate, address: state.address });
  const payload = await ctx.codes.claim(state, request.nameplate, request.payload);
  return { type: MessageType.CODE_MAIL, nameplate: request.nameplate, payload };
}

/** CODE_MAIL: from the sender, it answers the held claim; from the receiver, it is pushed. */
export async function codeMail(
  ctx: HandlerContext,
  state: ConnectionState,
  request: CodeMail,
): Promise<Ok> {
  requireCodes(ctx);
  const { codes } = ctx;
  if (codes.isSender(state, request.nameplate)) {
    codes.senderMail(state, request.nameplate, request.payload);
  } else {
    await codes.receiverMail(state, request.nameplate, request.payload);
  }
  return { type: MessageType.OK };
}

/** CODE_CLOSE: the sender ends its nameplate, either way. */
export function codeClose(ctx: HandlerContext, state: ConnectionState, request: CodeClose): Ok {
  requireCodes(ctx);
  ctx.codes.close(state, request.nameplate, request.outcome);
  return { type: MessageType.OK };
}

/** Refuses every code request on a server run with `--codes off`. */
function requireCodes(ctx: HandlerContext): void {
  if (ctx.codes.limits.mode === "off") {
    throw new SfsError("CODES_OFF", "This index server does not take codes", {
      hint: "Share the ticket instead",
    });
  }
}
