/** Frame-level edits of one direction of a session, applied live or to a recording. */
import fc from "fast-check";
import { type Bytes, concat } from "../../src/crypto/bytes.ts";
import { DEFAULT_MAX_RECORD } from "../../src/wire/channel.ts";
import { MAX_HANDSHAKE_FRAME } from "../../src/wire/handshake.ts";
import { FRAME_HEADER_BYTES } from "../../src/wire/frame.ts";
import { frameLikeArb, MAX_U32 } from "./arbitraries.ts";
import { startsWith } from "./checks.ts";

/** An edit of one direction of a session, addressed by frame index. */
export type FrameMutation =
  | { op: "flip"; frame: number; at: number; bit: number }
  | { op: "drop"; frame: number }
  | { op: "duplicate"; frame: number }
  | { op: "swap"; frame: number }
  | { op: "truncate"; frame: number; keep: number }
  | { op: "insert"; frame: number; bytes: Bytes }
  | { op: "append"; frame: number; bytes: Bytes }
  | { op: "length"; frame: number; value: number; relative: boolean }
  | { op: "kind"; frame: number; value: number }
  | { op: "stale"; frame: number; from: number };

/** How a {@link FrameTap} passes frames on. */
interface TapOptions {
  /** The one edit to make. */
  mutation?: FrameMutation;
  /** Frames of an earlier session, for the `stale` edit. */
  stale?: readonly Bytes[];
  /**
   * When given, frames are held until the last frame of their burst and then passed on
   * together, as TCP often coalesces them: the reader then finds a whole burst buffered.
   */
  lastOfBurst?: (index: number) => boolean;
}

/**
 * Splits one direction's byte stream into the frames its (honest) writer wrote and passes them
 * on with one mutation applied; remembers what went in and what came out.
 */
export class FrameTap {
  readonly original: Uint8Array[] = [];
  readonly forwarded: Uint8Array[] = [];
  /** Frames seen so far, with how many frames the other direction had sent at that point. */
  readonly frames: { bytes: Bytes; burst: number }[] = [];
  /** Frame count of the other direction, for burst numbers. */
  otherFrames: () => number = () => 0;
  #pending: Uint8Array = new Uint8Array();
  #queue: Uint8Array[] = [];
  #held?: Bytes;
  #cut = false;
  readonly #options: TapOptions;
  readonly #emit: (bytes: Uint8Array) => void;
  readonly #end: () => void;

  constructor(emit: (bytes: Uint8Array) => void, end: () => void, options: TapOptions = {}) {
    this.#emit = emit;
    this.#end = end;
    this.#options = options;
  }

  push(bytes: Uint8Array): void {
    this.original.push(bytes);
    this.#pending = concat(this.#pending, bytes);
    while (this.#pending.length >= FRAME_HEADER_BYTES) {
      const length = new DataView(this.#pending.buffer, this.#pending.byteOffset).getUint32(0);
      if (this.#pending.length < 4 + length) break;
      const frame = this.#pending.slice(0, 4 + length);
      this.#pending = this.#pending.slice(4 + length);
      const index = this.frames.length;
      this.frames.push({ bytes: frame, burst: this.otherFrames() });
      this.#frame(index, frame);
      if (this.#options.lastOfBurst?.(index) ?? true) this.#flush();
    }
  }

  /** The writer closed: flush anything held, then end the stream. */
  end(): void {
    if (this.#held) this.#queue.push(this.#held);
    this.#held = undefined;
    this.#queue.push(this.#pending);
    this.#flush();
    this.#cut = true;
    this.#end();
  }

  /** True when the bytes passed on are the original bytes, possibly followed by extra ones. */
  get onlyAppended(): boolean {
    return startsWith(concat(...this.forwarded), concat(...this.original));
  }

  #flush(): void {
    for (const bytes of this.#queue) {
      if (this.#cut || bytes.length === 0) continue;
      this.forwarded.push(bytes);
      this.#emit(bytes);
    }
    this.#queue = [];
  }

  #frame(index: number, frame: Bytes): void {
    const out = this.#queue;
    const m = this.#options.mutation;
    if (this.#held) {
      // The swap's second frame: it goes first.
      out.push(frame, this.#held);
      this.#held = undefined;
      return;
    }
    if (!m || m.frame !== index) {
      out.push(frame);
      return;
    }
    const edited = new Uint8Array(frame);
    const view = new DataView(edited.buffer);
    switch (m.op) {
      case "flip":
        edited[m.at % edited.length] ^= 1 << m.bit;
        out.push(edited);
        return;
      case "drop":
        return;
      case "duplicate":
        out.push(frame, frame);
        return;
      case "swap":
        this.#held = frame;
        return;
      case "truncate":
        out.push(frame.subarray(0, m.keep % frame.length));
        this.#flush();
        this.#cut = true;
        this.#end();
        return;
      case "insert":
        out.push(m.bytes, frame);
        return;
      case "append":
        out.push(frame, m.bytes);
        return;
      case "length":
        view.setUint32(0, m.relative ? (view.getUint32(0) + m.value) >>> 0 : m.value);
        out.push(edited);
        return;
      case "kind":
        edited[4] = m.value;
        out.push(edited);
        return;
      case "stale": {
        const stale = this.#options.stale ?? [];
        out.push(stale.length > 0 ? stale[m.from % stale.length] : frame);
        return;
      }
    }
  }
}

/** Applies a frame mutation to a recorded direction offline: the bytes a replayer sends. */
export function mutateRecording(
  frames: readonly Bytes[],
  mutation: FrameMutation | undefined,
  stale: readonly Bytes[],
): Bytes {
  const out: Uint8Array[] = [];
  const tap = new FrameTap((x) => out.push(x), () => {}, { mutation, stale });
  for (const frame of frames) tap.push(frame);
  tap.end();
  return concat(...out);
}

/** Arbitrary edits of a direction of `frameCount` frames, sent in the given `bursts`. */
export function frameMutationArb(
  frameCount: number,
  bursts: readonly number[],
): fc.Arbitrary<FrameMutation> {
  const frame = fc.nat(frameCount - 1);
  // A swap across a round trip deadlocks (the second frame waits for an answer to the first):
  // only frames sent in one burst are swapped.
  const swappable = bursts.flatMap((b, i) =>
    i + 1 < bursts.length && bursts[i + 1] === b ? [i] : []
  );
  const garbage = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 12 }),
    frameLikeArb(64),
  );
  const arbs: fc.Arbitrary<FrameMutation>[] = [
    fc.record({ op: fc.constant("flip"), frame, at: fc.nat(), bit: fc.nat(7) }),
    fc.record({ op: fc.constant("flip"), frame, at: fc.nat(4), bit: fc.nat(7) }),
    fc.record({ op: fc.constant("drop"), frame }),
    fc.record({ op: fc.constant("duplicate"), frame }),
    fc.record({ op: fc.constant("truncate"), frame, keep: fc.nat() }),
    fc.record({ op: fc.constant("insert"), frame, bytes: garbage }),
    fc.record({ op: fc.constant("append"), frame, bytes: garbage }),
    fc.record({
      op: fc.constant("length"),
      frame,
      value: fc.integer({ min: -2, max: 2 }).filter((v) => v !== 0),
      relative: fc.constant(true),
    }),
    fc.record({
      op: fc.constant("length"),
      frame,
      value: fc.constantFrom(0, 1, MAX_HANDSHAKE_FRAME + 2, DEFAULT_MAX_RECORD + 18, MAX_U32),
      relative: fc.constant(false),
    }),
    fc.record({ op: fc.constant("kind"), frame, value: fc.constantFrom(0, 1, 2, 3, 4, 255) }),
    fc.record({ op: fc.constant("stale"), frame, from: fc.nat() }),
  ] as fc.Arbitrary<FrameMutation>[];
  if (swappable.length > 0) {
    arbs.push(fc.record({ op: fc.constant("swap"), frame: fc.constantFrom(...swappable) }));
  }
  return fc.oneof(...arbs);
}
