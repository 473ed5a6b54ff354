import assert from "node:assert/strict";
import { SfsError } from "../errors.ts";
import { Lent } from "./lent.ts";

/** A connected TCP pair on loopback. */
async function pair(): Promise<{ outer: Deno.TcpConn; inner: Deno.TcpConn }> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const outer = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const inner = await listener.accept();
  return { outer, inner };
}

Deno.test("Lent.take() throws INTERNAL while part of the prefix is unread", async () => {
  const { outer, inner } = await pair();
  const lent = new Lent(inner, { prefix: new Uint8Array([1, 2, 3]) });
  assert.throws(() => lent.take(), (err) => err instanceof SfsError && err.code === "INTERNAL");
  lent.close();
  outer.close();
});

Deno.test("Lent.read() gives the prefix first, and close() after take() leaves the conn open", async () => {
  const { outer, inner } = await pair();
  const lent = new Lent(inner, { prefix: new Uint8Array([1, 2, 3]) });
  const buffer = new Uint8Array(2);
  assert.equal(await lent.read(buffer), 2);
  assert.deepEqual([...buffer], [1, 2]);
  assert.equal(await lent.read(buffer), 1);
  assert.equal(buffer[0], 3);
  const conn = lent.take();
  lent.close();
  await outer.write(new Uint8Array([9]));
  assert.equal(await conn.read(buffer), 1);
  assert.equal(buffer[0], 9);
  conn.close();
  outer.close();
});
