/**
 * Reading testdata/vectors/ (format in the folder's README.md): one strict parser for every
 * kind, and what the runners of each kind share.
 */
import assert from "node:assert/strict";
import { ErrorCode } from "../../src/errors.ts";
import { type Bytes, fromHex, toHex } from "../../src/crypto/bytes.ts";
import type { Transport } from "../../src/wire/frame.ts";

const DIR = new URL("../../testdata/vectors/", import.meta.url);

/** The fields of one vector file, read strictly: a missing or malformed field fails the test. */
export class Vector {
  readonly expect: "ok" | ErrorCode;
  readonly kind: string;
  readonly #fields = new Map<string, string[]>();

  constructor(readonly file: string, text: string) {
    const lines = text.split("\n");
    assert.equal(lines.pop(), "", `${file}: must end with a newline`);
    const expect = /^expect: (ok|error ([A-Z_]+))$/.exec(lines[0] ?? "");
    assert.ok(expect, `${file}: line 1 must be "expect: ok" or "expect: error CODE"`);
    const code = expect[2];
    assert.ok(
      code === undefined || (Object.values(ErrorCode) as string[]).includes(code),
      `${file}: unknown code ${code}`,
    );
    this.expect = (code ?? "ok") as "ok" | ErrorCode;
    const kind = /^kind: ([a-z0-9-]+)$/.exec(lines[1] ?? "");
    assert.ok(kind, `${file}: line 2 must be "kind: KIND"`);
    this.kind = kind[1];
    for (const line of lines.slice(2)) {
      const field = /^([a-z0-9_]+):(?: (.*))?$/.exec(line);
      assert.ok(field, `${file}: malformed line ${JSON.stringify(line)}`);
      this.#fields.set(field[1], [...this.#fields.get(field[1]) ?? [], field[2] ?? ""]);
    }
  }

  has(name: string): boolean {
    return this.#fields.has(name);
  }

  text(name: string): string {
    const values = this.#fields.get(name);
    assert.ok(values?.length === 1, `${this.file}: needs exactly one "${name}"`);
    return values[0];
  }

  hex(name: string): Bytes {
    return this.#parseHex(name, this.text(name));
  }

  /** Every value of a repeated text field, in order (none is fine). */
  textAll(name: string): string[] {
    return this.#fields.get(name) ?? [];
  }

  /** Every value of a repeated hex field, in order (none is fine). */
  hexAll(name: string): Bytes[] {
    return (this.#fields.get(name) ?? []).map((value) => this.#parseHex(name, value));
  }

  int(name: string): number {
    const text = this.text(name);
    assert.match(text, /^(0|[1-9][0-9]*)$/, `${this.file}: ${name} is not a decimal integer`);
    const value = Number(text);
    assert.ok(Number.isSafeInteger(value), `${this.file}: ${name} is too large`);
    return value;
  }

  bool(name: string): boolean {
    const text = this.text(name);
    assert.ok(text === "true" || text === "false", `${this.file}: ${name} is not a flag`);
    return text === "true";
  }

  #parseHex(name: string, value: string): Bytes {
    assert.match(value, /^([0-9a-f]{2})*$/, `${this.file}: ${name} is not lower-case hex`);
    return fromHex(value)!;
  }
}

/** One run of a scenario: checks an `ok` vector fully; throws the code of an `error` one. */
export type Runner = (v: Vector) => Promise<void>;

export function assertHex(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.equal(toHex(actual), toHex(expected), what);
}

/** A transport that reads the given bytes and then reports the end; writes are recorded. */
export class BytesTransport implements Transport {
  readonly written: Uint8Array[] = [];
  #rest: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.#rest = bytes;
  }
  read(buffer: Uint8Array): Promise<number | null> {
    if (this.#rest.length === 0) return Promise.resolve(null);
    const n = Math.min(buffer.length, this.#rest.length);
    buffer.set(this.#rest.subarray(0, n));
    this.#rest = this.#rest.subarray(n);
    return Promise.resolve(n);
  }
  write(data: Uint8Array): Promise<number> {
    this.written.push(new Uint8Array(data));
    return Promise.resolve(data.length);
  }
  close(): void {}
}

export async function loadVectors(): Promise<Vector[]> {
  const vectors: Vector[] = [];
  for await (const entry of Deno.readDir(DIR)) {
    if (!entry.isFile || !entry.name.endsWith(".txt")) continue;
    vectors.push(new Vector(entry.name, await Deno.readTextFile(new URL(entry.name, DIR))));
  }
  return vectors.sort((a, b) => a.file.localeCompare(b.file));
}
