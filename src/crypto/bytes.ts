/** Small byte helpers shared by the crypto and wire layers. Pure: no I/O. */

const encoder = new TextEncoder();

/** Bytes backed by a plain ArrayBuffer, the form WebCrypto and Deno I/O accept. */
export type Bytes = Uint8Array<ArrayBuffer>;
const BASE32_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Bytes {
  return encoder.encode(text);
}

/** Concatenates byte arrays into one new array. */
export function concat(...parts: Uint8Array[]): Bytes {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Compares two byte arrays in time that depends only on their lengths, so that comparing a
 * secret-derived value leaks nothing about where the first difference is.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

/** Parses lower- or upper-case hex; returns undefined for anything else. */
export function fromHex(text: string): Bytes | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Standard base64 (with padding) of `bytes`. */
export function toBase64(bytes: Uint8Array): string {
  return bytes.toBase64();
}

/**
 * Parses standard base64; returns undefined when the text is not canonical base64. The native
 * decoder (strict: full padding, zero padding bits) is ~50x faster than atob() and a re-encoding
 * on a cold start, where an identity's 6 KB took 6–8 ms (docs/PERFORMANCE.md, tiny12).
 */
export function fromBase64(text: string): Bytes | undefined {
  if (text.length % 4 !== 0) return undefined;
  let out: Bytes;
  try {
    out = Uint8Array.fromBase64(text, { lastChunkHandling: "strict" });
  } catch {
    return undefined;
  }
  // The decoder skips ASCII whitespace; canonical text has none, so it decodes to exactly this.
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  return out.length === (text.length / 4) * 3 - padding ? out : undefined;
}

/** RFC 4648 base32, lower case, without padding. */
export function toBase32(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/** Parses unpadded lower- or upper-case base32; undefined when not canonical. */
export function fromBase32(text: string): Bytes | undefined {
  const lower = text.toLowerCase();
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of lower) {
    const value = BASE32_ALPHABET.indexOf(char);
    if (value < 0) return undefined;
    buffer = ((buffer << 5) | value) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  const bytes = new Uint8Array(out);
  // Leftover bits must be zero padding, otherwise two texts would decode to the same bytes.
  return toBase32(bytes) === lower ? bytes : undefined;
}

/** SHA-256 of `data` through WebCrypto. */
export async function sha256(data: Bytes): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

/**
 * Gives the memory behind `bytes` back now rather than whenever the garbage collector runs, by
 * detaching its buffer. Streams of 1 MiB chunks otherwise pile up tens of MiB of dead buffers
 * between collections (measured: peak RSS 114 MiB → 47 MiB over 2,000 seal/open round trips).
 * Only for arrays that own their whole buffer and are never read again.
 */
export function release(bytes: Uint8Array): void {
  const buffer = bytes.buffer;
  if (
    buffer instanceof ArrayBuffer && bytes.byteOffset === 0 &&
    bytes.byteLength === buffer.byteLength && !buffer.detached
  ) {
    buffer.transfer(0);
  }
}
