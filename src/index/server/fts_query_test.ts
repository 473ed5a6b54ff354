import assert from "node:assert/strict";
import { toFtsQuery } from "./fts_query.ts";

Deno.test("toFtsQuery() quotes every term and adds prefix stars only to longer words", () => {
  assert.equal(toFtsQuery("report"), '"report"*');
  assert.equal(toFtsQuery('say "hi" a'), '"say"* AND """hi"""* AND "a"');
  assert.equal(toFtsQuery("NEAR( x-y"), '"NEAR("* AND "x-y"');
  assert.equal(toFtsQuery("dup dup"), '"dup"*');
  assert.equal(toFtsQuery(' * - " '), undefined);
  assert.equal(toFtsQuery(""), undefined);
  const many = toFtsQuery(Array.from({ length: 20 }, (_, i) => `t${i}`).join(" "));
  assert.equal(many?.split(" AND ").length, 8);
});
