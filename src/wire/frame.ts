/**
 * Frames (docs/PROTOCOL.md §8): `u32 length ‖ u8 kind ‖ body`, where length counts the kind byte
 * and the body. The reader checks the length against the caller's limit before it allocates, and
 * every read has an idle deadline, so a peer can neither make us allocate at will nor hold a
 * connection open by going quiet.
 */
import { SfsError } from "../errors.ts";
import type { Bytes } from "../crypto/bytes.ts";

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
    if (!await this.#fill(1, true)) return null;
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
    this.#start += FRAME_HEADER_BYTES;
    const body = new Uint8Array(bodyLength);
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
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // Closing is the only portable way to abandon a pending read on a Deno.Conn.
      this.#transport.close();
    }, this.#idleTimeoutMs);
    try {
      return await this.#transport.read(into);
    } catch (cause) {
      if (timedOut) {
        throw new SfsError("TIMEOUT", `Peer sent nothing for ${this.#idleTimeoutMs / 1000} s`);
      }
      throw new SfsError("CONNECTION_CLOSED", "Connection lost", { cause });
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Writes frames; calls are queued so two writers never interleave their bytes. Small frames go
 * out in one write; large ones as header then body, which spares a copy of the body.
 */
export class FrameWriter {
  readonly #transport: Transport;
  #queue: Promise<void> = Promise.resolve();

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** Writes one frame; resolves once it is handed to the transport. */
  write(kind: FrameKind, body: Uint8Array): Promise<void> {
    const header = new Uint8Array(FRAME_HEADER_BYTES);
    const view = new DataView(header.buffer);
    view.setUint32(0, body.length + 1);
    view.setUint8(4, kind);
    const next = this.#queue.then(async () => {
      if (body.length <= 4096) {
        const frame = new Uint8Array(FRAME_HEADER_BYTES + body.length);
        frame.set(header);
        frame.set(body, FRAME_HEADER_BYTES);
        await writeAll(this.#transport, frame);
      } else {
        await writeAll(this.#transport, header);
        await writeAll(this.#transport, body);
      }
    });
    // A failed write poisons the queue: later frames must not go out after a gap.
    this.#queue = next;
    return next;
  }
}

async function writeAll(transport: Transport, data: Uint8Array): Promise<void> {
  let written = 0;
  try {
    while (written < data.length) written += await transport.write(data.subarray(written));
  } catch (cause) {
    throw new SfsError("CONNECTION_CLOSED", "Connection lost while sending", { cause });
  }
}

function closedMidFrame(): SfsError {
  return new SfsError("CONNECTION_CLOSED", "Connection closed in the middle of a frame");
}
