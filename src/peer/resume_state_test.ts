import assert from "node:assert/strict";
import {
  encodeResumeState,
  parseResumeState,
  resumeOffset,
  type ResumeState,
  STATE_FILE_BYTES,
} from "./resume_state.ts";

const CHUNK = 16384;
const STATE: ResumeState = {
  fileId: new Uint8Array(16).fill(1),
  sender: new Uint8Array(32).fill(2),
  sha256: new Uint8Array(32).fill(3),
  size: 3 * CHUNK,
  chunkSize: CHUNK,
  name: "f.bin",
  verified: CHUNK,
};

Deno.test("resumeOffset() continues on a chunk boundary, and at the last chunk when all is verified", async (t) => {
  const cases: Array<[string, Partial<ResumeState>, number | RegExp]> = [
    ["nothing verified", { verified: 0 }, 0],
    ["one chunk of three", { verified: CHUNK }, CHUNK],
    ["every byte, size a multiple of the chunk", { verified: 3 * CHUNK }, 2 * CHUNK],
    [
      "every byte, size not a multiple",
      { size: 2 * CHUNK + 5, verified: 2 * CHUNK + 5 },
      2 * CHUNK,
    ],
    ["every byte of a one-chunk file", { size: 5, verified: 5 }, 0],
    ["every byte of an empty file", { size: 0, verified: 0 }, 0],
    ["not on a chunk boundary", { verified: CHUNK + 1 }, /chunk boundary/],
  ];
  for (const [what, change, expected] of cases) {
    await t.step(what, () => {
      const offset = resumeOffset({ ...STATE, ...change });
      if (typeof expected === "number") assert.equal(offset, expected);
      else assert.match(typeof offset === "number" ? "" : offset.reason, expected);
    });
  }
});

Deno.test("encodeResumeState() pads to one fixed size that parseResumeState() reads back", () => {
  const longest = { ...STATE, name: '"\\'.repeat(122), verified: Number.MAX_SAFE_INTEGER };
  for (const state of [STATE, { ...longest, size: Number.MAX_SAFE_INTEGER }]) {
    const bytes = encodeResumeState(state);
    assert.equal(bytes.length, STATE_FILE_BYTES);
    assert.deepEqual(parseResumeState(new TextDecoder().decode(bytes)), state);
    // The fields a checkpoint changes sit in the first 512-byte sector.
    const head = new TextDecoder().decode(bytes.subarray(0, 512));
    assert.ok(head.includes(`"verified":${state.verified},"chunkSize":${state.chunkSize}`));
  }
});
