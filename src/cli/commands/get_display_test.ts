import assert from "node:assert/strict";
import { screenOf } from "../../../tests/terminal.ts";
import { Output } from "../output.ts";
import { transferDisplay } from "./get_display.ts";

const MIB = 1024 * 1024;

/** A display drawing on a terminal the test reads, on a clock the test moves. */
function display() {
  const written: string[] = [];
  const clock = { now: 0 };
  const sink = { writeSync: (p: Uint8Array) => p.length };
  const out = new Output({ json: false, quiet: false, debug: false, stdout: sink, stderr: sink });
  const shown = transferDisplay(out, {
    progress: {
      isTerminal: () => true,
      write: (s) => written.push(s),
      columns: 120,
      now: () => clock.now,
    },
  });
  return { shown, clock, screen: () => screenOf(written.join("")) };
}

Deno.test("transferDisplay() rates a resumed folder by the bytes of this run only", () => {
  const { shown, clock, screen } = display();
  const peer = undefined as never;
  shown.onTreeStart({ name: "photos", files: 10, entries: 11, totalBytes: 100 * MIB }, peer);
  // Nine files kept from the earlier run, then the first report before this run's bytes.
  for (let i = 1; i <= 9; i++) {
    const file = { path: `${i}.jpg`, size: 10 * MIB, sha256: "", kept: true, filesDone: i };
    shown.onFile(file);
  }
  shown.onProgress(90 * MIB);
  clock.now = 1000;
  shown.onProgress(91 * MIB);
  assert.match(screen().at(-1)!, / 91% 91\.0 MiB\/100\.0 MiB 9\/10 files 1\.0 MiB\/s ETA 9s$/);
});
