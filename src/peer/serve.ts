/**
 * Serving shared files to every receiver that connects: the accept loop, admission limits and
 * per-transfer outcomes. Printing is left to the caller's callbacks.
 */
import { SfsError } from "../errors.ts";
import type { Identity, PublicIdentity } from "../crypto/identity.ts";
import type { SignaturePolicy } from "../crypto/sign.ts";
import { Admission, type AdmissionLimits } from "../wire/admission.ts";
import { closeQuietly } from "../wire/frame.ts";
import { type ServeOptions, type ServeResult, serveTransfer } from "./sender.ts";

/** Default limits: transfers at work, and connections that have not proved their keys yet. */
export const DEFAULT_SERVE_LIMITS: AdmissionLimits = { maxPending: 64, maxActive: 32 };
/**
 * A connection must finish its handshake and prove its keys (send a GET that opens) within this
 * time; a receiver does both in milliseconds.
 */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Where each transfer's progress and outcome are reported; `peer` is its remote address. */
export interface ServeEvents {
  onStart?: (peer: string, file: ServeResult["file"], receiver: PublicIdentity) => void;
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
  /** Admission limits. @default DEFAULT_SERVE_LIMITS */
  limits?: AdmissionLimits;
  /** Deadline for a connection's handshake. @default HANDSHAKE_TIMEOUT_MS */
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
  const admission = new Admission<Deno.TcpConn>(options.limits ?? DEFAULT_SERVE_LIMITS);
  const transfers = new Set<Promise<void>>();
  let finished = false;
  for await (const conn of acceptAll(listener)) {
    admission.admit(conn);
    conn.setNoDelay(true);
    const address = conn.remoteAddr as Deno.NetAddr;
    const peer = address.hostname.includes(":")
      ? `[${address.hostname}]:${address.port}`
      : `${address.hostname}:${address.port}`;
    let proven = false;
    const deadline = setTimeout(() => {
      if (!proven) closeQuietly(conn);
    }, options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS);
    const transfer = serveTransfer(conn, identity, {
      lookup: options.lookup,
      sign: options.sign,
      idleTimeoutMs: options.idleTimeoutMs,
      acceptReceiver: async (receiver) => {
        await options.acceptReceiver?.(receiver);
        // Every slot is taken by a proven receiver: say so now, in the clear, and spare the
        // RSA work of a reply.
        if (admission.full) throw busy();
      },
      // A HELLO with a copied public key is only a claim: the connection stays pending (evicted
      // oldest first, the deadline running) until its GET opened under the session keys.
      admitProven: () => {
        if (!admission.promote(conn)) throw busy();
        proven = true;
        clearTimeout(deadline);
      },
      onStart: (file, receiver) => options.onStart?.(peer, file, receiver),
      onProgress: (sent) => options.onProgress?.(peer, sent),
    }).then(async (result) => {
      const last = options.once === true && !finished;
      if (last) {
        finished = true;
        listener.close();
      }
      await options.onSent?.(peer, result, last);
    }, (err) => {
      options.onFailed?.(
        peer,
        err instanceof SfsError ? err : new SfsError("INTERNAL", String(err), { cause: err }),
      );
    }).finally(() => {
      clearTimeout(deadline);
      admission.release(conn);
      transfers.delete(transfer);
    });
    transfers.add(transfer);
  }
  // With `once`, let any other transfer in flight finish rather than cut it off.
  await Promise.allSettled([...transfers]);
}

function busy(): SfsError {
  return new SfsError("BUSY", "The sender is serving as many receivers as it can", {
    hint: "Try again in a moment",
  });
}

/** Accepted connections until the listener is closed; a failed accept does not end the loop. */
async function* acceptAll(listener: Deno.Listener<Deno.TcpConn>): AsyncGenerator<Deno.TcpConn> {
  for (;;) {
    try {
      yield await listener.accept();
    } catch (err) {
      if (err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted) return;
      // Out of file descriptors and the like: back off briefly instead of spinning.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
