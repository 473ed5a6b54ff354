/**
 * `sfs send PATH…`: share one file, one folder, or several paths as one share (a tree,
 * docs/PROTOCOL.md §7.6), and serve it to receivers. Without an index this is direct mode: one
 * ticket. With an index configured (config.json, SFS_SERVER or `--server`) the share is also
 * announced, signed, on the index and kept online with heartbeats.
 *
 * The steps, each in its module: check the command line (send_plan.ts), prepare the share
 * (send_prepare.ts), open the port and announce (send_announce.ts), offer a code (send_code.ts),
 * say it is ready (send_ready.ts), serve until stopped (send_serve.ts, send_stop.ts).
 */
import { SfsError } from "../../errors.ts";
import { toHex } from "../../crypto/bytes.ts";
import type { Identity } from "../../crypto/identity.ts";
import type { Shared } from "../../peer/sender.ts";
import type { IndexTarget } from "../settings/config.ts";
import { loadIdentity } from "../settings/identity_file.ts";
import { loadOrCreateIdentity } from "./keygen_run.ts";
import type { IndexFlags } from "../index_connect.ts";
import { formatHostPort } from "../../net/address.ts";
import type { Output } from "../output.ts";
import { announce, type Announced } from "./send_announce.ts";
import { PeerBook } from "./send_peers.ts";
import { RelayedInbox } from "./send_relayed.ts";
import { serve, type ServeOptions } from "./send_serve.ts";
import { serveUntilStopped } from "./send_stop.ts";
import { printQr } from "./qr.ts";
import { onStopSignal } from "../interrupt.ts";
import { listenTcp } from "../../net/listener.ts";
import { codeMailbox, type CodeOffer, offerCode, printCode } from "./send_code.ts";
import type { CodeMailbox } from "../../index/client/code_mailbox.ts";
import { type Plan, type PlanOptions, planShare } from "./send_plan.ts";
import { type PrepareOptions, prepareShares } from "./send_prepare.ts";
import { reportReady } from "./send_ready.ts";
import { type CandidateOptions, candidatesOf, type Share, ticketOf } from "./send_share.ts";

/** Options of `sfs send`. */
export interface SendOptions
  extends IndexFlags, ServeOptions, PlanOptions, PrepareOptions, CandidateOptions {
  /** Print the ticket as a QR code too (the code's QR with `code`). @default false */
  qr?: boolean;
}

/** Shares the files until interrupted, or until one transfer succeeded with `once`. */
export async function runSend(options: SendOptions, out: Output): Promise<void> {
  const plan = await planShare(options);
  // A code's sender may be as fresh as its receiver (§14.4): no keygen, and in open mode no account.
  const identity = options.code !== undefined
    ? await loadOrCreateIdentity(options.home, out)
    : await loadIdentity(options.home);
  const files = await prepareShares(options, identity, out);
  try {
    await shareAndServe(options, out, plan, identity, files);
  } finally {
    // A tree's manifest spool in SFS_HOME goes with the share.
    for (const shared of files.values()) {
      if (shared.kind === "tree") await shared.manifest[Symbol.asyncDispose]();
    }
  }
}

/** The share announced (or not) and offered (or not), ready to be served. */
interface Opened {
  readonly share: Share;
  /** The share's files (one file, or one tree). */
  readonly list: Shared[];
  readonly announced?: Announced;
  readonly offer?: CodeOffer;
  readonly relayed: RelayedInbox;
}

/** Opens the port, announces the share and offers its code, says it is ready, serves it. */
async function shareAndServe(
  options: SendOptions,
  out: Output,
  plan: Plan,
  identity: Identity,
  files: Map<string, Shared>,
): Promise<void> {
  const listener = listenTcp(options.listen);
  const share: Share = {
    identity,
    files,
    listener,
    candidates: candidatesOf(options, listener),
  };
  // The relay may bring a receiver as soon as a file is announced: it waits here until serving.
  const relayed = new RelayedInbox();
  const mailbox = options.code && codeMailbox();
  const announced = await announceShare(options, out, plan, share, relayed, mailbox);
  const list = [...files.values()];
  const offer = await codeOf(options, out, { share, file: list[0], announced, mailbox });
  reportReady(out, share, list, { announced, recipients: plan.lists.recipients, offer });
  if (offer !== undefined) printCode(out, offer, options.qr ?? false, announced!.target.server);
  else if (options.qr) printQr(out, ticketOf(share, list[0], announced));
  await serveShare(options, out, { share, list, announced, offer, relayed });
}

/**
 * Serves the share until stopped (Ctrl-C, every file unshared, one transfer done with `once` or a
 * code, a code failed), then closes the code, the index session and the relay inbox.
 */
async function serveShare(options: SendOptions, out: Output, opened: Opened): Promise<void> {
  const { share, list, announced, offer, relayed } = opened;
  const peers = new PeerBook(announced?.names);
  using stop = onStopSignal();
  try {
    const once = options.once || !!offer;
    const served = serve(share.listener, share.identity, { ...options, once }, out, {
      lookup: (id) => share.files.get(toHex(id)),
      allowed: offer?.allowed ?? announced?.allowed,
      acceptReceiver: offer?.admit,
      stop: offer ? AbortSignal.any([stop.signal, offer.failed]) : stop.signal,
      peers,
      relayed,
      onceDone: async () => {
        await announced?.session.unshare(list.map((f) => f.id));
      },
    });
    await serveUntilStopped(served, stop.signal, {
      files: list,
      announced,
      once: options.once ?? false,
    }, out);
    // A code that failed or expired ended the serving: say why (PAKE_FAILED, CODE_EXPIRED).
    if (offer?.failed.aborted && !stop.signal.aborted) await offer.outcome;
  } finally {
    offer?.cancel();
    announced?.session.close();
    relayed.close();
  }
}

/** With `--code`, opens the code on the sharing connection for `file`'s ticket (§14). */
async function codeOf(
  options: SendOptions,
  out: Output,
  shared: { share: Share; file: Shared; announced?: Announced; mailbox?: CodeMailbox },
): Promise<CodeOffer | undefined> {
  const { share, file, announced, mailbox } = shared;
  if (options.code === undefined || announced === undefined || mailbox === undefined) return;
  try {
    if (!announced.online) {
      throw new SfsError(
        "CONNECTION_FAILED",
        `Cannot reach index server ${announced.target.server}`,
        {
          hint: "A code needs the index server; share by ticket with --no-index",
        },
      );
    }
    return await offerCode(options.code, {
      session: announced.session,
      mailbox,
      ticket: () => ticketOf(share, file, announced),
      fingerprint: share.identity.public.fingerprint,
      user: announced.user,
      server: announced.target.server,
      home: options.home,
    }, out);
  } catch (err) {
    announced.session.close();
    share.listener.close();
    throw err;
  }
}

/** Announces the share on the plan's index, if any; closes the listener when that fails. */
async function announceShare(
  options: SendOptions,
  out: Output,
  plan: Plan,
  share: Share,
  relayed: RelayedInbox,
  mailbox?: CodeMailbox,
): Promise<Announced | undefined> {
  const target = plan.target;
  if (target === undefined) return undefined;
  try {
    return await announce(options, out, {
      target,
      identity: share.identity,
      files: [...share.files.values()],
      addresses: share.candidates.map(formatHostPort),
      ...plan.lists,
      onWithdrawn: (id) => withdraw(share, id, target, out),
      onRelayed: relayed.take,
      ...(mailbox !== undefined ? { code: { onCodeMail: mailbox.put, onLost: mailbox.fail } } : {}),
    });
  } catch (err) {
    share.listener.close();
    throw err;
  }
}

/** A file unshared elsewhere (sfs unshare) while this process shares it: stop serving it. */
function withdraw(share: Share, id: string, target: IndexTarget, out: Output): void {
  const file = share.files.get(id);
  if (file === undefined) return;
  share.files.delete(id);
  out.event("withdrawn", { id, name: file.name });
  out.warn(`"${file.name}" (${id}) was unshared on ${target.server}; no longer serving it`);
  if (share.files.size === 0) {
    out.note("Every file was unshared; stopping");
    share.listener.close();
  }
}
