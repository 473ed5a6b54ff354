import assert from "node:assert/strict";
import { formatLine, shortenMiddle } from "./progress_line.ts";

Deno.test("shortenMiddle() keeps both ends and marks the cut", async (t) => {
  const cases: Array<[string, number, string]> = [
    ["report.pdf", 20, "report.pdf"],
    ["report.pdf", 10, "report.pdf"],
    ["report.pdf", 9, "repo….pdf"],
    ["report.pdf", 1, "…"],
    ["report.pdf", 0, ""],
  ];
  for (const [text, width, want] of cases) {
    await t.step(`${text} in ${width}`, () => assert.equal(shortenMiddle(text, width), want));
  }
});

Deno.test("formatLine() keeps every number at any usable width", async (t) => {
  const name = "a-very-long-file-name-that-goes-on-and-on-and-on-for-ever-2026-12-04.tar.gz";
  const state = { label: name, done: 5 * 1024 * 1024, total: 10 * 1024 * 1024, rate: 1024 * 1024 };
  const numbers = " 50% 5.0 MiB/10.0 MiB 1.0 MiB/s ETA 5s";
  for (const columns of [200, 120, 80, 60, 50]) {
    await t.step(`${columns} columns`, () => {
      const line = formatLine(state, columns);
      assert.ok([...line].length <= columns - 1, line);
      assert.ok(line.endsWith(numbers), line);
    });
  }
  await t.step("the whole name when it fits", () => {
    assert.ok(formatLine(state, 200).startsWith(`${name} [`));
  });
  await t.step("no bar rather than a name cut to nothing", () => {
    assert.ok(!formatLine(state, 50).includes("["), formatLine(state, 50));
  });
});
