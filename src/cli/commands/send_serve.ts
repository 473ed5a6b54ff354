/** The serving side of `sfs send`: the listener, and progress and outcomes per receiver. */
import { SfsError } from "../../errors.ts";
import type { Bytes } from "../../crypto/bytes.ts";
import { toBase64, toHex } from "../../crypto/bytes.ts";
import { formatFingerprint, type Identity } from "../../crypto/identity.ts";
import type { SignaturePolicy } from "../../crypto/sign.ts";
import type { Shared } from "../../peer/sender.ts";
import { encodeMessage } from "../../wire/messages.ts";
import { encodeReceiptFile } from "../../peer/receipt.ts";
import { serveFiles, type ServeFilesOptions } from "../../peer/serve.ts";
import type { Output } from "../output.ts";
import { progressFor, type ProgressRow, type RowOptions } from "../progress.ts";
import { PeerBook, type PeerView, viewFields } from "./send_peers.ts";
import type { RelayedInbox } from "./send_relayed.ts";

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
    lookup: (id: Bytes) => Shared | undefined;
    allowed?: ReadonlySet<string>;
    onceDone: () => Promise<void>;
    /** Stops accepting when aborted (Ctrl-C). */
    stop?: AbortSignal;
    /** Who the receivers are (usernames, relayed connections). @default an empty book */
    peers?: PeerBook;
    /** Connections the relay brings, served like accepted ones and marked relayed. */
    relayed?: RelayedInbox;
  },
): Promise<void> {
  const allowed = how.allowed;
  const peers = how.peers ?? new PeerBook();
  await serveFiles(listener, identity, {
    lookup: how.lookup,
    sign: options.sign,
    idleTimeoutMs: options.idleTimeoutMs,
    once: options.once,
    stop: how.stop,
    adopt: (adopt) => how.relayed?.attach(adopt, peers),
    acceptReceiver: allowed === undefined ? undefined : (receiver) => {
      if (!allowed.has(toHex(receiver.fingerprint))) {
        throw new SfsError("REFUSED", "These files are not shared with your key");
      }
    },
    ...transferEvents(out, peers, how.onceDone),
  });
}

type TransferEvents = Pick<ServeFilesOptions, "onStart" | "onProgress" | "onSent" | "onFailed">;

/** The progress lines, events and notes of each receiver's transfer, from start to outcome. */
function transferEvents(
  out: Output,
  peers: PeerBook,
  onceDone: () => Promise<void>,
): TransferEvents {
  const board = progressFor(out);
  // One line per receiver in flight, keyed by its connection: two receivers never share one.
  const rows = new Map<string, ProgressRow>();
  /** Peers whose transfer started: one that leaves before asking is no failed transfer. */
  const started = new Set<string>();
  return {
    onStart: (peer, shared, receiver, firstByte) => {
      const view = peers.view(peer, receiver.fingerprint);
      started.add(peer);
      out.event("start", {
        peer,
        receiver: formatFingerprint(receiver.fingerprint),
        name: shared.name,
        ...viewFields(view),
      });
      rows.get(peer)?.remove();
      rows.set(peer, board.add(receiverRow(peer, shared, firstByte, view)));
    },
    onProgress: (peer, sent) => rows.get(peer)?.update(sent),
    onSent: async (peer, result, last) => {
      rows.get(peer)?.finish();
      rows.delete(peer);
      const view = peers.view(peer, result.receiver.fingerprint);
      started.delete(peer);
      peers.forget(peer);
      out.event("sent", {
        peer,
        receiver: formatFingerprint(result.receiver.fingerprint),
        bytes: result.bytesSent,
        // The receiver's signed proof of delivery (§7.9): the RECEIPT body, and its stored form
        // (the receiver's public identity in front), which anyone can check offline.
        receipt: toBase64(encodeMessage(result.receipt)),
        receipt_file: toBase64(encodeReceiptFile(result.receiver.encoded, result.receipt)),
        ...viewFields(view),
      });
      out.note(
        `Sent "${result.file.name}" to ${view.label} (${
          formatFingerprint(result.receiver.fingerprint)
        })`,
      );
      // The process is about to stop serving: take the files off the index, not just offline.
      if (last) await onceDone();
    },
    onFailed: (peer, e) => {
      // Its line goes before the warning, which says how it ended.
      rows.get(peer)?.remove();
      rows.delete(peer);
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
  };
}

/**
 * The progress line of one receiver, named as `view` shows it (its index username when known,
 * "relayed" for a connection through the relay, else its address); a resumed transfer's rate
 * counts only what this connection sends.
 */
export function receiverRow(
  peer: string,
  file: Shared,
  firstByte: number,
  view: Pick<PeerView, "label" | "route">,
): RowOptions {
  return {
    label: `→ ${view.label} ${file.name}`,
    total: file.size,
    from: firstByte,
    fields: { phase: "transfer", peer, name: file.name, route: view.route },
  };
}
