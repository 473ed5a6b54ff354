import assert from "node:assert/strict";
import { canCollect, countWork, GC_EVERY_UNITS } from "./gc.ts";

/**
 * The next job: a WeakRef keeps its target alive until the job that made or read it ends (and
 * only full collections clear WeakRefs).
 */
const nextJob = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A reference to an object nothing else holds. */
async function unreachable(): Promise<WeakRef<object>> {
  const ref = new WeakRef({ made: performance.now() });
  await nextJob();
  return ref;
}

Deno.test("countWork() collects garbage each time GC_EVERY_UNITS units have added up", async () => {
  // The test task runs V8 with --expose-gc, as the sfs task does (scripts/compile_test.ts).
  assert.ok(canCollect(), "V8 runs without --expose-gc");
  const first = await unreachable();
  countWork(GC_EVERY_UNITS); // at least one collection, whatever was counted before
  assert.equal(first.deref(), undefined);
  countWork(GC_EVERY_UNITS - 1);
  const second = await unreachable();
  assert.notEqual(second.deref(), undefined, "collected before GC_EVERY_UNITS units");
  await nextJob();
  countWork(1);
  assert.equal(second.deref(), undefined, "not collected after GC_EVERY_UNITS units");
});
