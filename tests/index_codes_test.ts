/**
 * Short codes on a real `sfs server` (docs/PROTOCOL.md §14.5), spoken by raw index clients over
 * real sockets: the server forwards the payloads unchanged, a nameplate takes one claim ever,
 * and whatever goes wrong ends it; `--codes`, `--code-ttl` and the limits.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Bytes, constantTimeEqual, toHex } from "../src/crypto/bytes.ts";
import { parseFingerprint } from "../src/crypto/identity.ts";
import { codeInfo, isSfsError, SfsError } from "../src/errors.ts";
import { signProof } from "../src/index/protocol/proof.ts";
import type { Signatures } from "../src/crypto/sign.ts";
import type { Channel } from "../src/wire/channel.ts";
import type { CodeMail, CodeOpened } from "../src/wire/index_messages.ts";
import { initiate } from "../src/wire/handshake.ts";
import { type Message, MessageType } from "../src/wire/messages.ts";
import { runSfs, tempDir } from "./harness.ts";
import { testIdentity } from "./identities.ts";
import {
  assertFails,
  PASSWORD,
  seedServerIdentity,
  type ServerProcess,
  startServer,
} from "./index_fixture.ts";

/**
 * A raw index client. As a sender it reads its connection all the time, as a sharing client
 * does (§13.4): a CODE_MAIL is a push, anything else the reply to its one request. As a receiver
 * it reads only for its request, whose reply may be a CODE_MAIL.
 */
class RawClient implements AsyncDisposable {
  readonly #channel: Channel;
  readonly #sender: boolean;
  readonly #pushes: CodeMail[] = [];
  #pushWaiter: ((push: CodeMail) => void) | undefined;
  #replyWaiter: ((reply: Promise<Message>) => void) | undefined;
  #broken: SfsError | undefined;

  private constructor(channel: Channel, sender: boolean) {
    this.#channel = channel;
    this.#sender = sender;
    if (sender) this.#read();
  }

  /** Connects as the test identity `name`, checking the server's key. */
  static async connect(
    server: ServerProcess,
    name: string,
    role: "sender" | "receiver",
  ): Promise<RawClient> {
    const identity = await testIdentity(name);
    const expected = parseFingerprint(server.fingerprint);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    const channel = await initiate(conn, identity, {
      verifyResponder: (peer) => assert.ok(constantTimeEqual(peer.fingerprint, expected)),
    });
    const client = new RawClient(channel, role === "sender");
    client.#prove = (username, policy) => signProof(identity, channel.authHash, username, policy);
    return client;
  }

  #prove: (username: string, policy: "both" | "ed25519") => Promise<Signatures> = () =>
    Promise.reject(new Error("Not connected"));

  /** Registers the connection's identity as `username` (authenticating the connection). */
  async register(username: string): Promise<void> {
    const proof = await this.#prove(username, "both");
    await this.request({ type: MessageType.REGISTER, username, password: PASSWORD, proof });
  }

  /** Authenticates the connection as `username`, registered with this identity. */
  async auth(username: string): Promise<void> {
    const proof = await this.#prove(username, "ed25519");
    await this.request({ type: MessageType.AUTH, username, proof });
  }

  /** Sends one request and returns its reply; an ERROR reply throws its SfsError. */
  async request(message: Message): Promise<Message> {
    if (!this.#sender) {
      await this.#channel.send(message);
      return await this.#channel.receive();
    }
    if (this.#broken) throw this.#broken;
    const reply = new Promise<Promise<Message>>((resolve) => this.#replyWaiter = resolve);
    await this.#channel.send(message);
    return await await reply;
  }

  /** CODE_OPEN; returns the CODE_OPENED. */
  async open(ttlSeconds = 0): Promise<CodeOpened> {
    const reply = await this.request({ type: MessageType.CODE_OPEN, ttlSeconds });
    assert.equal(reply.type, MessageType.CODE_OPENED);
    return reply as CodeOpened;
  }

  /** CODE_CLAIM; returns the payload of the CODE_MAIL that answers it. */
  async claim(nameplate: number, payload: Bytes): Promise<Bytes> {
    const reply = await this.request({ type: MessageType.CODE_CLAIM, nameplate, payload });
    assert.equal(reply.type, MessageType.CODE_MAIL);
    assert.equal((reply as CodeMail).nameplate, nameplate);
    return (reply as CodeMail).payload;
  }

  /** CODE_MAIL as a request; expects OK. */
  async mail(nameplate: number, payload: Bytes): Promise<void> {
    const reply = await this.request({ type: MessageType.CODE_MAIL, nameplate, payload });
    assert.equal(reply.type, MessageType.OK);
  }

  /** CODE_CLOSE; expects OK. */
  async close(nameplate: number, outcome: "done" | "failed" = "done"): Promise<void> {
    const reply = await this.request({ type: MessageType.CODE_CLOSE, nameplate, outcome });
    assert.equal(reply.type, MessageType.OK);
  }

  /** The next CODE_MAIL pushed to this sender. */
  nextPush(): Promise<CodeMail> {
    const queued = this.#pushes.shift();
    if (queued) return Promise.resolve(queued);
    if (this.#broken) return Promise.reject(this.#broken);
    return new Promise((resolve) => this.#pushWaiter = resolve);
  }

  /** Pushes received and not yet taken. */
  get pendingPushes(): number {
    return this.#pushes.length;
  }

  async #read(): Promise<void> {
    while (true) {
      const next = this.#channel.receive();
      try {
        const message = await next;
        if (message.type === MessageType.CODE_MAIL) {
          const waiter = this.#pushWaiter;
          this.#pushWaiter = undefined;
          if (waiter) waiter(message);
          else this.#pushes.push(message);
          continue;
        }
      } catch (err) {
        const e = err instanceof SfsError ? err : new SfsError("INTERNAL", String(err));
        if (codeInfo(e.code).fatalToConnection) {
          this.#broken = e;
          this.#deliver(next);
          return;
        }
      }
      this.#deliver(next);
    }
  }

  #deliver(reply: Promise<Message>): void {
    const waiter = this.#replyWaiter;
    this.#replyWaiter = undefined;
    // Handled by whoever awaits it; a reply nobody asked for must not fail the test run.
    reply.catch(() => {});
    waiter?.(reply);
  }

  /** Closes the connection. */
  disconnect(): void {
    this.#channel.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.#channel.close();
    return Promise.resolve();
  }
}

/** `n` random bytes. */
function random(n: number): Bytes {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** Asserts that `promise` fails with the SfsError `code`. */
async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err) => isSfsError(err) && err.code === code);
}

/** A server with its database and identity in a fresh folder; `flags` added. */
async function codeServer(dir: string, flags: string[] = []): Promise<ServerProcess> {
  return await startServer(await seedServerIdentity(join(dir, "server")), 0, flags);
}

/** A registered sender (an account named `name`) and an anonymous receiver. */
async function pair(
  server: ServerProcess,
  name: string,
): Promise<{ sender: RawClient; receiver: RawClient }> {
  const sender = await RawClient.connect(server, name, "sender");
  await sender.register(name);
  const receiver = await RawClient.connect(server, "bob", "receiver");
  return { sender, receiver };
}

/**
 * Runs the whole flow of §14.5 with the given payloads; returns what each side received, and
 * leaves the nameplate closed with `outcome`.
 */
async function exchange(
  sender: RawClient,
  receiver: RawClient,
  payloads: [Bytes, Bytes, Bytes],
  outcome: "done" | "failed" = "done",
): Promise<{ nameplate: number; atSender: Bytes[]; atReceiver: Bytes }> {
  const { nameplate } = await sender.open();
  const claimed = receiver.claim(nameplate, payloads[0]);
  const first = await sender.nextPush();
  assert.equal(first.nameplate, nameplate);
  await sender.mail(nameplate, payloads[1]);
  const atReceiver = await claimed;
  await receiver.mail(nameplate, payloads[2]);
  const third = await sender.nextPush();
  await sender.close(nameplate, outcome);
  return { nameplate, atSender: [first.payload, third.payload], atReceiver };
}

Deno.test("sfs server --codes accounts relays short-code payloads and gives each code one claim", async (t) => {
  await using dir = await tempDir();
  // Claims from 127.0.0.1 add up over the steps; the rate limit has its own test.
  await using server = await codeServer(dir.path, ["--max-code-claims-per-address", "1000"]);
  const { sender: alice, receiver: bob } = await pair(server, "alice");
  await using _alice = alice;
  await using _bob = bob;

  await t.step("the whole flow relays each payload unchanged", async () => {
    const payloads: [Bytes, Bytes, Bytes] = [random(1), random(2048), random(700)];
    const { nameplate, atSender, atReceiver } = await exchange(alice, bob, payloads);
    assert.equal(nameplate, 1, "the smallest free nameplate");
    assert.deepEqual(atSender, [payloads[0], payloads[2]]);
    assert.deepEqual(atReceiver, payloads[1]);
    // Released: the next code gets nameplate 1 again, expiring after the default 10 minutes.
    const again = await alice.open();
    assert.equal(again.nameplate, 1);
    assert.equal(again.ttlSeconds, 600);
    await alice.close(1);
  });

  await t.step("nameplates are the smallest free numbers", async () => {
    const a = await alice.open();
    const b = await alice.open();
    const c = await alice.open();
    assert.deepEqual([a.nameplate, b.nameplate, c.nameplate], [1, 2, 3]);
    await alice.close(2);
    assert.equal((await alice.open()).nameplate, 2);
    for (const n of [1, 2, 3]) await alice.close(n);
  });

  await t.step(
    "a second claim, and a claim of an unknown nameplate, get CODE_UNKNOWN",
    async () => {
      const { nameplate } = await alice.open();
      const claimed = bob.claim(nameplate, random(32));
      await alice.nextPush();
      await using carol = await RawClient.connect(server, "carol", "receiver");
      // During the exchange: the exchange goes on.
      await rejectsWith(carol.claim(nameplate, random(32)), "CODE_UNKNOWN");
      await alice.mail(nameplate, random(32));
      await claimed;
      await bob.mail(nameplate, random(32));
      await alice.nextPush();
      await alice.close(nameplate);
      // After it, and for a nameplate never opened.
      await rejectsWith(carol.claim(nameplate, random(32)), "CODE_UNKNOWN");
      await rejectsWith(carol.claim(4242, random(32)), "CODE_UNKNOWN");
    },
  );

  await t.step("a failed exchange burns the nameplate", async () => {
    const payloads: [Bytes, Bytes, Bytes] = [random(32), random(32), random(32)];
    const { nameplate } = await exchange(alice, bob, payloads, "failed");
    await rejectsWith(bob.claim(nameplate, random(32)), "CODE_UNKNOWN");
    await rejectsWith(alice.mail(nameplate, random(32)), "CODE_UNKNOWN");
    await rejectsWith(alice.close(nameplate), "CODE_UNKNOWN");
  });

  await t.step(
    "a failure before the claim is answered burns it, and the claim gets CODE_UNKNOWN",
    async () => {
      const { nameplate } = await alice.open();
      // Checked from now on: the refusal may arrive while alice's close is still answered, and
      // a rejection nobody handles by then fails the whole file.
      const refused = rejectsWith(bob.claim(nameplate, random(32)), "CODE_UNKNOWN");
      await alice.nextPush();
      await alice.close(nameplate, "failed");
      await refused;
      await rejectsWith(bob.claim(nameplate, random(32)), "CODE_UNKNOWN");
    },
  );

  await t.step("a sender's CODE_MAIL before any claim burns the nameplate", async () => {
    const { nameplate } = await alice.open();
    await rejectsWith(alice.mail(nameplate, random(32)), "CODE_UNKNOWN");
    await rejectsWith(bob.claim(nameplate, random(32)), "CODE_UNKNOWN");
  });

  await t.step("nobody else can mail to, close or burn a nameplate", async () => {
    await using mallory = await RawClient.connect(server, "mallory", "sender");
    const { nameplate } = await alice.open();
    await rejectsWith(mallory.close(nameplate, "failed"), "CODE_UNKNOWN");
    await rejectsWith(mallory.mail(nameplate, random(32)), "CODE_UNKNOWN");
    // Still open: the exchange runs as if nothing happened.
    const claimed = bob.claim(nameplate, random(32));
    await alice.nextPush();
    await rejectsWith(mallory.mail(nameplate, random(32)), "CODE_UNKNOWN");
    const answer = random(48);
    await alice.mail(nameplate, answer);
    assert.deepEqual(await claimed, answer);
    await alice.close(nameplate);
  });

  await t.step("each side sends at most two CODE_MAIL", async () => {
    const { nameplate } = await alice.open();
    const claimed = bob.claim(nameplate, random(32));
    await alice.nextPush();
    await alice.mail(nameplate, random(32));
    await claimed;
    await bob.mail(nameplate, random(32));
    await bob.mail(nameplate, random(32));
    await rejectsWith(bob.mail(nameplate, random(32)), "CODE_UNKNOWN");
    await alice.nextPush();
    await alice.nextPush();
    // The third ended the nameplate.
    await rejectsWith(alice.close(nameplate), "CODE_UNKNOWN");
  });

  await t.step("an unclaimed nameplate expires at the ttl the sender asked for", async () => {
    const { nameplate, ttlSeconds } = await alice.open(1);
    assert.equal(ttlSeconds, 1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await rejectsWith(bob.claim(nameplate, random(32)), "CODE_UNKNOWN");
  });

  await t.step("an unauthenticated sender gets AUTH_FAILED", async () => {
    await using mallory = await RawClient.connect(server, "mallory", "sender");
    await rejectsWith(mallory.open(), "AUTH_FAILED");
  });

  await t.step("a payload of 2049 bytes is BAD_MESSAGE", async () => {
    await using carol = await RawClient.connect(server, "carol", "receiver");
    await rejectsWith(carol.claim(1, random(2049)), "BAD_MESSAGE");
  });

  await t.step("the log names code events and never a payload", async () => {
    const payloads: [Bytes, Bytes, Bytes] = [random(64), random(64), random(64)];
    const { nameplate } = await exchange(alice, bob, payloads);
    const end = await server.proc.nextEvent((e) =>
      e.event === "code_end" && e.nameplate === nameplate && e.reason === "done"
    );
    assert.ok(end);
    const log = server.proc.stdoutText();
    assert.match(log, /"event":"code_open"/);
    assert.match(log, /"event":"code_claim"/);
    for (const payload of payloads) {
      assert.ok(!log.includes(toHex(payload)), "a payload in hex");
      assert.ok(!log.includes(btoa(String.fromCharCode(...payload))), "a payload in base64");
    }
  });
});

Deno.test("sfs server burns a sender's nameplates when its connection closes", async (t) => {
  await using dir = await tempDir();
  await using server = await codeServer(dir.path);
  const { sender: alice, receiver: bob } = await pair(server, "alice");
  await using _bob = bob;

  await t.step("a held claim gets CODE_UNKNOWN", async () => {
    const { nameplate } = await alice.open();
    const unclaimed = await alice.open();
    const claimed = bob.claim(nameplate, random(32));
    await alice.nextPush();
    alice.disconnect();
    await rejectsWith(claimed, "CODE_UNKNOWN");
    await rejectsWith(bob.claim(unclaimed.nameplate, random(32)), "CODE_UNKNOWN");
  });

  await t.step("the numbers are free again", async () => {
    await using carol = await RawClient.connect(server, "carol", "sender");
    await carol.register("carol");
    assert.equal((await carol.open()).nameplate, 1);
  });
});

Deno.test("sfs server --codes off refuses CODE_OPEN and CODE_CLAIM with CODES_OFF", async () => {
  await using dir = await tempDir();
  await using server = await codeServer(dir.path, ["--codes", "off"]);
  const { sender: alice, receiver: bob } = await pair(server, "alice");
  await using _alice = alice;
  await using _bob = bob;
  await rejectsWith(alice.open(), "CODES_OFF");
  await rejectsWith(bob.claim(1, random(32)), "CODES_OFF");
});

Deno.test("sfs server --codes open lets anyone open codes, within per-address quotas", async (t) => {
  await using dir = await tempDir();
  await using server = await codeServer(dir.path, [
    "--codes",
    "open",
    "--max-open-codes",
    "2",
    "--code-ttl",
    "30s",
  ]);
  await using anon = await RawClient.connect(server, "mallory", "sender");
  await using bob = await RawClient.connect(server, "bob", "receiver");

  await t.step("an unauthenticated sender runs the whole flow", async () => {
    const payloads: [Bytes, Bytes, Bytes] = [random(100), random(200), random(300)];
    const { atSender, atReceiver } = await exchange(anon, bob, payloads);
    assert.deepEqual(atSender, [payloads[0], payloads[2]]);
    assert.deepEqual(atReceiver, payloads[1]);
  });

  await t.step("--code-ttl caps the ttl a sender asks for", async () => {
    for (const ttl of [0, 3600]) {
      const { nameplate, ttlSeconds } = await anon.open(ttl);
      assert.ok(ttlSeconds <= 30, `ttl ${ttl}`);
      await anon.close(nameplate);
    }
  });

  await t.step("--max-open-codes counts per address: QUOTA_EXCEEDED", async () => {
    await using other = await RawClient.connect(server, "carol", "sender");
    const a = await anon.open();
    const b = await other.open();
    await rejectsWith(anon.open(), "QUOTA_EXCEEDED");
    await rejectsWith(other.open(), "QUOTA_EXCEEDED");
    await anon.close(a.nameplate);
    await other.close((await other.open()).nameplate);
    await other.close(b.nameplate);
  });

  await t.step("CODE_OPEN from one address beyond 30 an hour is RATE_LIMITED", async () => {
    // The steps above spent some of the 30 (every CODE_OPEN counts, refused ones too).
    let opened = 0;
    const limited = async () => {
      for (; opened <= 30; opened++) {
        const { nameplate } = await anon.open();
        await anon.close(nameplate);
      }
    };
    await rejectsWith(limited(), "RATE_LIMITED");
    assert.ok(opened > 0 && opened < 30, `${opened} more opened`);
    await using other = await RawClient.connect(server, "carol", "sender");
    await rejectsWith(other.open(), "RATE_LIMITED");
  });
});

Deno.test("sfs server limits open codes per account and CODE_CLAIM per address", async (t) => {
  await using dir = await tempDir();
  await using server = await codeServer(dir.path, [
    "--max-open-codes",
    "2",
    "--max-code-claims-per-address",
    "3",
  ]);
  const { sender: alice, receiver: bob } = await pair(server, "alice");
  await using _alice = alice;
  await using _bob = bob;

  await t.step("--max-open-codes: QUOTA_EXCEEDED for the account, on any connection", async () => {
    await using again = await RawClient.connect(server, "alice", "sender");
    await again.auth("alice");
    await alice.open();
    await alice.open();
    await rejectsWith(alice.open(), "QUOTA_EXCEEDED");
    await rejectsWith(again.open(), "QUOTA_EXCEEDED");
    await alice.close(2);
    assert.equal((await again.open()).nameplate, 2);
    await again.close(2);
  });

  await t.step("--max-code-claims-per-address: RATE_LIMITED, whatever is claimed", async () => {
    for (const nameplate of [7, 8, 9]) {
      await rejectsWith(bob.claim(nameplate, random(32)), "CODE_UNKNOWN");
    }
    // Nameplate 1 (alice's) is open, but the address has used its claims.
    await rejectsWith(bob.claim(1, random(32)), "RATE_LIMITED");
    await using carol = await RawClient.connect(server, "carol", "receiver");
    await rejectsWith(carol.claim(1, random(32)), "RATE_LIMITED");
    // And the refused claims spent nothing: the nameplate is still the sender's to close.
    await alice.close(1);
  });
});

Deno.test("sfs server refuses malformed short-code flags with USAGE", async (t) => {
  await using dir = await tempDir();
  const cases = [["--codes", "maybe"], ["--code-ttl", "2d"], ["--code-ttl", "0s"], [
    "--max-open-codes",
    "0",
  ], ["--max-code-claims-per-address", "x"]];
  for (const flags of cases) {
    await t.step(flags.join(" "), async () => {
      const args = ["server", "--listen", "127.0.0.1:0", "--db", join(dir.path, "i.db"), "--json"];
      const result = await runSfs([...args, ...flags], { home: dir.path });
      assertFails(result, "USAGE", 2);
    });
  }
});

Deno.test("RELAY_TOKEN without an account needs an open code: one file per code (§13.2)", async (t) => {
  await using dir = await tempDir();
  const token = () => random(16);
  const relayToken = (client: RawClient, fileId: Bytes) =>
    client.request({ type: MessageType.RELAY_TOKEN, fileId, token: token() });
  const heartbeat = (client: RawClient) => client.request({ type: MessageType.HEARTBEAT });

  await t.step("accounts mode: AUTH_FAILED, for RELAY_TOKEN and HEARTBEAT", async () => {
    await using server = await codeServer(join(dir.path, "accounts"));
    await using anon = await RawClient.connect(server, "mallory", "sender");
    await rejectsWith(anon.open(), "AUTH_FAILED");
    await rejectsWith(relayToken(anon, random(16)), "AUTH_FAILED");
    await rejectsWith(heartbeat(anon), "AUTH_FAILED");
  });

  await t.step("open mode: after CODE_OPENED only, and for one file per code", async () => {
    await using server = await codeServer(join(dir.path, "open"), ["--codes", "open"]);
    await using anon = await RawClient.connect(server, "mallory", "sender");
    const [a, b] = [random(16), random(16)];
    await rejectsWith(relayToken(anon, a), "AUTH_FAILED");
    await rejectsWith(heartbeat(anon), "AUTH_FAILED");
    const { nameplate } = await anon.open();
    assert.equal((await heartbeat(anon)).type, MessageType.OK);
    assert.equal((await relayToken(anon, a)).type, MessageType.OK);
    // Again for the same file replaces the token; another file needs another code.
    assert.equal((await relayToken(anon, a)).type, MessageType.OK);
    await rejectsWith(relayToken(anon, b), "QUOTA_EXCEEDED");
    // The grant outlives the nameplate: the receiver relays after the exchange ended.
    await anon.close(nameplate);
    assert.equal((await relayToken(anon, a)).type, MessageType.OK);
    await anon.close((await anon.open()).nameplate);
    assert.equal((await relayToken(anon, b)).type, MessageType.OK);
    // Another connection from the same address was given no code: nothing.
    await using other = await RawClient.connect(server, "carol", "sender");
    await rejectsWith(relayToken(other, a), "AUTH_FAILED");
  });
});
