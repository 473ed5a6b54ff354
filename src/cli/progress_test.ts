import assert from "node:assert/strict";
import { formatBytes, formatDuration, formatRate, Progress } from "./progress.ts";

Deno.test("formatBytes() uses binary units with one decimal", async (t) => {
  const cases: Array<[number, string]> = [
    [0, "0 B"],
    [1, "1 B"],
    [1023, "1023 B"],
    [1024, "1.0 KiB"],
    [1536, "1.5 KiB"],
    [1024 * 1024 - 1, "1.0 MiB"],
    [1024 * 1024, "1.0 MiB"],
    [12.34 * 1024 * 1024, "12.3 MiB"],
    [5 * 1024 ** 3, "5.0 GiB"],
    [2 * 1024 ** 4, "2.0 TiB"],
    [3 * 1024 ** 6, "3072.0 PiB"],
    [-1, "? B"],
    [Number.NaN, "? B"],
  ];
  for (const [n, want] of cases) {
    await t.step(`${n} → ${want}`, () => assert.equal(formatBytes(n), want));
  }
});

Deno.test("formatRate() appends per second", () => {
  assert.equal(formatRate(0), "0 B/s");
  assert.equal(formatRate(1.5 * 1024 * 1024), "1.5 MiB/s");
});

Deno.test("formatDuration() shows seconds, minutes and hours", () => {
  assert.equal(formatDuration(0), "0s");
  assert.equal(formatDuration(59.4), "59s");
  assert.equal(formatDuration(185), "3m05s");
  assert.equal(formatDuration(7620), "2h07m");
  assert.equal(formatDuration(Number.NaN), "--");
  assert.equal(formatDuration(Number.POSITIVE_INFINITY), "--");
});

Deno.test("Progress.start() renders nothing when stderr is not a terminal", () => {
  const written: string[] = [];
  const bar = new Progress({ isTerminal: () => false, write: (s) => written.push(s) });
  bar.start("file.bin", 1000);
  bar.update(500);
  bar.finish();
  assert.deepEqual(written, []);
});

Deno.test("Progress.start() renders nothing when quiet, even on a terminal", () => {
  const written: string[] = [];
  const bar = new Progress({ quiet: true, isTerminal: () => true, write: (s) => written.push(s) });
  bar.start("file.bin", 1000);
  bar.update(1000);
  bar.finish();
  assert.deepEqual(written, []);
});

Deno.test("Progress.finish() draws the final state on a terminal and ends the line", () => {
  const written: string[] = [];
  const bar = new Progress({ isTerminal: () => true, write: (s) => written.push(s), columns: 120 });
  bar.start("file.bin", 2048);
  bar.update(2048);
  bar.finish();
  bar.finish(); // a second finish() must not draw again
  const text = written.join("");
  assert.ok(text.includes("file.bin [####################] 100% 2.0 KiB/2.0 KiB"), text);
  assert.ok(text.endsWith("\n"));
  assert.equal(text.split("\n").length, 2);
});

Deno.test("Progress.start() shows a label's escape sequences as text, never sends them", () => {
  const written: string[] = [];
  const bar = new Progress({ isTerminal: () => true, write: (s) => written.push(s), columns: 200 });
  bar.start("\u001b]52;c;eA==\u0007a\u202etxt.exe", 10);
  bar.update(10);
  bar.finish();
  const text = written.join("");
  assert.ok(text.includes("\\u{1b}]52;c;eA==\\u{7}a\\u{202e}txt.exe ["), text);
  assert.ok(!text.includes("\u001b]"), "no OSC sequence");
  assert.ok(!text.includes("\u0007") && !text.includes("\u202e"), "no BEL, no bidi override");
});
