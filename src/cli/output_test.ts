import assert from "node:assert/strict";
import { type ErrorCode, type Remedy, SfsError } from "../errors.ts";
import { isDisplaySafe } from "../text.ts";
import { exitCodeFor, Output, type OutputOptions, toSfsError } from "./output.ts";

/** A Sink that records text and writes at most `chunk` bytes per call, like a busy pipe. */
class Capture {
  #bytes: number[] = [];
  constructor(readonly chunk = Number.POSITIVE_INFINITY) {}
  writeSync(p: Uint8Array): number {
    const n = Math.min(p.length, this.chunk);
    this.#bytes.push(...p.subarray(0, n));
    return n;
  }
  get text(): string {
    return new TextDecoder().decode(new Uint8Array(this.#bytes));
  }
}

function setup(options: Partial<OutputOptions> = {}) {
  const stdout = new Capture(3);
  const stderr = new Capture(3);
  const out = new Output({ json: false, quiet: false, debug: false, stdout, stderr, ...options });
  return { out, stdout, stderr };
}

Deno.test("Output.event() prints one JSON line with event first in JSON mode only", () => {
  const json = setup({ json: true });
  json.out.event("done", { event: "spoofed", bytes: 5, name: "ä.txt" });
  assert.equal(json.stdout.text, '{"event":"done","bytes":5,"name":"ä.txt"}\n');
  assert.equal(json.stderr.text, "");

  const human = setup();
  human.out.event("done", { bytes: 5 });
  assert.equal(human.stdout.text, "");
});

Deno.test("Output.result() prints any JSON value as one line in JSON mode only", () => {
  const json = setup({ json: true });
  json.out.result([{ id: "ab", online: false }]);
  assert.equal(json.stdout.text, '[{"id":"ab","online":false}]\n');
  const human = setup();
  human.out.result([1]);
  assert.equal(human.stdout.text, "");
});

Deno.test("Output.info() prints to stdout in human mode, even when quiet", () => {
  const { out, stdout } = setup({ quiet: true });
  out.info("sfs://ticket");
  assert.equal(stdout.text, "sfs://ticket\n");
  const json = setup({ json: true });
  json.out.info("sfs://ticket");
  assert.equal(json.stdout.text, "");
});

Deno.test("Output.note() goes to stderr and is silenced by quiet", () => {
  const loud = setup();
  loud.out.note("Listening on 127.0.0.1:1234");
  assert.equal(loud.stderr.text, "Listening on 127.0.0.1:1234\n");
  assert.equal(loud.stdout.text, "");
  const quiet = setup({ quiet: true });
  quiet.out.note("Listening");
  assert.equal(quiet.stderr.text, "");
});

Deno.test("Output.warn() and debug() prefix their lines on stderr", () => {
  const { out, stderr } = setup({ quiet: true });
  out.warn("Disk almost full");
  out.debug("hidden");
  assert.equal(stderr.text, "sfs: warning: Disk almost full\n");
  const dbg = setup({ debug: true });
  dbg.out.debug("frame 3");
  assert.equal(dbg.stderr.text, "sfs: debug: frame 3\n");
});

Deno.test("Output.error() prints message and hint without a stack", () => {
  const { out, stdout, stderr } = setup();
  const e = out.error(new SfsError("BAD_TICKET", "Ticket is malformed", { hint: "Copy it again" }));
  assert.equal(e.code, "BAD_TICKET");
  assert.equal(stderr.text, "sfs: error: Ticket is malformed\nsfs: hint: Copy it again\n");
  assert.equal(stdout.text, "");
});

Deno.test("Output.error() words a lower layer's remedy with the CLI's options", async (t) => {
  // Complete by type: a new remedy needs a row here.
  const cases: { [R in Remedy]: RegExp } = {
    "fewer-signatures": /--require/,
    "replace-or-elsewhere": /--force.*--out/,
    "wait-or-elsewhere": /--out/,
    "give-passphrase": /SFS_PASSPHRASE/,
  };
  for (const [remedy, option] of Object.entries(cases) as [Remedy, RegExp][]) {
    await t.step(remedy, () => {
      const { out, stderr } = setup({ json: true });
      out.error(new SfsError("EXISTS", "Taken", { remedy }));
      assert.match(JSON.parse(stderr.text).error.hint, option);
    });
  }
});

Deno.test("Output.error() prints one JSON line on stderr in JSON mode", () => {
  const { out, stdout, stderr } = setup({ json: true });
  out.error(new SfsError("TIMEOUT", "Peer did not answer"));
  assert.deepEqual(JSON.parse(stderr.text), {
    error: { code: "TIMEOUT", message: "Peer did not answer" },
  });
  assert.equal(stderr.text.split("\n").length, 2);
  assert.equal(stdout.text, "");
});

Deno.test("Output.error() adds stack traces, causes included, with debug", () => {
  const { out, stderr } = setup({ debug: true });
  out.error(new SfsError("IO", "Cannot write", { cause: new Error("disk on fire") }));
  assert.match(stderr.text, /^sfs: error: Cannot write\n/);
  assert.match(stderr.text, /Caused by: Error: disk on fire\n\s+at /);
});

Deno.test("toSfsError() maps thrown values to stable codes", async (t) => {
  const nodeError = (code: string) => Object.assign(new Error(`${code} happened`), { code });
  const cases: Array<[string, unknown, ErrorCode]> = [
    ["SfsError passes through", new SfsError("BUSY", "Busy"), "BUSY"],
    ["NotFound", new Deno.errors.NotFound("gone"), "NOT_FOUND"],
    ["AlreadyExists", new Deno.errors.AlreadyExists("there"), "EXISTS"],
    ["PermissionDenied", new Deno.errors.PermissionDenied("no"), "PERMISSION_DENIED"],
    ["ConnectionRefused", new Deno.errors.ConnectionRefused("no"), "CONNECTION_FAILED"],
    ["ConnectionReset", new Deno.errors.ConnectionReset("reset"), "CONNECTION_CLOSED"],
    ["BrokenPipe", new Deno.errors.BrokenPipe("pipe"), "CONNECTION_CLOSED"],
    ["TimedOut", new Deno.errors.TimedOut("slow"), "TIMEOUT"],
    ["AddrInUse", new Deno.errors.AddrInUse("taken"), "IO"],
    ["NotCapable", new Deno.errors.NotCapable("no --allow-net"), "INTERNAL"],
    ["AbortSignal.timeout", new DOMException("timed out", "TimeoutError"), "TIMEOUT"],
    ["node ENOENT", nodeError("ENOENT"), "NOT_FOUND"],
    ["node ECONNREFUSED", nodeError("ECONNREFUSED"), "CONNECTION_FAILED"],
    ["node EPIPE", nodeError("EPIPE"), "CONNECTION_CLOSED"],
    ["node ENOSPC", nodeError("ENOSPC"), "NO_SPACE"],
    ["a code named like an object key", nodeError("constructor"), "INTERNAL"],
    ["an error with a code no one maps", nodeError("commander.unknownOption"), "INTERNAL"],
    ["plain Error", new Error("boom"), "INTERNAL"],
    ["an error code named like an Object member", nodeError("constructor"), "INTERNAL"],
    [
      "a user Error named NotFound",
      Object.assign(new Error("x"), { name: "NotFound" }),
      "INTERNAL",
    ],
    ["a thrown string", "boom", "INTERNAL"],
    ["undefined", undefined, "INTERNAL"],
  ];
  for (const [name, thrown, code] of cases) {
    await t.step(name, () => {
      const e = toSfsError(thrown);
      assert.ok(e instanceof SfsError);
      assert.equal(e.code, code);
      assert.notEqual(e.message, "");
    });
  }
});

Deno.test("toSfsError() keeps the original error as cause", () => {
  const original = new Deno.errors.NotFound("gone");
  assert.equal(toSfsError(original).cause, original);
});

Deno.test("exitCodeFor() separates usage, verification and network failures", () => {
  assert.equal(exitCodeFor("USAGE"), 2);
  for (
    const code of [
      "BAD_SIGNATURE",
      "KEY_MISMATCH",
      "CHUNK_AUTH_FAILED",
      "HASH_MISMATCH",
      "SIZE_MISMATCH",
      "TRUNCATED",
      "TRAILING_DATA",
      "DECRYPT_FAILED",
    ] as const
  ) assert.equal(exitCodeFor(code), 3, code);
  for (const code of ["CONNECTION_FAILED", "CONNECTION_CLOSED", "TIMEOUT"] as const) {
    assert.equal(exitCodeFor(code), 4, code);
  }
  for (const code of ["INTERNAL", "NOT_FOUND", "IO", "REFUSED"] as const) {
    assert.equal(exitCodeFor(code), 1, code);
  }
});

Deno.test("Output escapes controls and bidi characters in every line it prints", async (t) => {
  const hostile = "\u001b]0;pwned\u0007a\u202eb\u009bc\u2028d";
  const shown = "\\u{1b}]0;pwned\\u{7}a\\u{202e}b\\u{9b}c\\u{2028}d";
  await t.step("human lines keep their own line breaks", () => {
    const { out, stdout, stderr } = setup({ debug: true });
    out.info(`Saved ${hostile}`);
    out.note(`Fetching ${hostile}\nsecond line`);
    out.warn(hostile);
    out.debug(hostile);
    out.error(new SfsError("IO", hostile, { hint: hostile }));
    assert.equal(stdout.text, `Saved ${shown}\n`);
    assert.ok(stderr.text.startsWith(`Fetching ${shown}\nsecond line\nsfs: warning: ${shown}\n`));
    assert.ok(stderr.text.includes(`sfs: error: ${shown}\nsfs: hint: ${shown}\n`));
    for (const text of [stdout.text, stderr.text]) {
      assert.ok(isDisplaySafe(text.replaceAll("\n", "")), text);
    }
  });
  await t.step("JSON lines keep their values", () => {
    const { out, stdout, stderr } = setup({ json: true });
    out.event("start", { name: hostile });
    out.result([hostile]);
    out.error(new SfsError("IO", hostile));
    assert.deepEqual(JSON.parse(stdout.text.split("\n")[0]), { event: "start", name: hostile });
    assert.deepEqual(JSON.parse(stdout.text.split("\n")[1]), [hostile]);
    assert.equal(JSON.parse(stderr.text).error.message, hostile);
    for (const text of [stdout.text, stderr.text]) {
      assert.ok(isDisplaySafe(text.replaceAll("\n", "")), text);
    }
  });
});
