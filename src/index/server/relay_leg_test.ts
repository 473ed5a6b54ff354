import assert from "node:assert/strict";
import { readFirstFrame } from "./relay_leg.ts";

/** Sends `bytes` on a fresh loopback connection; returns the accepted end and the sender. */
async function connected(bytes: Uint8Array) {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await listener.accept();
  await client.write(bytes);
  return { client, server };
}

function frame(kind: number, body: number[]): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  new DataView(out.buffer).setUint32(0, body.length + 1);
  out[4] = kind;
  out.set(body, 5);
  return out;
}

async function readAll(reader: { read(b: Uint8Array): Promise<number | null> }, n: number) {
  const out = new Uint8Array(n);
  for (let filled = 0; filled < n;) {
    const got = await reader.read(out.subarray(filled));
    if (got === null) break;
    filled += got;
  }
  return out;
}

Deno.test("readFirstFrame() tells a relay leg from a client and gives the client every byte", async (t) => {
  await t.step("RELAY_JOIN: a leg with its token", async () => {
    const token = Array.from({ length: 16 }, (_, i) => i + 1);
    const { client, server } = await connected(frame(1, [48, ...token]));
    const first = await readFirstFrame(server);
    assert.equal(first?.kind, "leg");
    assert.deepEqual(first?.kind === "leg" ? [...first.pairingToken] : [], token);
    client.close();
    server.close();
  });
  await t.step("a bare header with a huge length: a client at once, header replayed", async () => {
    const header = Uint8Array.of(0xff, 0xff, 0xff, 0xf0, 1);
    const { client, server } = await connected(header);
    const first = await readFirstFrame(server);
    assert.equal(first?.kind, "client");
    if (first?.kind === "client") {
      assert.throws(() => first.transport.take(), "bytes not yet read again would be lost");
      assert.deepEqual(await readAll(first.transport, 5), header);
    }
    client.close();
    server.close();
  });
  await t.step("a plain frame of RELAY_JOIN's length but another type: a client", async () => {
    const bytes = frame(1, [1, ...new Array(16).fill(7)]);
    const { client, server } = await connected(bytes);
    const first = await readFirstFrame(server);
    assert.equal(first?.kind, "client");
    if (first?.kind === "client") {
      assert.deepEqual(await readAll(first.transport, bytes.length), bytes);
      // Every replayed byte was read: the connection can be taken back whole.
      assert.equal(first.transport.take(), server);
    }
    client.close();
    server.close();
  });
});
