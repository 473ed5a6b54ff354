import assert from "node:assert/strict";
import { isSfsError } from "../errors.ts";
import { confirm, readSecret, type TerminalInput } from "./prompt.ts";

/** A terminal that delivers the given chunks one read at a time, then end of input. */
class FakeTerminal implements TerminalInput {
  rawCalls: boolean[] = [];
  #chunks: Uint8Array[];
  constructor(readonly terminal: boolean, chunks: Array<string | number[]>) {
    this.#chunks = chunks.map((c) =>
      typeof c === "string" ? new TextEncoder().encode(c) : new Uint8Array(c)
    );
  }
  isTerminal(): boolean {
    return this.terminal;
  }
  setRaw(mode: boolean): void {
    this.rawCalls.push(mode);
  }
  read(p: Uint8Array): Promise<number | null> {
    const chunk = this.#chunks.shift();
    if (chunk === undefined) return Promise.resolve(null);
    p.set(chunk);
    return Promise.resolve(chunk.length);
  }
}

function secret(chunks: Array<string | number[]>) {
  const stdin = new FakeTerminal(true, chunks);
  const written: string[] = [];
  const result = readSecret("Passphrase: ", { stdin, write: (s) => written.push(s) });
  return { stdin, written, result };
}

Deno.test("readSecret() returns the typed line without echoing it", async () => {
  const { stdin, written, result } = secret(["hunter", "2\r"]);
  assert.equal(await result, "hunter2");
  assert.deepEqual(written, ["Passphrase: ", "\n"]);
  assert.deepEqual(stdin.rawCalls, [true, false]);
});

Deno.test("readSecret() applies editing keys", async (t) => {
  const cases: Array<[string, Array<string | number[]>, string]> = [
    ["Backspace (DEL)", ["abc\x7fd\r"], "abd"],
    ["Backspace (BS)", ["abc\x08\x08x\n"], "ax"],
    ["Backspace removes a whole multibyte character", ["aé😀\x7f\x7f\r"], "a"],
    ["Backspace on an empty line", ["\x7f\x7fok\r"], "ok"],
    ["Ctrl-U clears the line", ["wrong\x15right\r"], "right"],
    ["arrow keys are ignored", ["a\x1b[Db\x1bOA\r"], "ab"],
    ["a character split across reads", [[0x61, 0xc3], [0xa9, 0x0d]], "aé"],
    ["text after Enter is ignored", ["pass\rmore"], "pass"],
    ["an empty line", ["\r"], ""],
    ["Ctrl-D inside a line is ignored", ["ab\x04c\r"], "abc"],
    ["other control characters are ignored", ["a\tb\x00c\r"], "abc"],
  ];
  for (const [name, chunks, want] of cases) {
    await t.step(name, async () => assert.equal(await secret(chunks).result, want));
  }
});

Deno.test("readSecret() throws USAGE on Ctrl-C and restores the terminal", async (t) => {
  const cases: Array<[string, Array<string | number[]>]> = [
    ["Ctrl-C", ["abc\x03def\r"]],
    ["Ctrl-D on an empty line", ["\x04"]],
    ["end of input", ["abc"]],
  ];
  for (const [name, chunks] of cases) {
    await t.step(name, async () => {
      const { stdin, result } = secret(chunks);
      await assert.rejects(result, (e: unknown) => isSfsError(e, "USAGE"));
      assert.deepEqual(stdin.rawCalls, [true, false]);
    });
  }
});

Deno.test("readSecret() throws USAGE with a hint when stdin is not a terminal", async () => {
  const stdin = new FakeTerminal(false, ["secret\n"]);
  const written: string[] = [];
  await assert.rejects(
    readSecret("Passphrase: ", { stdin, write: (s) => written.push(s), hint: "Set SFS_X" }),
    (e: unknown) => isSfsError(e, "USAGE") && e.hint === "Set SFS_X",
  );
  assert.deepEqual(stdin.rawCalls, []);
  assert.deepEqual(written, []);
});

Deno.test("confirm() accepts only y or yes", async (t) => {
  const cases: Array<[string, boolean]> = [
    ["y\n", true],
    ["Y\n", true],
    ["yes\n", true],
    [" YES \r\n", true],
    ["\n", false],
    ["n\n", false],
    ["yep\n", false],
    ["", false],
  ];
  for (const [input, want] of cases) {
    await t.step(JSON.stringify(input), async () => {
      const written: string[] = [];
      const stdin = new FakeTerminal(true, [input]);
      assert.equal(await confirm("Overwrite?", { stdin, write: (s) => written.push(s) }), want);
      assert.deepEqual(written, ["Overwrite? [y/N] "]);
    });
  }
});

Deno.test("confirm() shows a question's escape sequences as text, never sends them", async () => {
  const written: string[] = [];
  const stdin = new FakeTerminal(true, ["n\n"]);
  const question = "Forget \u001b]52;c;eA==\u0007a\u202etxt?\n  pinned: x";
  assert.equal(await confirm(question, { stdin, write: (s) => written.push(s) }), false);
  const text = written.join("");
  assert.ok(!text.includes("\u001b") && !text.includes("\u0007"), JSON.stringify(text));
  assert.ok(!text.includes("\u202e"), "no bidi override");
  assert.ok(text.includes("\n  pinned: x [y/N] "), JSON.stringify(text));
});

Deno.test("confirm() returns false without asking when stdin is not a terminal", async () => {
  const written: string[] = [];
  const stdin = new FakeTerminal(false, ["y\n"]);
  assert.equal(await confirm("Overwrite?", { stdin, write: (s) => written.push(s) }), false);
  assert.deepEqual(written, []);
});
