/**
 * Frames (docs/PROTOCOL.md §8): `u32 length ‖ u8 kind ‖ body`, where length counts the kind byte
 * and the body. The reader checks the length against the caller's limit before it allocates.
 * Deadlines keep a peer from holding a connection: every read and every write must make progress
 * within the idle timeout, and a PLAIN or SEALED frame must arrive whole within it once its first
 * byte is in (so trickling one byte at a time does not help). CHUNK frames, up to 4 MiB from the
 * authenticated sender, only need steady progress.
 */
import { clearTimer, setTimer } from "../timer.ts";
import { SfsError } from "../errors.ts";
import type { Bytes } from "../crypto/bytes.ts";
import { closeQuietly } from "../closable.ts";

/** The transport a frame stream runs over; Deno.Conn fits it. */
export interface Transport {
  read(buffer: Uint8Array): Promise<number | null>;
  write(data: Uint8Array): Promise<number>;
  close(): void;
}

/** What the kind byte of a frame says about its body. */
export const FrameKind = {
  /** A plaintext handshake message (§9.1): body = message type byte ‖ message body. */
  PLAIN: 1,
  /** A sealed record (§9.2): body = AES-256-GCM ciphertext of message type ‖ message body. */
  SEALED: 2,
  /** A payload chunk (§7): body = the sealed chunk. */
  CHUNK: 3,
} as const;
/** One of the frame kinds. */
export type FrameKind = typeof FrameKind[keyof typeof FrameKind];

/** Bytes of the frame header. */
export const FRAME_HEADER_BYTES = 5;
/** Default idle deadline for a single read. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const READ_BUFFER_BYTES = 64 * 1024;

/** One frame as read. */
export interface Frame {
  readonly kind: FrameKind;
  readonly body: Bytes;
}

/** Reads frames from a transport through one small buffer. */
export class FrameReader {
  readonly #transport: Transport;
  readonly #idleTimeoutMs: number;
  readonly #buffer = new Uint8Array(READ_BUFFER_BYTES);
  #start = 0;
  #end = 0;

  #frameDeadline = Infinity;

  /** `idleTimeoutMs` bounds how long one read may wait for the peer. */
  constructor(transport: Transport, options: { idleTimeoutMs?: number } = {}) {
    this.#transport = transport;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  }

  /**
   * Reads one frame whose body is at most `maxBody` bytes. Returns null on a clean end of stream
   * at a frame boundary; an end inside a frame is CONNECTION_CLOSED.
   */
  async read(maxBody: number): Promise<Frame | null> {
    this.#frameDeadline = Infinity;
    if (!await this.#fill(1, true)) return null;
    this.#frameDeadline = Date.now() + this.#idleTimeoutMs;
    await this.#fill(FRAME_HEADER_BYTES, false);
    const view = new DataView(this.#buffer.buffer, this.#start, FRAME_HEADER_BYTES);
    const length = view.getUint32(0);
    const kind = view.getUint8(4);
    if (length < 1) throw new SfsError("BAD_FRAME", "Frame of length 0");
    if (kind < FrameKind.PLAIN || kind > FrameKind.CHUNK) {
      throw new SfsError("BAD_FRAME", `Unknown frame kind ${kind}`);
    }
    const bodyLength = length - 1;
    if (bodyLength > maxBody) {
      throw new SfsError("FRAME_TOO_LARGE", `Frame of ${bodyLength} bytes exceeds ${maxBody}`);
    }
    if (kind === FrameKind.CHUNK) this.#frameDeadline = Infinity;
    this.#start += FRAME_HEADER_BYTES;
    const body = kind === FrameKind.CHUNK ? chunkBody(bodyLength) : new Uint8Array(bodyLength);
    let filled = Math.min(bodyLength, this.#end - this.#start);
    body.set(this.#buffer.subarray(this.#start, this.#start + filled));
    this.#start += filled;
    while (filled < bodyLength) {
      // Large bodies are read straight into their own buffer, without a copy through ours.
      const n = await this.#readSome(body.subarray(filled));
      if (n === null) throw closedMidFrame();
      filled += n;
    }
    return { kind: kind as FrameKind, body };
  }

  /** Ensures `count` bytes are buffered; false only when `eofOk` and the stream ended cleanly. */
  async #fill(count: number, eofOk: boolean): Promise<boolean> {
    if (this.#end - this.#start >= count) return true;
    if (this.#start > 0) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    while (this.#end < count) {
      const n = await this.#readSome(this.#buffer.subarray(this.#end));
      if (n === null) {
        if (eofOk && this.#end === 0) return false;
        throw closedMidFrame();
      }
      this.#end += n;
    }
    return true;
  }

  async #readSome(into: Uint8Array): Promise<number | null> {
    const wait = Math.max(0, Math.min(this.#idleTimeoutMs, this.#frameDeadline - Date.now()));
    return await withDeadline(this.#transport, wait, () => this.#transport.read(into), "receive");
  }
}

/** Chunk bodies a reader made, so {@link recycleChunkBody} takes back only those. */
const CHUNK_BODIES = new WeakSet<ArrayBuffer>();
/** Chunk bodies given back, for the next chunk frames of any reader in this process. */
const SPARE_CHUNK_BODIES: ArrayBuffer[] = [];
/** Spare bodies kept: about what a receiver has in flight; more are left to the collector. */
const MAX_SPARE_CHUNK_BODIES = 8;

/** A chunk frame's body: a spare one that is large enough, else a new one. */
function chunkBody(length: number): Bytes {
  const index = SPARE_CHUNK_BODIES.findIndex((buffer) => buffer.byteLength >= length);
  if (index >= 0) return new Uint8Array(SPARE_CHUNK_BODIES.splice(index, 1)[0], 0, length);
  const body = new Uint8Array(length);
  CHUNK_BODIES.add(body.buffer);
  return body;
}

/**
 * Gives a CHUNK frame's body back for a later chunk frame, so a receiver does not allocate a
 * buffer per chunk. Only for a body no one will read again: the next chunk overwrites it. A
 * buffer this module did not make is ignored.
 */
export function recycleChunkBody(body: Uint8Array): void {
  const buffer = body.buffer;
  if (
    buffer instanceof ArrayBuffer && CHUNK_BODIES.has(buffer) && !buffer.detached &&
    !SPARE_CHUNK_BODIES.includes(buffer) && SPARE_CHUNK_BODIES.length < MAX_SPARE_CHUNK_BODIES
  ) {
    SPARE_CHUNK_BODIES.push(buffer);
  }
}

/**
 * Buffers made by {@link frameBody}: the frame header's bytes sit in front of the body. Keyed by
 * the ArrayBuffer, so any view of such a body that starts where it starts qualifies.
 */
const WITH_HEADER_ROOM = new WeakSet<ArrayBuffer>();

/**
 * A zeroed frame body of `length` bytes with room for the frame header in front of it, so
 * {@link FrameWriter.write} sends the frame in one write without copying the body: a sender
 * seals each chunk into one of these (one `send` per chunk instead of two, and the receiver no
 * longer reads a lone 5-byte header). {@link releaseFrameBody} frees it.
 */
export function frameBody(length: number): Bytes {
  const frame = new Uint8Array(FRAME_HEADER_BYTES + length);
  WITH_HEADER_ROOM.add(frame.buffer);
  return frame.subarray(FRAME_HEADER_BYTES);
}

/**
 * Frees a body made by {@link frameBody} now rather than at the next garbage collection (as
 * bytes.ts `release` does for a plain buffer); anything else is left alone.
 */
export function releaseFrameBody(body: Uint8Array): void {
  const buffer = body.buffer;
  if (buffer instanceof ArrayBuffer && WITH_HEADER_ROOM.has(buffer) && !buffer.detached) {
    WITH_HEADER_ROOM.delete(buffer);
    buffer.transfer(0);
  }
}

/** The whole frame around `body` when it was made by {@link frameBody}, else undefined. */
function frameAround(body: Uint8Array): Uint8Array | undefined {
  const buffer = body.buffer;
  if (
    !(buffer instanceof ArrayBuffer) || !WITH_HEADER_ROOM.has(buffer) ||
    body.byteOffset !== FRAME_HEADER_BYTES
  ) return undefined;
  return new Uint8Array(buffer, 0, FRAME_HEADER_BYTES + body.length);
}

/**
 * Writes frames; calls are queued so two writers never interleave their bytes. Small frames and
 * bodies made by {@link frameBody} go out in one write; other large ones as header then body,
 * which spares a copy of the body.
 */
export class FrameWriter {
  readonly #transport: Transport;
  readonly #idleTimeoutMs: number;
  #queue: Promise<void> = Promise.resolve();

  /** `idleTimeoutMs` bounds how long one write may wait for the peer to read. */
  constructor(transport: Transport, options: { idleTimeoutMs?: number } = {}) {
    this.#transport = transport;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  }

  /** Writes one frame; resolves once it is handed to the transport. */
  write(kind: FrameKind, body: Uint8Array): Promise<void> {
    const header = new Uint8Array(FRAME_HEADER_BYTES);
    const view = new DataView(header.buffer);
    view.setUint32(0, body.length + 1);
    view.setUint8(4, kind);
    const next = this.#queue.then(async () => {
      const whole = frameAround(body);
      if (whole) {
        // The header goes into the room in front of the body: bytes no one else uses.
        whole.set(header);
        await this.#writeAll(whole);
      } else if (body.length <= 4096) {
        const frame = new Uint8Array(FRAME_HEADER_BYTES + body.length);
        frame.set(header);
        frame.set(body, FRAME_HEADER_BYTES);
        await this.#writeAll(frame);
      } else {
        await this.#writeAll(header);
        await this.#writeAll(body);
      }
    });
    // A failed write poisons the queue: later frames must not go out after a gap.
    this.#queue = next;
    return next;
  }

  async #writeAll(data: Uint8Array): Promise<void> {
    let written = 0;
    while (written < data.length) {
      const rest = data.subarray(written);
      written += await withDeadline(
        this.#transport,
        this.#idleTimeoutMs,
        () => this.#transport.write(rest),
        "send",
      );
    }
  }
}

/**
 * Runs one transport operation with a deadline. Closing the transport is the only portable way
 * to abandon a pending read or write on a Deno.Conn, so that is what the timer does.
 */
async function withDeadline<T>(
  transport: Transport,
  timeoutMs: number,
  operation: () => Promise<T>,
  what: "send" | "receive",
): Promise<T> {
  let timedOut = false;
  const timer = setTimer(() => {
    timedOut = true;
    closeQuietly(transport);
  }, timeoutMs);
  try {
    return await operation();
  } catch (cause) {
    if (timedOut) {
      throw new SfsError(
        "TIMEOUT",
        what === "receive"
          ? `The other side sent nothing for ${timeoutMs / 1000} s`
          : `The other side stopped reading for ${timeoutMs / 1000} s`,
      );
    }
    throw new SfsError("CONNECTION_CLOSED", "Connection lost", { cause });
  } finally {
    clearTimer(timer);
  }
}

function closedMidFrame(): SfsError {
  return new SfsError("CONNECTION_CLOSED", "Connection closed in the middle of a frame");
}
