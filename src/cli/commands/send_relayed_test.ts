import assert from "node:assert/strict";
import { PeerBook } from "./send_peers.ts";
import { RelayedInbox } from "./send_relayed.ts";

/** A real loopback connection pair; closing the returned end is seen at the other. */
async function loopbackPair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [a, b] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
    listener.accept(),
  ]);
  listener.close();
  return [a, b];
}

/** True once the peer of `other` closed (read sees the end of stream). */
async function closedAt(other: Deno.Conn): Promise<boolean> {
  return await other.read(new Uint8Array(1)) === null;
}

Deno.test("RelayedInbox holds connections until serving, then names and marks each relayed", async () => {
  const inbox = new RelayedInbox();
  const [first, firstPeer] = await loopbackPair();
  const [second, secondPeer] = await loopbackPair();
  inbox.take(first, { fileId: new Uint8Array(16), username: "bob" });
  const adopted: [Deno.TcpConn, string][] = [];
  const peers = new PeerBook();
  inbox.attach((conn, peer) => adopted.push([conn, peer]), peers);
  inbox.take(second, { fileId: new Uint8Array(16) });
  assert.deepEqual(adopted.map(([, peer]) => peer), ["relay#1", "relay#2"]);
  assert.ok(adopted[0][0] === first && adopted[1][0] === second, "in the order they came");
  assert.deepEqual(peers.view("relay#1"), { label: "bob (relayed)", route: "relay", user: "bob" });
  assert.equal(peers.view("relay#2").route, "relay");
  assert.equal(peers.view("relay#2").user, undefined);
  for (const conn of [first, second, firstPeer, secondPeer]) conn.close();
});

Deno.test("RelayedInbox closes what waits when closed, and what comes later", async () => {
  const inbox = new RelayedInbox();
  const [waiting, waitingPeer] = await loopbackPair();
  const [late, latePeer] = await loopbackPair();
  inbox.take(waiting, { fileId: new Uint8Array(16) });
  inbox.close();
  inbox.take(late, { fileId: new Uint8Array(16) });
  assert.ok(await closedAt(waitingPeer));
  assert.ok(await closedAt(latePeer));
  waitingPeer.close();
  latePeer.close();
});
