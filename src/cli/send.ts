/**
 * `sfs send FILE…`: share files and serve them to receivers. Without an index this is direct
 * mode: a ticket per file. With an index configured (config.json, SFS_SERVER or `--server`) the
 * files are also announced, signed, on the index and kept online with heartbeats.
 */
import { SfsError } from "../errors.ts";
import { type Bytes, toHex } from "../crypto/bytes.ts";
import { formatFingerprint, type Identity, type PublicIdentity } from "../crypto/identity.ts";
import type { SignaturePolicy } from "../crypto/sign.ts";
import {
  canonicalLists,
  decodeAnnouncement,
  signAnnouncement,
} from "../index/protocol/announcement.ts";
import type { IndexClient } from "../index/client/client.ts";
import { ShareSession } from "../index/client/sharing.ts";
import { validateUsername } from "../index/protocol/usernames.ts";
import { prepareFile, type SharedFile } from "../peer/sender.ts";
import { serveFiles } from "../peer/serve.ts";
import { formatTicket } from "../peer/ticket.ts";
import { type IndexTarget, resolveIndex } from "./config.ts";
import { loadIdentity } from "./identity_file.ts";
import { type IndexFlags, openIndex } from "./index_connect.ts";
import { formatHostPort, type HostPort, isWildcard } from "../net/address.ts";
import { primaryAddress } from "../net/interfaces.ts";
import { listenTcp } from "../net/listener.ts";
import type { JsonValue, Output } from "./output.ts";
import { trustUser } from "./pins.ts";
import { Progress } from "./progress.ts";

/** Options of `sfs send`. */
export interface SendOptions extends IndexFlags {
  home: string;
  /** The files to share (at least one). */
  files: string[];
  listen: HostPort;
  advertise?: HostPort;
  once?: boolean;
  sign?: SignaturePolicy;
  idleTimeoutMs?: number;
  /** Search keywords for the announcements (index mode only). */
  keywords?: string[];
  /** Users who alone may see and fetch the files (index mode only). */
  to?: string[];
  /** Stay in direct mode even when an index is configured. @default false */
  noIndex?: boolean;
}

/** The index side of a share: the session to keep alive and who may fetch. */
interface Announced {
  readonly target: IndexTarget;
  readonly user: string;
  readonly session: ShareSession;
  /** Fingerprints (hex) of the `--to` users; undefined when everyone may fetch. */
  readonly allowed?: ReadonlySet<string>;
}

/** Shares the files until interrupted, or until one transfer succeeded with `once`. */
export async function runSend(options: SendOptions, out: Output): Promise<void> {
  const target = options.noIndex
    ? undefined
    : await resolveIndex(options.home, { server: options.server });
  const keywords = options.keywords ?? [];
  const to = options.to ?? [];
  if (target === undefined && (keywords.length > 0 || to.length > 0)) {
    throw new SfsError("USAGE", "--keyword and --to need an index server", {
      hint: "Register with sfs register, or pass --server HOST:PORT",
    });
  }
  if (options.files.length === 0) throw new SfsError("USAGE", "No file to send");
  // Check the lists before the (possibly long) hashing, so a typo fails at once.
  const lists = canonicalLists(keywords, to);
  const identity = await loadIdentity(options.home);
  const files = new Map<string, SharedFile>();
  for (const path of options.files) {
    out.note(`Hashing "${path}"…`);
    const file = await prepareFile(path, identity.public);
    files.set(toHex(file.id), file);
  }
  const listener = listenTcp(options.listen);
  const bound = listener.addr as Deno.NetAddr;
  const host = options.advertise?.host ??
    (isWildcard(options.listen.host) ? primaryAddress() : options.listen.host);
  const port = options.advertise?.port ?? bound.port;
  const ticketOf = (file: SharedFile) =>
    formatTicket({ host, port, fileId: file.id, fingerprint: identity.public.fingerprint });

  // A file unshared elsewhere (sfs unshare) while this process shares it: stop serving it.
  const withdraw = (id: string) => {
    const file = files.get(id);
    if (file === undefined || target === undefined) return;
    files.delete(id);
    out.event("withdrawn", { id, name: file.name });
    out.warn(`"${file.name}" (${id}) was unshared on ${target.name}; no longer serving it`);
    if (files.size === 0) {
      out.note("Every file was unshared; stopping");
      listener.close();
    }
  };
  let announced: Announced | undefined;
  try {
    if (target !== undefined) {
      announced = await announce(options, out, {
        target,
        identity,
        files: [...files.values()],
        address: formatHostPort({ host, port }),
        ...lists,
        onWithdrawn: withdraw,
      });
    }
  } catch (err) {
    listener.close();
    throw err;
  }

  const list = [...files.values()];
  const first = list[0];
  const fingerprint = formatFingerprint(identity.public.fingerprint);
  const ready: Record<string, JsonValue | undefined> = {
    ticket: ticketOf(first),
    port: bound.port,
    host: bound.hostname,
    fingerprint,
    id: toHex(first.id),
    name: first.name,
    size: first.size,
    sha256: toHex(first.sha256),
  };
  // Direct mode with one file keeps exactly the event it always had.
  if (announced !== undefined || list.length > 1) {
    ready.ids = list.map((f) => toHex(f.id));
    ready.files = list.map((f) => ({
      id: toHex(f.id),
      name: f.name,
      size: f.size,
      sha256: toHex(f.sha256),
      ticket: ticketOf(f),
    }));
  }
  if (announced !== undefined) {
    ready.server = announced.target.name;
    ready.user = announced.user;
    ready.to = to.length > 0 ? lists.recipients : undefined;
  }
  out.event("ready", ready);
  if (announced !== undefined) {
    for (const f of list) out.info(`${toHex(f.id)}  ${f.name}`);
    out.note(
      `Shared ${list.length} file(s) on ${announced.target.name} as "${announced.user}"` +
        (to.length > 0 ? `, visible to ${lists.recipients.join(", ")} only` : "") +
        `; receivers run: sfs get ID. Serving on ${
          formatHostPort({ host: bound.hostname, port: bound.port })
        }. Ctrl-C stops.`,
    );
  } else {
    for (const f of list) out.info(ticketOf(f));
    out.note(
      `Sharing ${list.map((f) => `"${f.name}" (${f.size} bytes)`).join(", ")} on ${
        formatHostPort({ host: bound.hostname, port: bound.port })
      }; give the receiver the ticket above. Ctrl-C stops.`,
    );
  }

  try {
    await serve(listener, identity, options, out, {
      lookup: (id) => files.get(toHex(id)),
      allowed: announced?.allowed,
      onceDone: async () => {
        await announced?.session.unshare(list.map((f) => f.id));
      },
    });
  } finally {
    announced?.session.close();
  }
}

/**
 * Connects to the index, fetches and checks the `--to` users' keys, signs and announces every
 * file and starts the heartbeats.
 */
async function announce(
  options: SendOptions,
  out: Output,
  share: {
    target: IndexTarget;
    identity: Identity;
    files: SharedFile[];
    address: string;
    keywords: string[];
    recipients: string[];
    /** Told the hex id of each file the owner unshared meanwhile. */
    onWithdrawn: (id: string) => void;
  },
): Promise<Announced> {
  const { target, identity } = share;
  const open = () =>
    openIndex(options.home, target, identity, { flags: options, out, requireUser: true });
  let firstClient: IndexClient | undefined = await open();
  const user = validateUsername(target.user!);
  let allowed: Set<string> | undefined;
  try {
    if (share.recipients.length > 0) {
      allowed = await recipientKeys(options, out, firstClient, target.name, share.recipients);
    }
  } catch (err) {
    firstClient.close();
    throw err;
  }
  const createdAt = Date.now();
  const announcements = await Promise.all(share.files.map((file) =>
    signAnnouncement(identity, {
      fileId: file.id,
      owner: user,
      ownerFingerprint: identity.public.fingerprint,
      name: file.name,
      size: file.size,
      sha256: file.sha256,
      keywords: share.keywords,
      recipients: share.recipients,
      address: share.address,
      createdAt,
    })
  )).catch((err) => {
    firstClient?.close();
    throw err;
  });
  const session = await ShareSession.start({
    connect: () => {
      // The connection that fetched the keys announces first; reconnects open new ones.
      const client = firstClient;
      firstClient = undefined;
      return client ? Promise.resolve(client) : open();
    },
    announcements,
    onWithdrawn: (signed) => share.onWithdrawn(toHex(decodeAnnouncement(signed.bytes).fileId)),
    onStatus: (status, error) => {
      out.event("index", { status, code: error?.code, message: error?.message });
      if (status === "online") out.note(`Back online on ${target.name}`);
      else if (status === "offline") {
        out.warn(`Lost the connection to ${target.name} (${error?.message}); reconnecting`);
      } else {
        out.warn(
          `Stopped announcing on ${target.name}: ${error?.message}; direct tickets keep working`,
        );
      }
    },
  });
  return { target, user, session, allowed };
}

/** The registered keys of the `--to` users, each checked against (or pinned to) known_users. */
async function recipientKeys(
  options: SendOptions,
  out: Output,
  client: IndexClient,
  server: string,
  recipients: string[],
): Promise<Set<string>> {
  const keys = await client.userKeys(recipients);
  const allowed = new Set<string>();
  for (const name of recipients) {
    const key: PublicIdentity | undefined = keys.get(name);
    if (key === undefined) {
      throw new SfsError("NOT_FOUND", `No user "${name}" is registered on ${server}`, {
        hint: "Check the spelling; recipients must register before you share with them",
      });
    }
    // The index could lie about a recipient's key to let someone else fetch the file; the
    // local pin limits that to the very first contact.
    await trustUser(options.home, server, name, key.fingerprint, { yes: options.yes, out });
    allowed.add(toHex(key.fingerprint));
  }
  return allowed;
}

/** Serves receivers, showing progress and outcomes; with `once`, until one transfer succeeded. */
async function serve(
  listener: Deno.TcpListener,
  identity: Identity,
  options: SendOptions,
  out: Output,
  how: {
    lookup: (id: Bytes) => SharedFile | undefined;
    allowed?: ReadonlySet<string>;
    onceDone: () => Promise<void>;
  },
): Promise<void> {
  const progress = new Progress({ quiet: out.quiet || out.json });
  const allowed = how.allowed;
  await serveFiles(listener, identity, {
    lookup: how.lookup,
    sign: options.sign,
    idleTimeoutMs: options.idleTimeoutMs,
    once: options.once,
    acceptReceiver: allowed === undefined ? undefined : (receiver) => {
      if (!allowed.has(toHex(receiver.fingerprint))) {
        throw new SfsError("REFUSED", "These files are not shared with your key");
      }
    },
    onStart: (peer, shared, receiver) => {
      out.event("start", {
        peer,
        receiver: formatFingerprint(receiver.fingerprint),
        name: shared.name,
      });
      progress.start(`→ ${peer}`, shared.size);
    },
    onProgress: (_peer, sent) => progress.update(sent),
    onSent: async (peer, result, last) => {
      progress.finish();
      out.event("sent", {
        peer,
        receiver: formatFingerprint(result.receiver.fingerprint),
        bytes: result.bytesSent,
      });
      out.note(
        `Sent "${result.file.name}" to ${peer} (${formatFingerprint(result.receiver.fingerprint)})`,
      );
      // The process is about to stop serving: take the files off the index, not just offline.
      if (last) await how.onceDone();
    },
    onFailed: (peer, e) => {
      progress.finish();
      out.event("transfer_failed", { peer, code: e.code, message: e.message });
      out.warn(`Transfer to ${peer} failed: ${e.message}`);
    },
  });
}
