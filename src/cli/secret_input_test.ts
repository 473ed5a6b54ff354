import assert from "node:assert/strict";
import { isSfsError, SfsError } from "../errors.ts";
import type { TerminalInput } from "./prompt.ts";
import { type EmptySecret, readSecretInput, useSecretInput } from "./secret_input.ts";

/** A terminal (or not) on which the person types `lines`, one read each. */
function terminal(isTerminal: boolean, lines: string[] = []): TerminalInput {
  return {
    isTerminal: () => isTerminal,
    setRaw: () => {},
    read(p) {
      const line = lines.shift();
      if (line === undefined) return Promise.resolve(null);
      const bytes = new TextEncoder().encode(`${line}\r`);
      p.set(bytes);
      return Promise.resolve(bytes.length);
    },
  };
}

function read(
  empty: EmptySecret,
  input: { env?: string; stdin: TerminalInput; repeat?: boolean; noTerminal?: string },
) {
  const none: string[] = [];
  const result = readSecretInput({
    env: "SECRET",
    question: "Secret: ",
    empty,
    repeat: input.repeat ? { question: "Again: ", mismatch: "Different" } : undefined,
    noTerminal: input.noTerminal,
    onNone: (reason) => none.push(reason),
    getEnv: (name) => name === "SECRET" ? input.env : undefined,
    stdin: input.stdin,
    write: () => {},
  });
  return { result, none };
}

const usage = (err: unknown) => isSfsError(err, "USAGE");

Deno.test("readSecretInput() takes a set variable without asking", async () => {
  for (const empty of ["value", "none", { refuse: "Empty" }] as const) {
    assert.equal(await read(empty, { env: "s3cret", stdin: terminal(false) }).result, "s3cret");
  }
});

Deno.test("readSecretInput() gives an empty variable the meaning of `empty`", async (t) => {
  await t.step("value: the empty string", async () => {
    assert.equal(await read("value", { env: "", stdin: terminal(false) }).result, "");
  });
  await t.step("none: undefined, not reported", async () => {
    const { result, none } = read("none", { env: "", stdin: terminal(false) });
    assert.equal(await result, undefined);
    assert.deepEqual(none, []);
  });
  await t.step("refuse: unset, so the terminal is asked", async () => {
    const { result } = read({ refuse: "Empty" }, { env: "", stdin: terminal(true, ["typed"]) });
    assert.equal(await result, "typed");
  });
});

Deno.test("readSecretInput() without a terminal: none, or USAGE", async (t) => {
  await t.step("none: undefined, reported", async () => {
    const { result, none } = read("none", { stdin: terminal(false) });
    assert.equal(await result, undefined);
    assert.deepEqual(none, ["no terminal"]);
  });
  await t.step("value and refuse: USAGE", async () => {
    await assert.rejects(read("value", { stdin: terminal(false) }).result, usage);
    const refuse = read({ refuse: "Empty" }, { stdin: terminal(false), noTerminal: "No tty" });
    await assert.rejects(refuse.result, usage);
  });
});

Deno.test("readSecretInput() gives an empty answer the meaning of `empty`", async (t) => {
  await t.step("value: the empty string", async () => {
    assert.equal(await read("value", { stdin: terminal(true, [""]) }).result, "");
  });
  await t.step("none: undefined, reported, not asked again", async () => {
    const { result, none } = read("none", { stdin: terminal(true, [""]), repeat: true });
    assert.equal(await result, undefined);
    assert.deepEqual(none, ["empty answer"]);
  });
  await t.step("refuse: USAGE", async () => {
    await assert.rejects(read({ refuse: "Empty" }, { stdin: terminal(true, [""]) }).result, usage);
  });
});

Deno.test("readSecretInput() with repeat wants the same answer twice", async () => {
  const same = read("none", { stdin: terminal(true, ["abc", "abc"]), repeat: true });
  assert.equal(await same.result, "abc");
  const other = read("none", { stdin: terminal(true, ["abc", "abd"]), repeat: true });
  await assert.rejects(other.result, usage);
});

Deno.test("readSecretInput() asks again after a mismatch, up to 3 times", async () => {
  const second = read("none", {
    stdin: terminal(true, ["abc", "abd", "xyz", "xyz"]),
    repeat: true,
  });
  assert.equal(await second.result, "xyz");
  const lines = ["a", "b", "c", "d", "e", "f", "g", "g"];
  const third = read("none", { stdin: terminal(true, lines), repeat: true });
  await assert.rejects(third.result, usage);
});

Deno.test("useSecretInput() asks again while the typed secret is wrong, up to 3 times", async () => {
  const wrong = () => Promise.reject(new SfsError("BAD_PASSPHRASE", "Wrong passphrase"));
  const options = {
    env: "SECRET",
    question: "Secret: ",
    empty: "value" as const,
    getEnv: () => undefined,
    write: () => {},
  };
  const tried: string[] = [];
  const right = await useSecretInput(
    { ...options, stdin: terminal(true, ["one", "two", "three"]) },
    (secret) => (tried.push(secret), secret === "three" ? Promise.resolve(secret) : wrong()),
    (err) => isSfsError(err, "BAD_PASSPHRASE"),
  );
  assert.equal(right, "three");
  assert.deepEqual(tried, ["one", "two", "three"]);
  await assert.rejects(
    useSecretInput(
      { ...options, stdin: terminal(true, ["1", "2", "3", "4"]) },
      wrong,
      (err) => isSfsError(err, "BAD_PASSPHRASE"),
    ),
    (err) => isSfsError(err, "BAD_PASSPHRASE"),
  );
  // From the environment: used once, never asked.
  await assert.rejects(
    useSecretInput(
      { ...options, getEnv: () => "env", stdin: terminal(true, ["typed"]) },
      wrong,
      () => true,
    ),
    (err) => isSfsError(err, "BAD_PASSPHRASE"),
  );
});
