/**
 * Runs every scenario in testdata/vectors/ (written by scripts/gen_vectors.ts; format in the
 * folder's README.md) against the real code. An `ok` scenario must compute every value it lists
 * and re-encode to the same bytes; an `error CODE` scenario must fail with that SfsError code.
 */
import assert from "node:assert/strict";
import { ErrorCode, isSfsError } from "../errors.ts";
import { type Bytes, concat, fromHex, toHex } from "../crypto/bytes.ts";
import { ByteWriter } from "../crypto/encoding.ts";
import { deriveSessionKeys, x25519 } from "../crypto/exchange.ts";
import {
  decodePublicIdentity,
  encodePublicKeys,
  formatFingerprint,
  parseFingerprint,
} from "../crypto/identity.ts";
import { aesKey } from "../crypto/kdf.ts";
import { chunkNonce, openChunk, sealChunk, StreamOpener } from "../crypto/stream.ts";
import { transcriptOf } from "./channel.ts";
import { type FrameKind, FrameReader, FrameWriter, type Transport } from "./frame.ts";
import { decodeMessage, encodeHelloReplyUnsigned, encodeMessage, MessageType } from "./messages.ts";
import { vectorFiles } from "../../scripts/gen_vectors.ts";

const DIR = new URL("../../testdata/vectors/", import.meta.url);
const X25519_PKCS8_PREFIX = "302e020100300506032b656e04220420";

/** The fields of one vector file, read strictly: a missing or malformed field fails the test. */
class Vector {
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
type Runner = (v: Vector) => Promise<void>;

function assertHex(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.equal(toHex(actual), toHex(expected), what);
}

function importX25519(seed: Bytes): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "pkcs8",
    concat(fromHex(X25519_PKCS8_PREFIX)!, seed),
    "X25519",
    false,
    ["deriveBits"],
  );
}

/** X25519 with the base point u = 9 gives a private key's public key. */
function publicOf(privateKey: CryptoKey): Promise<Bytes> {
  const base = new Uint8Array(32);
  base[0] = 9;
  return x25519(privateKey, base);
}

/** A transport that reads the given bytes and then reports the end; writes are recorded. */
class BytesTransport implements Transport {
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

const RUNNERS: Record<string, Runner> = {
  "key-schedule": async (v) => {
    const initiator = await importX25519(v.hex("initiator_x25519_seed"));
    const responder = await importX25519(v.hex("responder_x25519_seed"));
    const initiatorPublic = v.hex("initiator_x25519_public");
    const responderPublic = v.hex("responder_x25519_public");
    assertHex(await publicOf(initiator), initiatorPublic, "initiator public key");
    assertHex(await publicOf(responder), responderPublic, "responder public key");
    const shared = await x25519(initiator, responderPublic);
    assertHex(shared, v.hex("shared"), "initiator's shared secret");
    assertHex(await x25519(responder, initiatorPublic), shared, "responder's shared secret");
    const keys = await deriveSessionKeys(shared, v.hex("secret"), v.hex("transcript_hash"));
    assertHex(keys.responder, v.hex("responder_key"), "responder key");
    assertHex(keys.initiator, v.hex("initiator_key"), "initiator key");
    assertHex(keys.payload, v.hex("payload_key"), "payload key");
  },

  x25519: async (v) => {
    const shared = await x25519(await importX25519(v.hex("private_seed")), v.hex("peer_public"));
    assertHex(shared, v.hex("shared"), "shared secret");
  },

  transcript: async (v) => {
    const helloBody = v.hex("hello_body");
    const hello = decodeMessage(MessageType.HELLO, helloBody);
    assertHex(encodeMessage(hello), helloBody, "re-encoded hello");
    const reply = {
      version: v.int("reply_version"),
      identity: v.hex("reply_identity"),
      ephemeral: v.hex("reply_ephemeral"),
      nonce: v.hex("reply_nonce"),
      wrappedSecret: v.hex("reply_wrapped_secret"),
    };
    const unsigned = encodeHelloReplyUnsigned(new ByteWriter(), reply).finish();
    assertHex(unsigned, v.hex("reply_unsigned"), "unsigned reply");
    assertHex(await transcriptOf(helloBody, reply), v.hex("transcript_hash"), "transcript hash");
  },

  fingerprint: async (v) => {
    const encoded = v.hex("public_identity");
    const identity = await decodePublicIdentity(encoded);
    const fingerprint = v.hex("fingerprint");
    assertHex(identity.fingerprint, fingerprint, "fingerprint");
    assert.equal(formatFingerprint(identity.fingerprint), v.text("formatted"));
    assertHex(parseFingerprint(v.text("formatted")), fingerprint, "parsed fingerprint");
    const spki = async (key: CryptoKey) =>
      new Uint8Array(await crypto.subtle.exportKey("spki", key));
    const again = encodePublicKeys(
      await spki(identity.oaep),
      await spki(identity.pss),
      new Uint8Array(await crypto.subtle.exportKey("raw", identity.ed25519)),
    );
    assertHex(again, encoded, "re-encoded public identity");
  },

  "public-identity": async (v) => {
    const encoded = v.hex("public_identity");
    assertHex((await decodePublicIdentity(encoded)).encoded, encoded, "public identity");
  },

  chunk: async (v) => {
    const key = await aesKey(v.hex("key"));
    const index = v.int("index");
    const last = v.bool("last");
    const ciphertext = v.hex("ciphertext");
    if (v.has("nonce")) assertHex(chunkNonce(index, last), v.hex("nonce"), "nonce");
    const opened = await openChunk(key, index, last, ciphertext);
    const plaintext = v.hex("plaintext");
    assertHex(opened, plaintext, "opened chunk");
    assertHex(await sealChunk(key, index, last, plaintext), ciphertext, "re-sealed chunk");
  },

  stream: async (v) => {
    const key = await aesKey(v.hex("key"));
    const size = v.int("size");
    const chunkSize = v.int("chunk_size");
    const chunks = v.hexAll("chunk");
    const opener = new StreamOpener(key, { size, chunkSize });
    const parts: Bytes[] = [];
    for (const chunk of chunks) parts.push(await opener.open(chunk));
    opener.finish();
    const content = v.hex("content");
    assertHex(concat(...parts), content, "content");
    for (const [index, chunk] of chunks.entries()) {
      const plaintext = content.subarray(index * chunkSize, (index + 1) * chunkSize);
      const resealed = await sealChunk(key, index, index === chunks.length - 1, plaintext);
      assertHex(resealed, chunk, `re-sealed chunk ${index}`);
    }
  },

  message: (v) => {
    const body = v.hex("body");
    const decoded = decodeMessage(v.int("type"), body);
    const canonical = v.has("canonical") ? v.hex("canonical") : body;
    assertHex(encodeMessage(decoded), canonical, "re-encoded message");
    return Promise.resolve();
  },

  frame: async (v) => {
    const bytes = v.hex("bytes");
    const reader = new FrameReader(new BytesTransport(bytes));
    const frame = await reader.read(v.int("max_body"));
    assert.ok(frame, "a frame");
    assert.equal(frame.kind, v.int("frame_kind"));
    assertHex(frame.body, v.hex("body"), "frame body");
    assert.equal(await reader.read(v.int("max_body")), null, "nothing after the frame");
    const out = new BytesTransport(new Uint8Array());
    await new FrameWriter(out).write(frame.kind as FrameKind, frame.body);
    assertHex(concat(...out.written), bytes, "re-encoded frame");
  },
};

async function loadVectors(): Promise<Vector[]> {
  const vectors: Vector[] = [];
  for await (const entry of Deno.readDir(DIR)) {
    if (!entry.isFile || !entry.name.endsWith(".txt")) continue;
    vectors.push(new Vector(entry.name, await Deno.readTextFile(new URL(entry.name, DIR))));
  }
  return vectors.sort((a, b) => a.file.localeCompare(b.file));
}

Deno.test("testdata/vectors: every scenario holds against the real code", async (t) => {
  const vectors = await loadVectors();
  assert.ok(vectors.length >= 50, `only ${vectors.length} vectors`);
  for (const vector of vectors) {
    await t.step(vector.file, async () => {
      const run = RUNNERS[vector.kind];
      assert.ok(run, `unknown kind "${vector.kind}"`);
      if (vector.expect === "ok") {
        await run(vector);
      } else {
        const code = vector.expect;
        // Through a promise, so a runner that throws synchronously is caught too.
        const running = Promise.resolve(vector).then(run);
        await assert.rejects(running, (err) => isSfsError(err, code));
      }
    });
  }
});

Deno.test("testdata/vectors: every kind and every message type has a passing scenario", async () => {
  const vectors = await loadVectors();
  for (const kind of Object.keys(RUNNERS)) {
    assert.ok(vectors.some((v) => v.kind === kind), `no vector of kind "${kind}"`);
  }
  const okTypes = new Set(
    vectors.filter((v) => v.kind === "message" && v.expect === "ok").map((v) => v.int("type")),
  );
  for (const [name, type] of Object.entries(MessageType)) {
    assert.ok(okTypes.has(type), `no ok message vector for ${name}`);
  }
});

Deno.test("testdata/vectors: the folder is exactly what scripts/gen_vectors.ts writes", async () => {
  const expected = await vectorFiles();
  const actual = new Map<string, string>();
  for (const vector of await loadVectors()) {
    actual.set(vector.file, await Deno.readTextFile(new URL(vector.file, DIR)));
  }
  const hint = "run `deno task vectors` and commit the result; never edit vectors by hand";
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), hint);
  for (const [name, text] of expected) assert.equal(actual.get(name), text, `${name}: ${hint}`);
});
