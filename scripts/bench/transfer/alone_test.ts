import assert from "node:assert/strict";
import { oneCoreCeiling } from "./alone.ts";

Deno.test("oneCoreCeiling() adds each step's time per byte", () => {
  assert.equal(oneCoreCeiling([1000, 1000]), 500);
  assert.equal(oneCoreCeiling([900, 4500, 1800]), 1 / (1 / 900 + 1 / 4500 + 1 / 1800));
  assert.equal(oneCoreCeiling([2000]), 2000);
});

Deno.test("oneCoreCeiling() is undefined when a step was not measured", () => {
  assert.equal(oneCoreCeiling([1000, "not run"]), undefined);
  assert.equal(oneCoreCeiling([1000, 0]), undefined);
});
