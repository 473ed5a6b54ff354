import assert from "node:assert/strict";
import { splice } from "./splice.ts";

/** Two connected TCP pairs on loopback: [outer a, inner a] and [inner b, outer b]. */
async function pairs(): Promise<
  { a: Deno.TcpConn; innerA: Deno.TcpConn; innerB: Deno.TcpConn; b: Deno.TcpConn }
> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  const a = await Deno.connect({ hostname: "127.0.0.1", port });
  const innerA = await listener.accept();
  const b = await Deno.connect({ hostname: "127.0.0.1", port });
  const innerB = await listener.accept();
  return { a, innerA, innerB, b };
}

async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buffer = new Uint8Array(65536);
  for (let n = await conn.read(buffer); n !== null; n = await conn.read(buffer)) {
    parts.push(buffer.slice(0, n));
  }
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const p of parts) out.set(p, offset), offset += p.length;
  return out;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let done = 0; done < data.length;) done += await conn.write(data.subarray(done));
}

Deno.test("splice() copies both ways byte for byte, passes each end on and counts", async () => {
  const { a, innerA, innerB, b } = await pairs();
  const spliced = splice(innerA, innerB);
  // More than a few buffers' worth each way, written at once from both sides.
  const big = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 31) ^ (i >> 9));
  const back = big.slice(0, 1024 * 1024 + 5);
  const readB = readAll(b);
  const readA = readAll(a);
  await Promise.all([writeAll(a, big), writeAll(b, back)]);
  await a.closeWrite();
  await b.closeWrite();
  const [gotB, gotA, result] = await Promise.all([readB, readA, spliced]);
  assert.deepEqual(gotB, big);
  assert.deepEqual(gotA, back);
  assert.equal(result.aToB, big.length);
  assert.equal(result.bToA, back.length);
  assert.equal(result.reason, "closed");
  a.close();
  b.close();
});

Deno.test("splice() closes both sides on silence and on abort", async (t) => {
  await t.step("silence", async () => {
    const { a, innerA, innerB, b } = await pairs();
    const result = await splice(innerA, innerB, { idleTimeoutMs: 50 });
    assert.equal(result.reason, "idle");
    assert.equal(await a.read(new Uint8Array(1)), null);
    assert.equal(await b.read(new Uint8Array(1)), null);
    a.close();
    b.close();
  });
  await t.step("abort", async () => {
    const { a, innerA, innerB, b } = await pairs();
    const stop = new AbortController();
    const spliced = splice(innerA, innerB, { signal: stop.signal });
    stop.abort();
    assert.equal((await spliced).reason, "aborted");
    a.close();
    b.close();
  });
});
