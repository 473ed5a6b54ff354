/**
 * Runs every scenario in testdata/vectors/ (written by scripts/gen_vectors.ts; format in the
 * folder's README.md) against the real code. An `ok` scenario must compute every value it lists
 * and re-encode to the same bytes; an `error CODE` scenario must fail with that SfsError code.
 * The runners live in tests/vectors/, one module per layer.
 */
import assert from "node:assert/strict";
import { isSfsError } from "../src/errors.ts";
import { MessageType } from "../src/wire/messages.ts";
import { vectorFiles } from "../scripts/gen_vectors.ts";
import { CORE_RUNNERS } from "./vectors/core_runners.ts";
import { HANDSHAKE_RUNNERS } from "./vectors/handshake_runners.ts";
import { MANIFEST_RUNNERS } from "./vectors/manifest_runners.ts";
import { PROTOCOL_RUNNERS } from "./vectors/protocol_runners.ts";
import { TREE_RUNNERS } from "./vectors/tree_runners.ts";
import { loadVectors, type Runner, Vector } from "./vectors/vector.ts";

const DIR = new URL("../testdata/vectors/", import.meta.url);
const RUNNERS: Record<string, Runner> = {
  ...CORE_RUNNERS,
  ...HANDSHAKE_RUNNERS,
  ...PROTOCOL_RUNNERS,
  ...MANIFEST_RUNNERS,
  ...TREE_RUNNERS,
};
/** The kinds whose every field must matter (see the last test). */
const FIELD_CHECKED: Record<string, Runner> = {
  ...PROTOCOL_RUNNERS,
  ...MANIFEST_RUNNERS,
  ...TREE_RUNNERS,
};

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

/** The value with one change: an integer plus one, hex with its first byte flipped, text longer. */
function changed(value: string): string | undefined {
  if (/^(0|[1-9][0-9]*)$/.test(value)) return String(Number(value) + 1);
  if (/^([0-9a-f]{2})+$/.test(value)) {
    return (parseInt(value.slice(0, 2), 16) ^ 0x01).toString(16).padStart(2, "0") + value.slice(2);
  }
  return value === "" ? undefined : `${value}x`;
}

// A runner that ignores a field passes a vector whatever that field says. Changing each field of
// each passing vector, one at a time, shows that every field is checked. Only the protocol kinds:
// the older ones hold fields a change cannot show in (a message body is checked by round trip
// only, X25519 clamps the low bits of a seed, a frame's max_body may grow).
Deno.test("testdata/vectors: a protocol vector with any one field changed fails", async (t) => {
  const vectors = (await loadVectors()).filter((v) => v.expect === "ok" && v.kind in FIELD_CHECKED);
  assert.ok(vectors.length >= 10, `only ${vectors.length} protocol vectors`);
  for (const vector of vectors) {
    await t.step(vector.file, async () => {
      const lines = (await Deno.readTextFile(new URL(vector.file, DIR))).split("\n");
      for (const [index, line] of lines.entries()) {
        const field = /^([a-z0-9_]+): (.*)$/.exec(line);
        if (!field || ["expect", "kind", "note"].includes(field[1])) continue;
        const value = changed(field[2]);
        if (value === undefined) continue;
        const text = lines.with(index, `${field[1]}: ${value}`).join("\n");
        const run = Promise.resolve(new Vector(vector.file, text)).then(RUNNERS[vector.kind]);
        await assert.rejects(run, Error, `${vector.file}: changed ${field[1]} still passes`);
      }
    });
  }
});
