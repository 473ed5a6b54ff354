/**
 * The receiving side of a transfer: fetch, verify and store one file (docs/PROTOCOL.md §7).
 *
 * A fetch chooses where to start (receiver_start.ts: resume an interrupted run, under the
 * target's lock), receives the chunks (receiver_stream.ts) and checks the whole file before
 * publishing it (receiver_verify.ts).
 */
import { SfsError } from "../errors.ts";
import { fromFolderError } from "../os_error.ts";
import { constantTimeEqual } from "../crypto/bytes.ts";
import { createSha256 } from "../crypto/sha256.ts";
import { formatFingerprint, type Identity } from "../crypto/identity.ts";
import type { SignaturePolicy } from "../crypto/sign.ts";
import { type Channel } from "../wire/channel.ts";
import { initiate } from "../wire/handshake.ts";
import { closeQuietly } from "../closable.ts";
import type { Transport } from "../wire/frame.ts";
import { type Get, MessageType } from "../wire/messages.ts";
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
  // key ever gets to read.
  const start = await chooseStart(options, options.expectedFingerprint).catch(async (err) => {
    throw await fromFolderError(err, options.outDir) ?? err;
  });
  const get: Get = {
    type: MessageType.GET,
    fileId: options.fileId,
    offset: start.resumable?.offset ?? 0,
  };
  const channel = await connect(senderHandshake(identity, options, get)).catch(async (err) => {
    await releaseStart(start);
    throw err;
  });
  // Closing the connection ends every wait on it; what was verified until then is kept.
  const stop = () => channel.close();
  options.signal?.addEventListener("abort", stop, { once: true });
  if (options.signal?.aborted) stop();
  let outcome: FetchResult | typeof START_OVER;
  try {
    outcome = await fetchOnChannel(channel, start, options, require);
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
function senderHandshake(identity: Identity, options: FetchOptions, get: Get): Handshake {
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
  how: { options: FetchOptions; require: SignaturePolicy; claim: () => void; get: Get },
): Promise<Channel> {
  const { options, require } = how;
  return await initiate(transport, identity, {
    require,
    idleTimeoutMs: options.idleTimeoutMs,
    peerName: "sender",
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

/** One attempt on an open channel; START_OVER when it must be made again from byte 0. */
async function fetchOnChannel(
  channel: Channel,
  start: Start,
  options: FetchOptions,
  require: SignaturePolicy,
): Promise<FetchResult | typeof START_OVER> {
  const sender = channel.peer.fingerprint;
  try {
    const manifest = await requestManifest(channel, start, options);
    if (manifest === START_OVER) return START_OVER;
    await checkManifest(manifest, options, sender, start.resumable?.offset ?? 0);
    const hasher = await createSha256({ bytes: manifest.size });
    const part = await openPart(start, manifest, options, hasher);
    if (part === START_OVER) return START_OVER;
    return await receiveAndPublish(channel, part, manifest, hasher, { ...options, require });
  } finally {
    await releaseStart(start);
  }
}
