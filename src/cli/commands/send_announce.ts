/**
 * The index side of `sfs send`: check the `--to` users' keys, sign one announcement per file,
 * and keep them announced with heartbeats.
 */
import { codeInfo, SfsError } from "../../errors.ts";
import { type Bytes, toHex } from "../../crypto/bytes.ts";
import type { Identity, PublicIdentity } from "../../crypto/identity.ts";
import {
  decodeAnnouncement,
  signAnnouncement,
  type SignedAnnouncement,
} from "../../index/protocol/announcement.ts";
import type { IndexClient } from "../../index/client/client.ts";
import {
  type RelayedConnectionInfo,
  type ShareRelayOptions,
  ShareSession,
  type ShareSessionOptions,
} from "../../index/client/sharing.ts";
import { validateUsername } from "../../index/protocol/usernames.ts";
import type { CodeMail } from "../../wire/index_messages.ts";
import type { Shared } from "../../peer/sender.ts";
import type { RelayHint } from "../../peer/ticket.ts";
import type { IndexTarget } from "../settings/config.ts";
import { connectIndex, type IndexFlags, openIndex } from "../index_connect.ts";
import { CodeShareSession } from "../../index/client/code_share.ts";
import type { Output } from "../output.ts";
import { readServers, trustUser } from "../settings/pins.ts";
import { connect as connectTcp } from "../../net/connect.ts";
import { parseFingerprint } from "../../crypto/identity.ts";

/** What {@link announce} needs from the command line. */
export interface AnnounceOptions extends IndexFlags {
  home: string;
}

/** What `send` does with the index session: a ShareSession, or a code's without an account. */
export type SharingSession = Pick<
  ShareSession,
  "relayTokenFor" | "codeChannel" | "unshare" | "close"
>;

/** The index side of a share: the session to keep alive and who may fetch. */
export interface Announced {
  readonly target: IndexTarget;
  /** The account announcing; empty for a code's share without one (§14.5, open mode). */
  readonly user: string;
  readonly session: SharingSession;
  /** Fingerprints (hex) of the `--to` users; undefined when everyone may fetch. */
  readonly allowed?: ReadonlySet<string>;
  /** False when the index could not be reached at first; the session keeps trying. */
  readonly online: boolean;
  /** The `--to` users' names by hex fingerprint, to name receivers in progress lines. */
  readonly names: ReadonlyMap<string, string>;
  /** A ticket's relay hint for a file (§10): undefined while the index relays nothing for it. */
  readonly relayHint: (fileId: Bytes) => RelayHint | undefined;
}

/** What to announce, where. */
export interface ShareToAnnounce {
  target: IndexTarget;
  identity: Identity;
  /** The shares; a tree is announced with its share id, manifest hash and total (§7.7). */
  files: Shared[];
  /** The direct candidates `HOST:PORT` receivers connect to, in order (1 to 8, §10.1). */
  addresses: string[];
  keywords: string[];
  recipients: string[];
  /** Told the hex id of each file the owner unshared meanwhile. */
  onWithdrawn: (id: string) => void;
  /**
   * Serves a connection the index server's relay brought (§13.5), like one accepted from a
   * receiver; it owns the connection.
   */
  onRelayed: (conn: Deno.TcpConn, info: RelayedConnectionInfo) => void;
  /**
   * A short code's share (§14.4): listed for the owner alone (the code's receiver fetches by
   * ticket, whose relay token needs no listing), or, with no user configured, announced nowhere
   * (open mode, §14.5); CODE_MAIL pushes go here.
   */
  code?: { onCodeMail: (mail: CodeMail) => void; onLost?: (error: SfsError) => void };
}

/**
 * Signs every file's announcement, connects to the index, fetches and checks the `--to` users'
 * keys, announces and starts the heartbeats. When the index cannot be reached and everyone may
 * fetch, sharing goes on by ticket: a warning (the hint names `--no-index`), and the session
 * keeps trying in the background with bounded backoff. With `--to` it cannot: the index alone
 * says which keys may fetch, so an unreachable index is an error.
 */
export async function announce(
  options: AnnounceOptions,
  out: Output,
  share: ShareToAnnounce,
): Promise<Announced> {
  const { target, identity } = share;
  const open = () =>
    openIndex(options.home, target, identity, { flags: options, out, requireUser: true });
  if (target.user === undefined && share.code !== undefined) {
    return await codeWithoutAccount(options, out, share, share.code);
  }
  if (target.user === undefined) {
    throw new SfsError("USAGE", `No user is configured for index server ${target.server}`, {
      hint: "Run sfs register or sfs login first, or pass --no-index to share by ticket",
    });
  }
  const user = validateUsername(target.user);
  const announcements = await signAll(identity, user, share);
  let firstClient: IndexClient | undefined;
  try {
    firstClient = await open();
  } catch (err) {
    if (!isUnreachable(err) || share.recipients.length > 0) throw err;
    reportUnreachable(out, target, err as SfsError);
    const session = ShareSession.startOffline(sessionOptions(out, share, announcements, open));
    const pinned = (await readServers(options.home)).get(target.server);
    const server = pinned === undefined ? undefined : parseFingerprint(pinned);
    return announced(share, user, session, { online: false, names: new Map(), server });
  }
  let names = new Map<string, string>();
  // The relay hint names the key this connection checked (and pinned), so a ticket holder checks
  // the relay against it before it sends the token (§10).
  const server = firstClient.server.fingerprint;
  try {
    if (share.recipients.length > 0) {
      names = await recipientKeys(options, out, firstClient, target.server, share.recipients);
    }
  } catch (err) {
    firstClient.close();
    throw err;
  }
  const session = await ShareSession.start(
    sessionOptions(out, share, announcements, () => {
      // The connection that fetched the keys announces first; reconnects open new ones.
      const client = firstClient;
      firstClient = undefined;
      return client ? Promise.resolve(client) : open();
    }),
  );
  return announced(share, user, session, { online: true, names, server });
}

/**
 * A code's share without an account (§14.5, a server run with `--codes open`): nothing is
 * announced; an anonymous connection holds the code and, once it is open, the relay token.
 * A server in accounts mode refuses the code itself (AUTH_FAILED, with a hint).
 */
async function codeWithoutAccount(
  options: AnnounceOptions,
  out: Output,
  share: ShareToAnnounce,
  code: NonNullable<ShareToAnnounce["code"]>,
): Promise<Announced> {
  const client = await connectIndex(options.home, share.target, share.identity, {
    flags: options,
    out,
  });
  const session = CodeShareSession.start({
    client,
    fileId: share.files[0].id,
    onCodeMail: code.onCodeMail,
    relay: relayOptions(out, share),
    onLost: (error) => {
      out.event("index", { status: "stopped", code: error.code, message: error.message });
      out.warn(`Lost the connection to ${share.target.server} (${error.message})`);
      // Its codes went with it (§14.5): an exchange waiting for one ends now.
      code.onLost?.(error);
    },
  });
  const state = { online: true, names: new Map(), server: client.server.fingerprint };
  return announced(share, "", session, state);
}

function announced(
  share: ShareToAnnounce,
  user: string,
  session: SharingSession,
  state: { online: boolean; names: Map<string, string>; server?: Bytes },
): Announced {
  const { online, names, server } = state;
  const { target, recipients } = share;
  return {
    target,
    user,
    session,
    online,
    allowed: recipients.length > 0 ? new Set(names.keys()) : undefined,
    names,
    relayHint: (fileId) => {
      // Without the server's key a ticket holder could not check the relay: no hint then.
      const token = server && session.relayTokenFor(fileId);
      return token && {
        host: target.address.host,
        port: target.address.port,
        token,
        fingerprint: server,
      };
    },
  };
}

/** True for a failure to reach the index at all (worth retrying), not for a refusal. */
function isUnreachable(err: unknown): boolean {
  return err instanceof SfsError && codeInfo(err.code).category === "network";
}

function reportUnreachable(out: Output, target: IndexTarget, error: SfsError): void {
  out.event("index", { status: "offline", code: error.code, message: error.message });
  out.warn(
    `Cannot reach index server ${target.server} (${error.message}); sharing by ticket only ` +
      "for now, and announcing there as soon as it answers",
    { hint: "Pass --no-index to share by ticket without an index server" },
  );
}

function sessionOptions(
  out: Output,
  share: ShareToAnnounce,
  announcements: SignedAnnouncement[],
  connect: () => Promise<IndexClient>,
): ShareSessionOptions {
  return {
    connect,
    announcements,
    onWithdrawn: (signed) => share.onWithdrawn(toHex(decodeAnnouncement(signed.bytes).fileId)),
    onStatus: (status, error) => reportStatus(out, share.target, status, error),
    onCodeMail: share.code?.onCodeMail,
    relay: relayOptions(out, share),
  };
}

/** How the share is relayed: the relay listens on the index server's own port (§13). */
function relayOptions(out: Output, share: ShareToAnnounce): ShareRelayOptions {
  return {
    dial: () => connectTcp(share.target.address),
    onRelayedConnection: share.onRelayed,
    onRelayError: (error) => {
      out.event("relay_error", { code: error.code, message: error.message });
      out.warn(`Relaying through ${share.target.server} failed: ${error.message}`);
    },
  };
}

/** Signs one announcement per file, all with the same creation time. */
function signAll(
  identity: Identity,
  user: string,
  share: ShareToAnnounce,
): Promise<SignedAnnouncement[]> {
  const createdAt = Date.now();
  return Promise.all(share.files.map((file) =>
    signAnnouncement(identity, {
      fileId: file.id,
      owner: user,
      ownerFingerprint: identity.public.fingerprint,
      name: file.name,
      size: file.size,
      sha256: file.sha256,
      keywords: share.keywords,
      recipients: share.code !== undefined ? [user] : share.recipients,
      address: share.addresses[0],
      ...(share.addresses.length > 1 ? { alternates: share.addresses.slice(1) } : {}),
      createdAt,
    })
  ));
}

/** Tells the user when the announcements go offline, come back, or stop for good. */
function reportStatus(
  out: Output,
  target: IndexTarget,
  status: "offline" | "online" | "stopped",
  error?: SfsError,
): void {
  out.event("index", { status, code: error?.code, message: error?.message });
  if (status === "online") out.note(`Back online on ${target.server}`);
  else if (status === "offline") {
    out.warn(`Lost the connection to ${target.server} (${error?.message}); reconnecting`);
  } else {
    out.warn(
      `Stopped announcing on ${target.server}: ${error?.message}; direct tickets keep working`,
    );
  }
}

/**
 * The registered keys of the `--to` users, each checked against (or pinned to) known_users: the
 * users by hex fingerprint.
 */
async function recipientKeys(
  options: AnnounceOptions,
  out: Output,
  client: IndexClient,
  server: string,
  recipients: string[],
): Promise<Map<string, string>> {
  const keys = await client.userKeys(recipients);
  const allowed = new Map<string, string>();
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
    allowed.set(toHex(key.fingerprint), name);
  }
  return allowed;
}
