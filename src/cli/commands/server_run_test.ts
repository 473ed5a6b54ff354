import assert from "node:assert/strict";
import { formatLogValue } from "./server_run.ts";

Deno.test("formatLogValue() escapes what could drive or fool a terminal", () => {
  const cases: [string | number | boolean, string][] = [
    ["alice", "alice"],
    ["127.0.0.1:9999", "127.0.0.1:9999"],
    [42, "42"],
    [true, "true"],
    ["", '""'],
    ["two words", '"two words"'],
    ['say "hi"\\', String.raw`"say \"hi\"\\"`],
    ["a=b", '"a=b"'],
    ["x\x1b]0;pwned\x07y", String.raw`"x\u001b]0;pwned\u0007y"`],
    ["\x7f\x9b", String.raw`"\u007f\u009b"`],
    ["bob\u202egnp.exe", String.raw`"bob\u202egnp.exe"`],
    [
      "a\u2028b\u00a0c\u200bd\u3000e\tf\ng",
      String.raw`"a\u2028b\u00a0c\u200bd\u3000e\u0009f\u000ag"`,
    ],
    ["\ud800 lone", String.raw`"\ud800 lone"`],
    ["\u{f0000}", String.raw`"\u{f0000}"`],
    ["résumé", '"résumé"'],
  ];
  for (const [value, expected] of cases) assert.equal(formatLogValue(value), expected);
});
