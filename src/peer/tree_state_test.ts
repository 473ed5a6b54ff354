import assert from "node:assert/strict";
import {
  encodeTreeState,
  loadTreeState,
  parseTreeState,
  TREE_STATE_BYTES,
  type TreeState,
  TreeStateFile,
} from "./tree_state.ts";

const STATE: TreeState = {
  shareId: new Uint8Array(16).fill(1),
  sender: new Uint8Array(32).fill(2),
  manifestHash: new Uint8Array(32).fill(3),
  chunkSize: 262144,
  entry: 17,
  verified: 3 * 262144,
};

Deno.test("encodeTreeState() pads to its fixed size and parses back", () => {
  const bytes = encodeTreeState(STATE);
  assert.equal(bytes.length, TREE_STATE_BYTES);
  assert.deepEqual(parseTreeState(new TextDecoder().decode(bytes)), STATE);
});

Deno.test("parseTreeState() refuses what is not a state of ours", async (t) => {
  const good = JSON.parse(new TextDecoder().decode(encodeTreeState(STATE)));
  const cases: Array<[string, Record<string, unknown>]> = [
    ["another format", { ...good, format: "sfs-partial" }],
    ["another version", { ...good, version: 2 }],
    ["a short share id", { ...good, shareId: "01" }],
    ["a negative entry", { ...good, entry: -1 }],
    ["verified bytes off a chunk boundary", { ...good, verified: 1000 }],
    ["a zero chunk size", { ...good, chunkSize: 0 }],
    ["a fractional entry", { ...good, entry: 1.5 }],
  ];
  for (const [what, value] of cases) {
    await t.step(what, () => assert.equal(parseTreeState(JSON.stringify(value)), undefined));
  }
  await t.step("not JSON", () => assert.equal(parseTreeState("{"), undefined));
});

Deno.test("TreeStateFile.record() rewrites the state in place", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sfs-tree-state-" });
  try {
    const path = `${dir}/state`;
    const file = await TreeStateFile.create(path, { ...STATE, entry: 0, verified: 0 });
    const inode = (await Deno.lstat(path)).ino;
    await file.record(5, 262144);
    file.close();
    assert.deepEqual(await loadTreeState(path), { ...STATE, entry: 5, verified: 262144 });
    assert.equal((await Deno.lstat(path)).ino, inode);
    assert.equal((await Deno.lstat(path)).size, TREE_STATE_BYTES);
    // A link planted under the name is not read through.
    await Deno.remove(path);
    await Deno.symlink(`${dir}/elsewhere`, path);
    await Deno.writeFile(`${dir}/elsewhere`, encodeTreeState(STATE));
    assert.equal(await loadTreeState(path), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
