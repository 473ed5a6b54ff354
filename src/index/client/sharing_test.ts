import assert from "node:assert/strict";
import { SfsError } from "../../errors.ts";
import { signAnnouncement, type SignedAnnouncement } from "../protocol/announcement.ts";
import { fileIdOf } from "../../crypto/file_id.ts";
import { testIdentity } from "../../../tests/identities.ts";
import { type ShareClient, ShareSession } from "./sharing.ts";
import { MAX_RELAY_LEGS_OPENING } from "./sharing_relay.ts";
import { MessageType } from "../../wire/messages.ts";
import type { RelayDial } from "../../wire/relay_messages.ts";

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
  /** Fails the next heartbeat only. */
  failNextHeartbeat?: SfsError;
  /** First bytes of announcements the "server" refuses as withdrawn. */
  readonly withdrawn = new Set<number>();

  announce(signed: SignedAnnouncement): Promise<void> {
    if (this.withdrawn.has(signed.bytes[0])) {
      return Promise.reject(new SfsError("WITHDRAWN", "unshared"));
    }
    this.announced.push(signed.bytes);
    return Promise.resolve();
  }
  heartbeat(): Promise<void> {
    this.heartbeats++;
    const once = this.failNextHeartbeat;
    this.failNextHeartbeat = undefined;
    if (once) return Promise.reject(once);
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

Deno.test("ShareSession drops a file refused as WITHDRAWN after a reconnect or a heartbeat", async (t) => {
  const clients: FakeClient[] = [];
  const withdrawn: number[] = [];
  const refused = new Set<number>();
  const session = await ShareSession.start({
    connect: () => {
      const client = new FakeClient();
      for (const b of refused) client.withdrawn.add(b);
      clients.push(client);
      return Promise.resolve(client);
    },
    announcements: [...SIGNED, { bytes: new Uint8Array([3]), signatures: {} }],
    heartbeatMs: 10,
    reconnectMs: 10,
    onWithdrawn: (signed) => withdrawn.push(signed.bytes[0]),
  });
  try {
    await t.step("re-announced after a reconnect: refused, dropped, reported", async () => {
      refused.add(2);
      clients[0].failHeartbeat = new SfsError("CONNECTION_CLOSED", "gone");
      await waitFor(() => withdrawn.length === 1);
      assert.deepEqual(withdrawn, [2]);
      assert.deepEqual(clients[1].announced.map((b) => b[0]), [1, 3]);
    });
    await t.step(
      "a heartbeat answered WITHDRAWN: announce again on it to learn which",
      async () => {
        const client = clients[1];
        client.withdrawn.add(3);
        client.failNextHeartbeat = new SfsError("WITHDRAWN", "unshared");
        await waitFor(() => withdrawn.length === 2);
        assert.deepEqual(withdrawn, [2, 3]);
        assert.deepEqual(client.announced.map((b) => b[0]), [1, 3, 1]);
        assert.ok(!client.closed, "the connection stays");
        // And the dropped files are never announced again.
        const heartbeats = client.heartbeats;
        await waitFor(() => client.heartbeats > heartbeats + 2);
        assert.deepEqual(client.announced.map((b) => b[0]), [1, 3, 1]);
        assert.equal(clients.length, 2);
      },
    );
  } finally {
    session.close();
  }
});

Deno.test("ShareSession shares without relaying on a server that refuses RELAY_TOKEN", async () => {
  const identity = await testIdentity("alice");
  const sha256 = crypto.getRandomValues(new Uint8Array(32));
  const fileId = await fileIdOf(identity.public.fingerprint, sha256, "a.txt");
  const signed = await signAnnouncement(identity, {
    fileId,
    owner: "alice",
    ownerFingerprint: identity.public.fingerprint,
    name: "a.txt",
    size: 1,
    sha256,
    keywords: [],
    recipients: [],
    address: "127.0.0.1:9",
    createdAt: Date.now(),
  });
  const registered: number[] = [];
  const relayErrors: string[] = [];
  /** A server older than the relay: RELAY_TOKEN is a request it does not know. */
  class OldServerClient extends FakeClient {
    listenForPushes(): void {}
    registerRelayToken(): Promise<void> {
      registered.push(this.announced.length);
      this.closed = true;
      return Promise.reject(new SfsError("UNEXPECTED_MESSAGE", "unknown request"));
    }
  }
  const clients: OldServerClient[] = [];
  const session = await ShareSession.start({
    connect: () => {
      const client = new OldServerClient();
      clients.push(client);
      return Promise.resolve(client);
    },
    announcements: [signed],
    heartbeatMs: 10_000,
    relay: {
      dial: () => Promise.reject(new Error("never dialled")),
      onRelayedConnection: () => {},
      onRelayError: (err) => relayErrors.push(err.code),
    },
  });
  try {
    assert.deepEqual(registered, [1], "one attempt to register");
    assert.equal(clients.length, 2, "announced again on a new connection");
    assert.equal(clients[1].announced.length, 1);
    assert.equal(session.relayTokenFor(fileId), undefined, "its tickets carry no token");
    assert.deepEqual(relayErrors, ["RELAY_OFF"]);
  } finally {
    session.close();
  }
});

Deno.test("ShareSession opens at most a few relay legs at once, however many RELAY_DIALs come", async () => {
  const identity = await testIdentity("alice");
  const sha256 = crypto.getRandomValues(new Uint8Array(32));
  const fileId = await fileIdOf(identity.public.fingerprint, sha256, "a.txt");
  const signed = await signAnnouncement(identity, {
    fileId,
    owner: "alice",
    ownerFingerprint: identity.public.fingerprint,
    name: "a.txt",
    size: 1,
    sha256,
    keywords: [],
    recipients: [],
    address: "127.0.0.1:9",
    createdAt: Date.now(),
  });
  let push: ((dial: RelayDial) => void) | undefined;
  /** A hostile index: pushes RELAY_DIAL as fast as it likes. */
  class PushingClient extends FakeClient {
    listenForPushes(onPush: (dial: RelayDial) => void): void {
      push = onPush;
    }
    registerRelayToken(): Promise<void> {
      return Promise.resolve();
    }
  }
  const hanging: ((err: Error) => void)[] = [];
  const relayErrors: string[] = [];
  const session = await ShareSession.start({
    connect: () => Promise.resolve(new PushingClient()),
    announcements: [signed],
    heartbeatMs: 10_000,
    relay: {
      // A relay that never answers: each leg stays in its connect.
      dial: () => new Promise((_, reject) => hanging.push(reject)),
      onRelayedConnection: () => {},
      onRelayError: (err) => relayErrors.push(err.code),
    },
  });
  try {
    for (let i = 0; i < 100; i++) {
      push!({
        type: MessageType.RELAY_DIAL,
        fileId,
        pairingToken: new Uint8Array(16),
        receiver: "",
        relay: "",
      });
    }
    await waitFor(() => hanging.length + relayErrors.length === 100);
    assert.equal(hanging.length, MAX_RELAY_LEGS_OPENING);
    assert.ok(relayErrors.every((code) => code === "BUSY"));
  } finally {
    session.close();
    for (const reject of hanging) reject(new Error("test over"));
  }
});
