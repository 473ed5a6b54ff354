/**
 * Serving shared files to every receiver that connects: the accept loop, admission limits and
 * per-transfer outcomes. Printing is left to the caller's callbacks.
 */
import { SfsError } from "../errors.ts";
import type { Identity, PublicIdentity } from "../crypto/identity.ts";
import type { SignaturePolicy } from "../crypto/sign.ts";
import type { AdmissionLimits } from "../net/admission.ts";
import { AcceptLoop, type Admitted } from "../net/listener.ts";
import { type ServeOptions, type ServeResult, serveTransfer } from "./sender.ts";

/** Default limits: transfers at work, and connections that have not proved their keys yet. */
export const DEFAULT_SERVE_LIMITS: AdmissionLimits = { maxPending: 64, maxActive: 32 };

/** Where each transfer's progress and outcome are reported; `peer` is its remote address. */
export interface ServeEvents {
  /** `firstByte` is where the transfer starts: above 0 when the receiver resumes. */
  onStart?: (
    peer: string,
    file: ServeResult["file"],
    receiver: PublicIdentity,
    firstByte: number,
  ) => void;
  onProgress?: (peer: string, sentBytes: number) => void;
  /** `last` is true for the transfer that ends a `once` share (the listener is closed). */
  onSent?: (peer: string, result: ServeResult, last: boolean) => void | Promise<void>;
  onFailed?: (peer: string, error: SfsError) => void;
}

/** Options of {@link serveFiles}. */
export interface ServeFilesOptions extends ServeEvents {
  lookup: ServeOptions["lookup"];
  /** Throws SfsError REFUSED to turn a receiver away. */
  acceptReceiver?: ServeOptions["acceptReceiver"];
  sign?: SignaturePolicy;
  idleTimeoutMs?: number;
  /** Stop accepting after the first successful transfer. @default false */
  once?: boolean;
  /** Stops accepting when aborted (Ctrl-C); transfers in flight go on. */
  stop?: AbortSignal;
  /** Admission limits. @default DEFAULT_SERVE_LIMITS */
  limits?: AdmissionLimits;
  /** Deadline for a connection's handshake. @default HANDSHAKE_TIMEOUT_MS (net/listener.ts) */
  handshakeTimeoutMs?: number;
}

/**
 * Serves receivers until the listener is closed, or with `once` until one transfer succeeded;
 * then waits for transfers still running. A receiver over the active limit is told BUSY; a
 * flood of connections that never prove their keys only pushes out one another.
 */
export async function serveFiles(
  listener: Deno.Listener<Deno.TcpConn>,
  identity: Identity,
  options: ServeFilesOptions,
): Promise<void> {
  let finished = false;
  const loop: AcceptLoop = new AcceptLoop(listener, async (connection) => {
    const { peer } = connection;
    let result: ServeResult;
    try {
      result = await serveOne(connection, identity, options);
    } catch (err) {
      options.onFailed?.(
        peer,
        err instanceof SfsError ? err : new SfsError("INTERNAL", String(err), { cause: err }),
      );
      return;
    }
    const last = options.once === true && !finished;
    if (last) {
      finished = true;
      loop.close();
    }
    await options.onSent?.(peer, result, last);
  }, {
    limits: options.limits ?? DEFAULT_SERVE_LIMITS,
    handshakeTimeoutMs: options.handshakeTimeoutMs,
    busy,
  });
  // The loop, not just the listener, is closed: a connection accepted in the same turn is
  // closed instead of served.
  const stop = () => loop.close();
  options.stop?.addEventListener("abort", stop, { once: true });
  if (options.stop?.aborted) stop();
  await loop.accepting;
  options.stop?.removeEventListener("abort", stop);
  // With `once`, let any other transfer in flight finish rather than cut it off.
  await loop.settled();
}

/** One transfer on an accepted connection, its admission steps wired into the handshake. */
function serveOne(
  connection: Admitted,
  identity: Identity,
  options: ServeFilesOptions,
): Promise<ServeResult> {
  const { peer } = connection;
  return serveTransfer(connection.conn, identity, {
    lookup: options.lookup,
    sign: options.sign,
    idleTimeoutMs: options.idleTimeoutMs,
    // Every slot is taken by a proven receiver: say so now, in the clear, and spare the RSA
    // work of a reply. It comes before anything is known of the receiver (§6.6).
    admit: () => connection.refuseIfFull(),
    acceptReceiver: options.acceptReceiver,
    // Until its GET arrived after its verified signatures, the connection stays pending (evicted
    // oldest first, the deadline running): a connection that only sent a HELLO proved nothing.
    admitProven: () => connection.prove(),
    onStart: (file, receiver, firstByte) => options.onStart?.(peer, file, receiver, firstByte),
    onProgress: (sent) => options.onProgress?.(peer, sent),
  });
}

function busy(): SfsError {
  return new SfsError("BUSY", "The sender is serving as many receivers as it can", {
    hint: "Try again in a moment",
  });
}
