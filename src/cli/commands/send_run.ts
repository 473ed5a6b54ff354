/**
 * `sfs send PATH…`: share one file, one folder, or several paths as one share (a tree,
 * docs/PROTOCOL.md §7.6), and serve it to receivers. Without an index this is direct mode: one
 * ticket. With an index configured (config.json, SFS_SERVER or `--server`) the share is also
 * announced, signed, on the index and kept online with heartbeats.
 */
import { SfsError } from "../../errors.ts";
import { toHex } from "../../crypto/bytes.ts";
import { formatFingerprint, type Identity } from "../../crypto/identity.ts";
import { canonicalLists } from "../../index/protocol/announcement.ts";
import { MAX_ADDRESSES } from "../../index/protocol/limits.ts";
import { prepareFile, type Shared } from "../../peer/sender.ts";
import { formatTicket } from "../../peer/ticket.ts";
import { type IndexTarget, resolveIndex } from "../settings/config.ts";
import { loadIdentity } from "../settings/identity_file.ts";
import { loadOrCreateIdentity } from "./keygen_run.ts";
import type { IndexFlags } from "../index_connect.ts";
import { formatHostPort, type HostPort } from "../../net/address.ts";
import { candidateAddresses } from "../../net/interfaces.ts";
import type { JsonValue, Output } from "../output.ts";
import { announce, type Announced } from "./send_announce.ts";
import { PeerBook } from "./send_peers.ts";
import { RelayedInbox } from "./send_relayed.ts";
import { serve, type ServeOptions } from "./send_serve.ts";
import { serveUntilStopped } from "./send_stop.ts";
import { printQr } from "./qr.ts";
import { onStopSignal } from "../interrupt.ts";
import { listenTcp } from "../../net/listener.ts";
import { progressFor, type ProgressRow } from "../progress.ts";
import { basename, join } from "node:path";
import { checkShareable } from "../paths.ts";
import {
  codeMailbox,
  type CodeOffer,
  type CodeRequest,
  offerCode,
  printCode,
} from "./send_code.ts";
import type { CodeMailbox } from "../../index/client/code_mailbox.ts";
import { HASH_CACHE_FILE, isTreeShare, prepareTreeShare } from "./send_tree.ts";
import { HashCache } from "../../peer/hash_cache.ts";

/** Options of `sfs send`. */
export interface SendOptions extends IndexFlags, ServeOptions {
  home: string;
  /** The paths to share (at least one): one file, one folder, or several of either. */
  files: string[];
  /** `--name`: the share's name, for a folder or several paths. */
  name?: string;
  /** `--exclude` patterns, for a folder or several paths. */
  exclude?: string[];
  listen: HostPort;
  /** Where receivers connect, replacing the interface addresses (§10.1); at most 8. */
  advertise?: HostPort[];
  /** Search keywords for the announcements (index mode only). */
  keywords?: string[];
  /** Users who alone may see and fetch the files (index mode only). */
  to?: string[];
  /** Stay in direct mode even when an index is configured. @default false */
  noIndex?: boolean;
  /** Share by short code (§14): one file, to the one receiver who knows the code. */
  code?: CodeRequest;
  /** Print the ticket as a QR code too (the code's QR with `code`). @default false */
  qr?: boolean;
}

/** The index half of the command line, checked before the (possibly long) hashing. */
interface Plan {
  /** The index to announce on; undefined in direct mode. */
  readonly target?: IndexTarget;
  /** Keywords and `--to` users in canonical form (empty in direct mode). */
  readonly lists: { keywords: string[]; recipients: string[] };
}

/** What is being shared and where, once the files are hashed and the port is open. */
interface Share {
  readonly identity: Identity;
  /** The share (a file or a tree) by hex id; taken out when unshared elsewhere meanwhile. */
  readonly files: Map<string, Shared>;
  readonly listener: Deno.TcpListener;
  /** Where receivers connect: the direct candidates of tickets and announcements (§10.1). */
  readonly candidates: readonly HostPort[];
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
  const peers = new PeerBook(announced?.names);
  using stop = onStopSignal();
  try {
    const served = serve(listener, identity, { ...options, once: options.once || !!offer }, out, {
      lookup: (id) => files.get(toHex(id)),
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

/** Finds the index (unless `noIndex`) and checks the index-only options against it. */
async function planShare(options: SendOptions): Promise<Plan> {
  const target = options.noIndex
    ? undefined
    : await resolveIndex(options.home, { server: options.server });
  const keywords = options.keywords ?? [];
  const to = options.to ?? [];
  if (options.code !== undefined) checkCodePlan(options, target);
  if (target === undefined && (keywords.length > 0 || to.length > 0)) {
    throw new SfsError("USAGE", "--keyword and --to need an index server", {
      hint: "Register with sfs register, or pass --server HOST:PORT",
    });
  }
  if (options.files.length === 0) throw new SfsError("USAGE", "No file to send");
  const advertise = options.advertise ?? [];
  if (advertise.length > MAX_ADDRESSES) {
    throw new SfsError("USAGE", `--advertise may be given at most ${MAX_ADDRESSES} times`);
  }
  if (new Set(advertise.map((a) => formatHostPort(a).toLowerCase())).size < advertise.length) {
    throw new SfsError("USAGE", "--advertise names one address twice");
  }
  // Check the lists before the (possibly long) hashing, so a typo fails at once.
  return { target, lists: canonicalLists(keywords, to) };
}

/** `--code` needs an index, one file, and no `--to` (the code says who receives). */
function checkCodePlan(options: SendOptions, target: IndexTarget | undefined): void {
  if (target === undefined) {
    throw new SfsError("USAGE", "--code needs an index server", {
      hint: "Pass --server HOST:PORT, or register with sfs register",
    });
  }
  if ((options.to ?? []).length > 0) {
    throw new SfsError("USAGE", "--code and --to exclude each other");
  }
  if (options.files.length !== 1) {
    throw new SfsError("USAGE", "--code shares exactly one file", {
      hint: "Send the other files with another code",
    });
  }
}

/** The share, keyed by its hex id: a tree for a folder or several paths, else the one file. */
async function prepareShares(
  options: SendOptions,
  identity: Identity,
  out: Output,
): Promise<Map<string, Shared>> {
  const paths = options.files;
  if (await isTreeShare(paths)) {
    const tree = await prepareTreeShare(paths, identity, options, out);
    return new Map([[toHex(tree.id), tree]]);
  }
  if (options.name !== undefined || (options.exclude ?? []).length > 0) {
    throw new SfsError("USAGE", "--name and --exclude are for a folder or several paths", {
      hint: "A single file is shared under its own name",
    });
  }
  const cache = await HashCache.load(join(options.home, HASH_CACHE_FILE));
  const files = await hashFiles(paths, identity, out, cache);
  // A cache that cannot be saved costs the next share its hashing, nothing more.
  await cache.save().catch((err) => out.debug(`Hash cache not saved: ${err}`));
  return files;
}

/** Hashes and describes each file, keyed by its hex file id. */
async function hashFiles(
  paths: string[],
  identity: Identity,
  out: Output,
  cache: HashCache,
): Promise<Map<string, Shared>> {
  const files = new Map<string, Shared>();
  const board = progressFor(out);
  for (const path of paths) await checkShareable(path); // every typo before any long hash
  for (const path of paths) {
    out.note(`Hashing "${path}"…`);
    // A large file takes a while to hash before anything is served: show how far it is.
    let row: ProgressRow | undefined;
    try {
      const file = await prepareFile(path, identity, {
        cache,
        onProgress: (hashed, size) => {
          row ??= board.add({
            label: `Hashing ${basename(path)}`,
            total: size,
            fields: { phase: "hashing", path },
          });
          row.update(hashed);
        },
      });
      row?.finish();
      files.set(toHex(file.id), file);
    } finally {
      row?.remove();
    }
  }
  return files;
}

/**
 * The direct candidates (§10.1): `--advertise` when given (it replaces the rest: a port forward
 * or a DNS name is known better by the person), else every usable interface address with the
 * listening port.
 */
function candidatesOf(options: SendOptions, listener: Deno.TcpListener): HostPort[] {
  if (options.advertise !== undefined && options.advertise.length > 0) return options.advertise;
  const bound = listener.addr as Deno.NetAddr;
  return candidateAddresses(options.listen, bound.port, { max: MAX_ADDRESSES });
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

/** The ticket that names `file` at the candidates, with the index's relay hint if it has one. */
function ticketOf(share: Share, file: Shared, announced?: Announced): string {
  const [{ host, port }, ...alternates] = share.candidates;
  const relay = announced?.relayHint(file.id);
  return formatTicket({
    host,
    port,
    ...(alternates.length > 0 ? { alternates } : {}),
    ...(relay !== undefined ? { relay } : {}),
    fileId: file.id,
    fingerprint: share.identity.public.fingerprint,
  });
}

/** Prints the `ready` event, then the tickets or ids and how receivers get the files. */
function reportReady(
  out: Output,
  share: Share,
  list: Shared[],
  index: { announced?: Announced; recipients: string[]; offer?: CodeOffer },
): void {
  const { announced, recipients } = index;
  out.event("ready", readyEvent(share, list, index));
  // With a code, the code is what the person passes on (send_code.ts prints it).
  if (index.offer !== undefined) return;
  const bound = share.listener.addr as Deno.NetAddr;
  const serving = formatHostPort({ host: bound.hostname, port: bound.port });
  if (announced !== undefined) {
    // The ticket too: it works without the index, for receivers not on it or while it is down
    // (and through the relay, when the index offers one).
    for (const f of list) out.info(`${toHex(f.id)}  ${f.name}  ${ticketOf(share, f, announced)}`);
    if (!announced.online) {
      out.note(`Serving on ${serving}; give receivers a ticket above. Ctrl-C stops.`);
      return;
    }
    out.note(
      `Shared ${
        list.map(describe).join(", ")
      } on ${announced.target.server} as "${announced.user}"` +
        (recipients.length > 0 ? `, visible to ${recipients.join(", ")} only` : "") +
        `; receivers run: sfs get ID (or the ticket). Serving on ${serving}. Ctrl-C stops.`,
    );
  } else {
    for (const f of list) out.info(ticketOf(share, f));
    out.note(
      `Sharing ${list.map(describe).join(", ")} on ${serving}` +
        "; give the receiver the ticket above. Ctrl-C stops.",
    );
  }
}

/** How the note names a share: `"a.txt" (5 bytes)`, `folder "x" (3 files, 9 bytes)`. */
function describe(shared: Shared): string {
  if (shared.kind === "file") return `"${shared.name}" (${shared.size} bytes)`;
  const files = `${shared.files} file${shared.files === 1 ? "" : "s"}`;
  return `folder "${shared.name}" (${files}, ${shared.size} bytes)`;
}

/** The `ready` event's fields: the first file as always, and every file when there are more. */
function readyEvent(
  share: Share,
  list: Shared[],
  index: { announced?: Announced; recipients: string[]; offer?: CodeOffer },
): Record<string, JsonValue | undefined> {
  const bound = share.listener.addr as Deno.NetAddr;
  const first = list[0];
  const ready: Record<string, JsonValue | undefined> = {
    ticket: ticketOf(share, first, index.announced),
    port: bound.port,
    host: bound.hostname,
    fingerprint: formatFingerprint(share.identity.public.fingerprint),
    id: toHex(first.id),
    name: first.name,
    size: first.size,
    sha256: toHex(first.sha256),
  };
  if (first.kind === "tree") {
    // For a tree `sha256` is the manifest hash, as in its listing (§7.7).
    ready.kind = "tree";
    ready.manifest_hash = toHex(first.manifestHash);
    ready.file_count = first.files;
    ready.entries = first.entries;
  }
  const { announced, recipients } = index;
  // Direct mode with one file keeps exactly the event it always had.
  if (announced !== undefined || list.length > 1) {
    ready.ids = list.map((f) => toHex(f.id));
    ready.files = list.map((f) => ({
      id: toHex(f.id),
      name: f.name,
      size: f.size,
      sha256: toHex(f.sha256),
      ticket: ticketOf(share, f, announced),
    }));
  }
  if (announced !== undefined) {
    ready.server = announced.target.server;
    ready.user = announced.user || undefined; // empty: a code's sender without an account
    ready.to = recipients.length > 0 ? recipients : undefined;
  }
  if (index.offer !== undefined) {
    ready.code = index.offer.code;
    ready.code_expires_at = new Date(index.offer.expiresAt).toISOString();
  }
  return ready;
}
