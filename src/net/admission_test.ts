import assert from "node:assert/strict";
import { Admission } from "./admission.ts";

class FakeConn {
  closed = false;
  close(): void {
    this.closed = true;
  }
}

Deno.test("Admission.admit() drops the oldest pending connection when full", () => {
  const admission = new Admission<FakeConn>({ maxPending: 2, maxActive: 1 });
  const [a, b, c] = [new FakeConn(), new FakeConn(), new FakeConn()];
  admission.admit(a);
  admission.admit(b);
  admission.admit(c);
  assert.deepEqual([a.closed, b.closed, c.closed], [true, false, false]);
  assert.equal(admission.pending, 2);
});

Deno.test("Admission.promote() enforces the active limit and frees the pending slot", () => {
  const admission = new Admission<FakeConn>({ maxPending: 2, maxActive: 1 });
  const [a, b] = [new FakeConn(), new FakeConn()];
  admission.admit(a);
  admission.admit(b);
  assert.equal(admission.promote(a), true);
  assert.equal(admission.promote(b), false);
  assert.equal(admission.pending, 0);
  assert.equal(admission.active, 1);
  admission.release(a);
  assert.equal(admission.active, 0);
  assert.equal(b.closed, false, "refusing is the caller's job, so it can say BUSY first");
});

Deno.test("Admission.closeAll() closes pending and active connections", () => {
  const admission = new Admission<FakeConn>({ maxPending: 2, maxActive: 2 });
  const [a, b] = [new FakeConn(), new FakeConn()];
  admission.admit(a);
  admission.admit(b);
  admission.promote(b);
  admission.closeAll();
  assert.deepEqual([a.closed, b.closed], [true, true]);
});

Deno.test("Admission.full turns true only once promoted connections fill the active limit", () => {
  const admission = new Admission<FakeConn>({ maxPending: 4, maxActive: 1 });
  const [a, b, c] = [new FakeConn(), new FakeConn(), new FakeConn()];
  // Pending connections (claims without a proof) never fill the slots at work.
  admission.admit(a);
  admission.admit(b);
  admission.admit(c);
  assert.equal(admission.full, false);
  admission.promote(b);
  assert.equal(admission.full, true);
  assert.equal(admission.pending, 2);
  admission.release(b);
  assert.equal(admission.full, false);
});
