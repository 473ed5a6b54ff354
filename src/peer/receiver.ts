/**
 * The receiving side of a transfer: fetch, verify and store one file (docs/PROTOCOL.md §7).
 *
 * A fetch chooses where to start (receiver_start.ts: resume an interrupted run, under the
 * target's lock), receives the chunks (receiver_stream.ts) and checks the whole file before
 * publishing it (receiver_verify.ts).
 */
import { join } from "../path.ts";
import { SfsError } from "../errors.ts";
import { fromFolderError } from "../os_error.ts";
import { constantTimeEqual } from "../crypto/bytes.ts";
import { createSha256 } from "../crypto/sha256.ts";
import { formatFingerprint, type Identity } from "../crypto/identity.ts";
import type { SignaturePolicy } from "../crypto/sign.ts";
import { type Channel } from "../wire/channel.ts";
import { initiate } from "../wire/handshake_initiator.ts";
import { TRANSFER_RECORDS } from "../wire/handshake_shared.ts";
import { closeQuietly } from "../closable.ts";
import type { Transport } from "../wire/frame.ts";
import { type Get, MessageType, type TreeGet } from "../wire/messages.ts";
import type { Connect, FetchOptions, FetchResult, Handshake } from "./receiver_options.ts";
import {
  chooseStart,
  openPart,
  releaseStart,
  requestManifest,
  type Start,
  START_OVER,
} from "./receiver_start.ts";
import { checkManifest, receiveAndPublish } from "./receiver_verify.ts";
import { verifyFileManifest } from "./file_manifest.ts";
import { refuseExistingProof } from "./file_proof.ts";
import { safeFileName } from "./names.ts";
import {
  chooseTreeStart,
  releaseTreeStart,
  treeGetOf,
  type TreeResume,
} from "./tree_receiver_start.ts";

export type { Connect, FetchOptions, FetchResult, Handshake } from "./receiver_options.ts";

/** Fetches one file over `transport`: nothing appears under its final name unless every check passed. */
export function fetchFile(
  transport: Transport,
  identity: Identity,
  options: FetchOptions,
): Promise<FetchResult> {
  return fetchFileVia((handshake) => handshake(transport, () => {}), identity, options);
}

/**
 * Fetches one file over the channel `connect` opens (one connection, or the winner of a race of
 * candidates, §10.1): nothing appears under its final name unless every check passed.
 */
export async function fetchFileVia(
  connect: Connect,
  identity: Identity,
  options: FetchOptions,
): Promise<FetchResult> {
  const require = options.require ?? "both";
  // Where to start (a resume point) is chosen for the expected sender before connecting: the GET
  // asking for it rides in the handshake's third flight (§6.4), which only a sender holding that
  // key ever gets to read. A ticket does not say whether it names a file or a tree; an
  // interrupted tree download of this share does (F7.3), and asks with TREE_GET.
  const folderError = async (err: unknown) => {
    throw await fromFolderError(err, options.outDir) ?? err;
  };
  const tree = await chooseTreeStart(options, options.expectedFingerprint).catch(folderError);
  const start: Start = tree
    ? { sender: options.expectedFingerprint }
    : await chooseStart(options, options.expectedFingerprint).catch(folderError);
  const request: Get | TreeGet = tree ? treeGetOf(options.fileId, tree) : {
    type: MessageType.GET,
    fileId: options.fileId,
    offset: start.resumable?.offset ?? 0,
  };
  const channel = await connect(senderHandshake(identity, options, request)).catch(async (err) => {
    await releaseStart(start);
    await releaseTreeStart(tree);
    throw err;
  });
  // Closing the connection ends every wait on it; what was verified until then is kept.
  const stop = () => channel.close();
  options.signal?.addEventListener("abort", stop, { once: true });
  if (options.signal?.aborted) stop();
  let outcome: FetchResult | typeof START_OVER;
  try {
    outcome = await fetchOnChannel(channel, { start, tree }, { ...options, identity }, require);
  } catch (err) {
    // OS errors get their code here (a full disk, --out a file), not INTERNAL; the sender is
    // told only the code (channel.fail), never a local path.
    const failure = await fromFolderError(err, options.outDir) ??
      new SfsError("INTERNAL", "Receiving failed", { cause: err });
    await channel.fail(failure);
    throw failure;
  } finally {
    options.signal?.removeEventListener("abort", stop);
    channel.close();
    await releaseTreeStart(tree);
  }
  if (outcome !== START_OVER) return outcome;
  // The sender refused our resume point and the saved progress is gone: ask again from byte 0
  // (fetchOnChannel starts over only when it can reconnect).
  return await fetchFileVia(options.reconnect!, identity, { ...options, reconnect: undefined });
}

/**
 * The receiver's handshake (§6) on one connection: the sender must present the expected key.
 * Only then is `claim` called, and only a connection that won the race goes on to reveal the
 * receiver's identity and its GET (flight 3); the others close having sent only their HELLO.
 * A connection stopped by the caller's signal meanwhile is closed, which ends the handshake.
 */
function senderHandshake(
  identity: Identity,
  options: FetchOptions,
  get: Get | TreeGet,
): Handshake {
  const require = options.require ?? "both";
  return async (transport, claim) => {
    const stop = () => closeQuietly(transport);
    options.signal?.addEventListener("abort", stop, { once: true });
    if (options.signal?.aborted) stop();
    try {
      return await initiateWithSender(transport, identity, { options, require, claim, get });
    } finally {
      options.signal?.removeEventListener("abort", stop);
    }
  };
}

async function initiateWithSender(
  transport: Transport,
  identity: Identity,
  how: { options: FetchOptions; require: SignaturePolicy; claim: () => void; get: Get | TreeGet },
): Promise<Channel> {
  const { options, require } = how;
  return await initiate(transport, identity, {
    require,
    idleTimeoutMs: options.idleTimeoutMs,
    peerName: "sender",
    recordHint: TRANSFER_RECORDS,
    early: how.get,
    onResponderProven: how.claim,
    verifyResponder: (sender) => {
      if (!constantTimeEqual(sender.fingerprint, options.expectedFingerprint)) {
        throw new SfsError(
          "KEY_MISMATCH",
          `The sender's key ${formatFingerprint(sender.fingerprint)} is not the expected ${
            formatFingerprint(options.expectedFingerprint)
          }`,
          { hint: "Someone may be intercepting the connection; nothing was downloaded" },
        );
      }
    },
  }).catch((err) => {
    closeQuietly(transport);
    throw err;
  });
}

/**
 * One attempt on an open channel; START_OVER when it must be made again from byte 0. The reply
 * says what the share is: MANIFEST for a file, TREE_MANIFEST for a tree (F5.1).
 */
async function fetchOnChannel(
  channel: Channel,
  starts: { start: Start; tree?: TreeResume },
  options: FetchOptions & { identity: Identity },
  require: SignaturePolicy,
): Promise<FetchResult | typeof START_OVER> {
  const sender = channel.peer.fingerprint;
  const { start, tree } = starts;
  try {
    const manifest = await requestManifest(channel, start, tree, options);
    if (manifest === START_OVER) return START_OVER;
    if (manifest.type === MessageType.TREE_MANIFEST) {
      // A single-file resume of the same id cannot be (ids commit to a file or a manifest).
      await releaseStart(start);
      // Loaded only for a tree: a single file never needs the folder-receiving modules.
      const trees = await import("./tree_receiver.ts");
      const result = await trees.receiveTree(channel, manifest, tree, { ...options, require });
      return result === trees.TREE_START_OVER ? START_OVER : result;
    }
    if (tree) throw new SfsError("BAD_MESSAGE", "The sender answered with a file, not a folder");
    await checkManifest(manifest, options, sender, start.resumable?.offset ?? 0);
    // The owner's signature over the one-entry manifest (F5.2), before any byte is written; it
    // is what the proof of origin keeps. Names no manifest can hold come without one.
    const fileManifest = await verifyFileManifest(channel.peer, manifest);
    const proof = fileManifest !== undefined && (options.proof ?? true);
    if (proof) {
      await refuseExistingProof(join(options.outDir, safeFileName(manifest.name)), !!options.force);
    }
    const hasher = await createSha256({ bytes: manifest.size });
    const part = await openPart(start, manifest, options, hasher);
    if (part === START_OVER) return START_OVER;
    return await receiveAndPublish(channel, part, manifest, hasher, {
      ...options,
      require,
      fileManifest: proof ? fileManifest : undefined,
    });
  } finally {
    await releaseStart(start);
  }
}
