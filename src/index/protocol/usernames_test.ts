import assert from "node:assert/strict";
import { isSfsError } from "../../errors.ts";
import { validateUsername } from "./usernames.ts";

Deno.test("validateUsername() returns the lower-case key or throws USAGE", async (t) => {
  for (const [input, key] of [["Alice", "alice"], ["bob.smith_2-x", "bob.smith_2-x"]]) {
    await t.step(`accepts ${input}`, () => assert.equal(validateUsername(input), key));
  }
  await t.step("accepts 3 and 32 characters", () => {
    assert.equal(validateUsername("abc"), "abc");
    assert.equal(validateUsername("a".repeat(32)), "a".repeat(32));
  });
  const bad = [
    "ab",
    "a".repeat(33),
    "",
    "_alice",
    ".alice",
    "-x1",
    "al ice",
    "al/ice",
    "äli",
    "al\n",
  ];
  for (const input of bad) {
    await t.step(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(() => validateUsername(input), (err: unknown) => isSfsError(err, "USAGE"));
    });
  }
});
