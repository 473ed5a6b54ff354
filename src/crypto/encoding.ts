/**
 * Canonical binary encoding (docs/PROTOCOL.md §2): big-endian integers, byte strings and UTF-8
 * text behind a length prefix. The reader checks every length against what is left and against
 * the caller's maximum before it slices, and `end()` rejects trailing bytes, so one value has
 * exactly one encoding.
 */
import { SfsError } from "../errors.ts";
import type { Bytes } from "./bytes.ts";

// ignoreBOM keeps a leading U+FEFF as text: stripping it would let "\ufeffx" and "x" decode alike.
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** Builds an encoding piece by piece. */
export class ByteWriter {
  #parts: Uint8Array[] = [];
  #length = 0;

  /** Appends raw bytes without a length prefix (fixed-size fields). */
  raw(bytes: Uint8Array): this {
    this.#parts.push(bytes);
    this.#length += bytes.length;
    return this;
  }

  /** Appends an unsigned 8-bit integer. */
  u8(value: number): this {
    return this.raw(Uint8Array.of(checkInt(value, 0xff)));
  }

  /** Appends an unsigned 16-bit integer. */
  u16(value: number): this {
    const out = new Uint8Array(2);
    new DataView(out.buffer).setUint16(0, checkInt(value, 0xffff));
    return this.raw(out);
  }

  /** Appends an unsigned 32-bit integer. */
  u32(value: number): this {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, checkInt(value, 0xffffffff));
    return this.raw(out);
  }

  /** Appends an unsigned 64-bit integer given as a safe JavaScript integer. */
  u64(value: number): this {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, BigInt(checkInt(value, Number.MAX_SAFE_INTEGER)));
    return this.raw(out);
  }

  /** Appends bytes behind a 16-bit length. */
  bytes16(bytes: Uint8Array): this {
    return this.u16(bytes.length).raw(bytes);
  }

  /** Appends bytes behind a 32-bit length. */
  bytes32(bytes: Uint8Array): this {
    return this.u32(bytes.length).raw(bytes);
  }

  /** Appends UTF-8 text behind a 16-bit byte length. */
  text(value: string): this {
    return this.bytes16(encoder.encode(value));
  }

  /** Appends a list: a 16-bit count, then each item written by `write`. */
  list<T>(items: readonly T[], write: (writer: this, item: T) => void): this {
    this.u16(items.length);
    for (const item of items) write(this, item);
    return this;
  }

  /** The encoding so far as one array. */
  finish(): Bytes {
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const part of this.#parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}

/** Reads an encoding; every method throws SfsError BAD_MESSAGE on malformed input. */
export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #offset = 0;
  readonly #what: string;

  /** `what` names the structure in error messages, e.g. "hello". */
  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#what = what;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  /** Reads exactly `length` bytes (a copy, so the caller may keep it). */
  raw(length: number): Bytes {
    return this.#take(length).slice();
  }

  /** Reads an unsigned 8-bit integer. */
  u8(): number {
    this.#need(1);
    return this.#view.getUint8(this.#offset++);
  }

  /** Reads an unsigned 16-bit integer. */
  u16(): number {
    this.#need(2);
    const value = this.#view.getUint16(this.#offset);
    this.#offset += 2;
    return value;
  }

  /** Reads an unsigned 32-bit integer. */
  u32(): number {
    this.#need(4);
    const value = this.#view.getUint32(this.#offset);
    this.#offset += 4;
    return value;
  }

  /** Reads an unsigned 64-bit integer; values above 2^53 − 1 are rejected. */
  u64(): number {
    this.#need(8);
    const value = this.#view.getBigUint64(this.#offset);
    this.#offset += 8;
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail("integer out of range");
    return Number(value);
  }

  /** Reads bytes behind a 16-bit length, at most `max` of them. */
  bytes16(max = 0xffff): Bytes {
    return this.#sized(this.u16(), max);
  }

  /** Reads bytes behind a 32-bit length, at most `max` of them. */
  bytes32(max: number): Bytes {
    return this.#sized(this.u32(), max);
  }

  /** Reads UTF-8 text behind a 16-bit length of at most `maxBytes`; invalid UTF-8 is rejected. */
  text(maxBytes = 0xffff): string {
    // Decoded from a view: the text is a copy, so no array is made for it.
    const bytes = this.#take(this.#checked(this.u16(), maxBytes));
    try {
      return decoder.decode(bytes);
    } catch {
      return this.fail("text is not valid UTF-8");
    }
  }

  /** Reads a list of at most `maxItems` items, each with `read`. */
  list<T>(maxItems: number, read: (reader: this) => T): T[] {
    const count = this.u16();
    if (count > maxItems) this.fail(`list of ${count} items exceeds ${maxItems}`);
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(read(this));
    return items;
  }

  /** Asserts that everything was read: trailing bytes make a non-canonical encoding. */
  end(): void {
    if (this.remaining !== 0) this.fail(`${this.remaining} trailing bytes`);
  }

  /** Throws the reader's BAD_MESSAGE error. */
  fail(reason: string): never {
    throw new SfsError("BAD_MESSAGE", `Malformed ${this.#what}: ${reason}`);
  }

  #sized(length: number, max: number): Bytes {
    return this.raw(this.#checked(length, max));
  }

  /** `length`, once it is at most `max`. */
  #checked(length: number, max: number): number {
    if (length > max) this.fail(`field of ${length} bytes exceeds ${max}`);
    return length;
  }

  /** The next `length` bytes, as a view into the input, consumed. */
  #take(length: number): Uint8Array {
    this.#need(length);
    const view = this.#bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return view;
  }

  #need(length: number): void {
    if (length > this.remaining) this.fail("unexpected end");
  }
}

function checkInt(value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new SfsError("INTERNAL", `Integer ${value} does not fit its field`);
  }
  return value;
}
