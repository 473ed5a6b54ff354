import assert from "node:assert/strict";
import { join } from "node:path";
import { isSfsError, SfsError } from "../../errors.ts";
import { tempDir } from "../../../tests/harness.ts";
import { isJsonObject, type JsonFormat, readJsonFile, updateJsonFile } from "./json_file.ts";

/** Accepts `{"n": number}`; records what parse() was given. */
function counterFormat(seen: unknown[] = []): JsonFormat<{ n: number }> {
  return {
    parse(value) {
      seen.push(value);
      if (!isJsonObject(value) || typeof value.n !== "number") {
        throw new SfsError("USAGE", "Not a counter");
      }
      return { n: value.n };
    },
    empty: () => ({ n: 0 }),
  };
}

Deno.test("readJsonFile() gives empty() for a missing file and undefined to parse() for non-JSON", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "counter.json");
  assert.deepEqual(await readJsonFile(path, counterFormat()), { n: 0 });
  await Deno.writeTextFile(path, "{not json");
  const seen: unknown[] = [];
  await assert.rejects(readJsonFile(path, counterFormat(seen)), (err) => isSfsError(err, "USAGE"));
  assert.deepEqual(seen, [undefined]);
});

Deno.test("readJsonFile() refuses a file over maxBytes with USAGE", async (t) => {
  await using dir = await tempDir();
  const path = join(dir.path, "counter.json");
  const text = '{"n": 1}\n';
  await Deno.writeTextFile(path, text);
  await t.step("maxBytes = size: read", async () => {
    assert.deepEqual(await readJsonFile(path, counterFormat(), { maxBytes: text.length }), {
      n: 1,
    });
  });
  await t.step("maxBytes = size - 1: USAGE", async () => {
    await assert.rejects(
      readJsonFile(path, counterFormat(), { maxBytes: text.length - 1 }),
      (err) => isSfsError(err, "USAGE"),
    );
  });
});

Deno.test("updateJsonFile() writes indented JSON, and nothing when update returns undefined", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "counter.json");
  await updateJsonFile(path, counterFormat(), (c) => ({ n: c.n + 1 }));
  assert.equal(await Deno.readTextFile(path), '{\n  "n": 1\n}\n');
  const before = await Deno.stat(path);
  await updateJsonFile(path, counterFormat(), () => undefined);
  assert.equal((await Deno.stat(path)).ino, before.ino);
});
