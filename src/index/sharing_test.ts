import assert from "node:assert/strict";
import { SfsError } from "../errors.ts";
import type { SignedAnnouncement } from "./announcement.ts";
import { type ShareClient, ShareSession } from "./sharing.ts";

const SIGNED: SignedAnnouncement[] = [
  { bytes: new Uint8Array([1]), signatures: {} },
  { bytes: new Uint8Array([2]), signatures: {} },
];

/** A scripted index connection that records what it was asked. */
class FakeClient implements ShareClient {
  readonly announced: Uint8Array[] = [];
  heartbeats = 0;
  closed = false;
  failHeartbeat?: SfsError;

  announce(signed: SignedAnnouncement): Promise<void> {
    this.announced.push(signed.bytes);
    return Promise.resolve();
  }
  heartbeat(): Promise<void> {
    this.heartbeats++;
    return this.failHeartbeat ? Promise.reject(this.failHeartbeat) : Promise.resolve();
  }
  unshare(): Promise<void> {
    return Promise.resolve();
  }
  close(): void {
    this.closed = true;
  }
}

function waitFor(check: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = () => {
      if (check()) resolve();
      else if (Date.now() - started > 5000) reject(new Error("condition never held"));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

Deno.test("ShareSession announces, heartbeats, and reconnects and re-announces after a failure", async () => {
  const clients: FakeClient[] = [];
  const statuses: string[] = [];
  const session = await ShareSession.start({
    connect: () => {
      const client = new FakeClient();
      clients.push(client);
      return Promise.resolve(client);
    },
    announcements: SIGNED,
    heartbeatMs: 10,
    reconnectMs: 10,
    onStatus: (status) => statuses.push(status),
  });
  try {
    assert.equal(clients[0].announced.length, 2);
    await waitFor(() => clients[0].heartbeats >= 2);
    clients[0].failHeartbeat = new SfsError("CONNECTION_CLOSED", "gone");
    await waitFor(() => statuses.includes("online"));
    assert.ok(clients[0].closed);
    assert.deepEqual(statuses, ["offline", "online"]);
    assert.equal(clients.at(-1)!.announced.length, 2);
  } finally {
    session.close();
  }
  assert.ok(clients.at(-1)!.closed);
});

Deno.test("ShareSession stops for good on an error retrying cannot fix", async () => {
  let calls = 0;
  const statuses: [string, string | undefined][] = [];
  const first = new FakeClient();
  const session = await ShareSession.start({
    connect: () => {
      calls++;
      if (calls === 1) return Promise.resolve(first);
      return Promise.reject(new SfsError("KEY_MISMATCH", "changed"));
    },
    announcements: SIGNED,
    heartbeatMs: 10,
    reconnectMs: 10,
    onStatus: (status, error) => statuses.push([status, error?.code]),
  });
  try {
    first.failHeartbeat = new SfsError("TIMEOUT", "silent");
    await waitFor(() => statuses.some(([s]) => s === "stopped"));
    assert.deepEqual(statuses, [["offline", "TIMEOUT"], ["stopped", "KEY_MISMATCH"]]);
    assert.equal(calls, 2);
  } finally {
    session.close();
  }
});

Deno.test("ShareSession.start() fails and closes the connection when announcing fails", async () => {
  const client = new FakeClient();
  client.announce = () => Promise.reject(new SfsError("BAD_SIGNATURE", "no"));
  await assert.rejects(
    ShareSession.start({ connect: () => Promise.resolve(client), announcements: SIGNED }),
    (err) => err instanceof SfsError && err.code === "BAD_SIGNATURE",
  );
  assert.ok(client.closed);
});
