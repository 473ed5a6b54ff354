/** The serving side of `sfs send`: the listener, and progress and outcomes per receiver. */
import { SfsError } from "../../errors.ts";
import type { Bytes } from "../../crypto/bytes.ts";
import { toHex } from "../../crypto/bytes.ts";
import { formatFingerprint, type Identity } from "../../crypto/identity.ts";
import type { SignaturePolicy } from "../../crypto/sign.ts";
import type { SharedFile } from "../../peer/sender.ts";
import { serveFiles } from "../../peer/serve.ts";
import type { Output } from "../output.ts";
import { Progress } from "../progress.ts";
import { PeerBook, viewFields } from "./send_peers.ts";

/** How `sfs send` serves. */
export interface ServeOptions {
  sign?: SignaturePolicy;
  idleTimeoutMs?: number;
  /** Stop after the first successful transfer. @default false */
  once?: boolean;
}

/** Serves receivers, showing progress and outcomes; with `once`, until one transfer succeeded. */
export async function serve(
  listener: Deno.TcpListener,
  identity: Identity,
  options: ServeOptions,
  out: Output,
  how: {
    lookup: (id: Bytes) => SharedFile | undefined;
    allowed?: ReadonlySet<string>;
    onceDone: () => Promise<void>;
    /** Who the receivers are (usernames, relayed connections). @default an empty book */
    peers?: PeerBook;
  },
): Promise<void> {
  const progress = new Progress({ quiet: out.quiet || out.json });
  const allowed = how.allowed;
  const peers = how.peers ?? new PeerBook();
  /** Peers whose transfer started: one that leaves before asking is no failed transfer. */
  const started = new Set<string>();
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
      const view = peers.view(peer, receiver.fingerprint);
      started.add(peer);
      out.event("start", {
        peer,
        receiver: formatFingerprint(receiver.fingerprint),
        name: shared.name,
        ...viewFields(view),
      });
      progress.start(`→ ${view.label}`, shared.size);
    },
    onProgress: (_peer, sent) => progress.update(sent),
    onSent: async (peer, result, last) => {
      progress.finish();
      const view = peers.view(peer, result.receiver.fingerprint);
      started.delete(peer);
      peers.forget(peer);
      out.event("sent", {
        peer,
        receiver: formatFingerprint(result.receiver.fingerprint),
        bytes: result.bytesSent,
        ...viewFields(view),
      });
      out.note(
        `Sent "${result.file.name}" to ${view.label} (${
          formatFingerprint(result.receiver.fingerprint)
        })`,
      );
      // The process is about to stop serving: take the files off the index, not just offline.
      if (last) await how.onceDone();
    },
    onFailed: (peer, e) => {
      progress.finish();
      const view = peers.view(peer);
      const wasStarted = started.delete(peer);
      peers.forget(peer);
      out.event("transfer_failed", { peer, code: e.code, message: e.message, ...viewFields(view) });
      // A receiver racing several of our addresses closes the ones that lost (§10.1): a
      // connection closed before any file was asked for is worth a note, not a warning.
      if (!wasStarted && e.code === "CONNECTION_CLOSED") {
        out.note(`${view.label} connected and left before asking for a file`);
      } else out.warn(`Transfer to ${view.label} failed: ${e.message}`);
    },
  });
}
