import assert from "node:assert/strict";
import { formatBytes, formatDuration, formatRate, ProgressBoard } from "./progress.ts";
import { screenOf } from "../../tests/terminal.ts";

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

/** A board drawing into `written`, on a clock the test moves. */
function board(options: { columns?: number; quiet?: boolean; terminal?: boolean } = {}) {
  const written: string[] = [];
  const clock = { now: 0 };
  const events: Array<Record<string, unknown>> = [];
  const progress = new ProgressBoard({
    quiet: options.quiet,
    isTerminal: () => options.terminal ?? true,
    write: (s) => written.push(s),
    columns: options.columns ?? 120,
    now: () => clock.now,
    onEvent: (fields) => events.push(fields),
  });
  return { progress, written, clock, events, text: () => written.join("") };
}

Deno.test("ProgressBoard.add() draws nothing when stderr is not a terminal, or when quiet", () => {
  for (const b of [board({ terminal: false }), board({ quiet: true })]) {
    const row = b.progress.add({ label: "file.bin", total: 1000 });
    row.update(500);
    row.finish();
    assert.deepEqual(b.written, []);
    // Events (--json) do not depend on the terminal.
    assert.deepEqual(b.events.at(-1), { bytes: 500, total: 1000 });
  }
});

Deno.test("ProgressRow.finish() leaves the final line, once", () => {
  const b = board();
  const row = b.progress.add({ label: "file.bin", total: 2048 });
  b.clock.now = 1000;
  row.update(2048);
  row.finish();
  row.finish();
  assert.deepEqual(screenOf(b.text()), [
    "file.bin [####################] 100% 2.0 KiB/2.0 KiB 2.0 KiB/s ETA 0s",
  ]);
});

Deno.test("ProgressBoard shows one line per row, each with its own bytes", () => {
  const b = board();
  const alice = b.progress.add({ label: "→ alice", total: 1000 });
  const bob = b.progress.add({ label: "→ bob", total: 4000 });
  b.clock.now = 1000;
  alice.update(500);
  b.clock.now = 1200;
  bob.update(1000);
  const lines = screenOf(b.text());
  assert.equal(lines.length, 2, lines.join("\n"));
  assert.match(lines[0], /^→ alice \[#+-+\] {2}50% 500 B\/1000 B /);
  assert.match(lines[1], /^→ bob \[#+-+\] {2}25% 1000 B\/3\.9 KiB /);
  // The first to finish leaves its final line above; the other keeps drawing below it.
  alice.update(1000);
  alice.finish();
  b.clock.now = 2000;
  bob.update(2000);
  const after = screenOf(b.text());
  assert.equal(after.length, 2, after.join("\n"));
  assert.match(after[0], /^→ alice .* 100% 1000 B\/1000 B/);
  assert.match(after[1], /^→ bob .* {2}50% 2\.0 KiB\/3\.9 KiB/);
});

Deno.test("ProgressRow.remove() leaves no line behind, and text printed goes above the rows", () => {
  const b = board();
  const failed = b.progress.add({ label: "→ carol", total: 1000 });
  const going = b.progress.add({ label: "→ dave", total: 1000 });
  b.clock.now = 500;
  failed.update(100);
  failed.remove();
  b.progress.clear();
  b.written.push("sfs: warning: Transfer to carol failed\n");
  b.progress.redraw();
  going.update(10);
  const lines = screenOf(b.text());
  assert.equal(lines.length, 2, lines.join("\n"));
  assert.equal(lines[0], "sfs: warning: Transfer to carol failed");
  assert.match(lines[1], /^→ dave /);
});

Deno.test("ProgressBoard fits the line to the width by shortening the name, never the numbers", () => {
  const b = board({ columns: 80 });
  const name = "a-very-long-file-name-that-goes-on-and-on-and-on-for-ever-2026-12-04.tar.gz";
  const row = b.progress.add({ label: name, total: 10 * 1024 * 1024 });
  b.clock.now = 2000;
  row.update(5 * 1024 * 1024);
  const [line] = screenOf(b.text());
  assert.ok([...line].length <= 79, line);
  assert.match(
    line,
    /^a-very-long.*….*-12-04\.tar\.gz \[#+-+\] {2}50% 5\.0 MiB\/10\.0 MiB 2\.5 MiB\/s ETA 2s$/,
  );
});

Deno.test("ProgressBoard counts only this run's bytes in the rate of a resumed row", () => {
  const b = board();
  const row = b.progress.add({
    label: "big.iso",
    total: 100 * 1024 * 1024,
    from: 90 * 1024 * 1024,
  });
  b.clock.now = 1000;
  row.update(91 * 1024 * 1024);
  const [line] = screenOf(b.text());
  assert.match(line, / 91% 91\.0 MiB\/100\.0 MiB 1\.0 MiB\/s ETA 9s$/);
});

Deno.test("ProgressBoard sends at most four progress events a second per row", () => {
  const b = board({ terminal: false });
  const row = b.progress.add({ label: "x", total: 1000, fields: { name: "x" } });
  for (let t = 0; t <= 1000; t += 10) {
    b.clock.now = t;
    row.update(t);
  }
  row.finish();
  // One at the start, one every 250 ms, and the final state.
  assert.ok(b.events.length <= 7, String(b.events.length));
  assert.deepEqual(b.events.at(-1), { name: "x", bytes: 1000, total: 1000 });
});

Deno.test("ProgressBoard shows a label's escape sequences as text, never sends them", () => {
  const b = board({ columns: 200 });
  const row = b.progress.add({ label: "\u001b]52;c;eA==\u0007a\u202etxt.exe", total: 10 });
  row.update(10);
  row.finish();
  const text = b.text();
  assert.ok(text.includes("\\u{1b}]52;c;eA==\\u{7}a\\u{202e}txt.exe ["), text);
  assert.ok(!text.includes("\u001b]"), "no OSC sequence");
  assert.ok(!text.includes("\u0007") && !text.includes("\u202e"), "no BEL, no bidi override");
});

Deno.test("ProgressBoard shows one line for a folder, with files done of files in all", () => {
  const b = board();
  const row = b.progress.add({ label: "photos", total: 4096, files: 3 });
  b.clock.now = 1000;
  row.update(2048, { filesDone: 2, current: "2026/\u001b[2Jb.jpg" });
  const [line] = screenOf(b.text());
  assert.match(
    line,
    /^photos\/2026\/\\u\{1b\}\[2Jb\.jpg \[#+-+\] {2}50% 2\.0 KiB\/4\.0 KiB 2\/3 files 2\.0 KiB\/s ETA 1s$/,
  );
  row.update(4096, { filesDone: 3 });
  row.finish();
  assert.match(screenOf(b.text()).at(-1)!, /^photos \[#+\] 100% 4\.0 KiB\/4\.0 KiB 3\/3 files /);
  assert.deepEqual(b.events.at(-1), { bytes: 4096, total: 4096, files: 3, files_total: 3 });
});
