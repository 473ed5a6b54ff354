import assert from "node:assert/strict";
import { tokens, toTsQuery, toTsVector } from "./fts.ts";

Deno.test("tokens() cuts like unicode61: letters and digits, folded, without accents", () => {
  assert.deepEqual(tokens("Quarterly_Report-2025.final.PDF"), [
    "quarterly",
    "report",
    "2025",
    "final",
    "pdf",
  ]);
  assert.deepEqual(tokens("Re\u0301sume\u0301 Café"), ["resume", "cafe"]);
  assert.deepEqual(tokens("日本語のファイル"), ["日本語のファイル"]);
  assert.deepEqual(tokens("ΟΔΟΣ οδος"), ["οδοσ", "οδοσ"]);
  assert.deepEqual(tokens(" - * 🙂 "), []);
});

Deno.test("toTsVector() keeps name and keywords apart by one position", () => {
  assert.equal(toTsVector("a b", ["c", "b d"]), "'a':1 'b':2,5 'c':4 'd':6");
  assert.equal(toTsVector("x", []), "'x':1");
});

Deno.test("toTsQuery() quotes every term and adds prefixes only to longer last words", () => {
  assert.equal(toTsQuery("report"), "'report':*");
  assert.equal(toTsQuery('say "hi" a'), "'say':* & 'hi':* & 'a'");
  assert.equal(toTsQuery("x-y q3-report"), "('x' <-> 'y') & ('q3' <-> 'report':*)");
  assert.equal(toTsQuery("It's"), "('it' <-> 's')");
  assert.equal(toTsQuery("dup dup"), "'dup':*");
  assert.equal(toTsQuery(' * - " '), undefined);
  assert.equal(toTsQuery(""), undefined);
  const many = toTsQuery(Array.from({ length: 20 }, (_, i) => `t${i}`).join(" "));
  assert.equal(many?.split(" & ").length, 8);
});
