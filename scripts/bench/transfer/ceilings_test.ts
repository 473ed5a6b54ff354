import assert from "node:assert/strict";
import { memoryCharge } from "./ceilings.ts";

Deno.test("memoryCharge() speaks when fresh memory wrote at under half the rate of freed pages", () => {
  const [line] = memoryCharge({ pageCacheWrite: 968, pageCacheRewrite: 7872 });
  assert.match(line, /8\.1× slower/);
  assert.deepEqual(memoryCharge({ pageCacheWrite: 8940, pageCacheRewrite: 9048 }), []);
  assert.deepEqual(memoryCharge({ pageCacheWrite: 4000, pageCacheRewrite: 7999 }), []);
});

Deno.test("memoryCharge() says nothing when a rate was not measured", () => {
  assert.deepEqual(memoryCharge({ pageCacheWrite: "not run", pageCacheRewrite: 9000 }), []);
  assert.deepEqual(memoryCharge({ pageCacheWrite: 0, pageCacheRewrite: 9000 }), []);
});
