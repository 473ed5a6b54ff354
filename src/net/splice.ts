/**
 * Copying bytes between two connections, both ways, without looking at them: the relay's data
 * path (docs/PROTOCOL.md §13.6). Each direction reads into one of two large buffers while the
 * other is being written, so a read and a write are in flight at once, yet no more than two
 * buffers per direction are ever held: a slow reader on one side slows the writer on the other
 * (backpressure), and nothing is copied between buffers.
 *
 * An end of stream on one side is passed on as a half close (closeWrite) and the other direction
 * goes on until it ends too, as TCP proxies do; an error on either side, or silence both ways for
 * the idle timeout, closes both.
 */
import { closeQuietly } from "../closable.ts";

/** Bytes per read buffer; two per direction. */
export const SPLICE_BUFFER_BYTES = 256 * 1024;
/** Default idle timeout: no byte either way this long closes both sides. */
export const DEFAULT_SPLICE_IDLE_MS = 60_000;

/** One side of a splice: a Deno.Conn fits. */
export interface SpliceEnd {
  read(buffer: Uint8Array): Promise<number | null>;
  write(data: Uint8Array): Promise<number>;
  close(): void;
  closeWrite?(): Promise<void>;
}

/** Options of {@link splice}. */
export interface SpliceOptions {
  /** Silence both ways this long closes both sides. @default 60000 */
  idleTimeoutMs?: number;
  /** Bytes per read buffer. @default SPLICE_BUFFER_BYTES */
  bufferBytes?: number;
  /** Closes both sides when aborted (server shutdown). */
  signal?: AbortSignal;
}

/** What a finished splice moved, and why it ended. */
export interface SpliceResult {
  /** Bytes copied from `a` to `b`. */
  readonly aToB: number;
  /** Bytes copied from `b` to `a`. */
  readonly bToA: number;
  /** `closed`: both sides ended; `idle`: the idle timeout; `error`: a read or write failed. */
  readonly reason: "closed" | "idle" | "error" | "aborted";
}

/** Copies bytes both ways until both directions ended; always closes both sides. */
export async function splice(
  a: SpliceEnd,
  b: SpliceEnd,
  options: SpliceOptions = {},
): Promise<SpliceResult> {
  const idleMs = options.idleTimeoutMs ?? DEFAULT_SPLICE_IDLE_MS;
  const size = options.bufferBytes ?? SPLICE_BUFFER_BYTES;
  let lastActivity = Date.now();
  let reason: SpliceResult["reason"] | undefined;
  const stop = (why: SpliceResult["reason"]) => {
    reason ??= why;
    closeQuietly(a);
    closeQuietly(b);
  };
  const touch = () => lastActivity = Date.now();
  // Checked a few times per timeout rather than re-armed on every read: cheap on the hot path.
  const idleTimer = setInterval(() => {
    if (Date.now() - lastActivity >= idleMs) stop("idle");
  }, Math.max(10, Math.min(1000, idleMs / 4)));
  const onAbort = () => stop("aborted");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const forward = pump(a, b, size, touch);
  const backward = pump(b, a, size, touch);
  const [there, back] = await Promise.all([
    forward.catch(() => (stop("error"), forward.bytes)),
    backward.catch(() => (stop("error"), backward.bytes)),
  ]);
  clearInterval(idleTimer);
  options.signal?.removeEventListener("abort", onAbort);
  stop("closed");
  return { aToB: there, bToA: back, reason: reason ?? "closed" };
}

/** A direction being copied; `bytes` counts what was written so far. */
interface Pump extends Promise<number> {
  bytes: number;
}

/** Copies `src` to `dst` until `src` ends, then half-closes `dst`; resolves to the byte count. */
function pump(
  src: SpliceEnd,
  dst: SpliceEnd,
  size: number,
  touch: () => void,
): Pump {
  const state = { bytes: 0 };
  const run = async (): Promise<number> => {
    const buffers = [new Uint8Array(size), new Uint8Array(size)];
    let turn = 0;
    let writing: Promise<void> = Promise.resolve();
    for (;;) {
      // This buffer's last write was awaited one turn ago, so it is free to fill.
      const buffer = buffers[turn];
      turn ^= 1;
      const n = await src.read(buffer);
      if (n === null) break;
      touch();
      await writing;
      writing = writeAll(dst, buffer.subarray(0, n)).then(() => {
        state.bytes += n;
        touch();
      });
      // Awaited on the next turn; marked handled so a read failing first does not leave it
      // as an unhandled rejection.
      writing.catch(() => {});
    }
    await writing;
    // The other side may still be sending: pass the end on and let that direction finish.
    await dst.closeWrite?.().catch(() => {});
    return state.bytes;
  };
  const promise = run() as Pump;
  Object.defineProperty(promise, "bytes", { get: () => state.bytes });
  return promise;
}

async function writeAll(dst: SpliceEnd, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) offset += await dst.write(data.subarray(offset));
}
