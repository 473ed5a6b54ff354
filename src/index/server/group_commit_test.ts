import assert from "node:assert/strict";
import { SfsError } from "../../errors.ts";
import { type AnnouncementWriter, GroupCommit } from "./group_commit.ts";
import type { Announcement } from "./store.ts";

/** A store that records its transactions and refuses the ids it is told to. */
class FakeStore implements AnnouncementWriter {
  readonly transactions: string[][] = [];
  readonly refused = new Set<string>();

  announce(a: Announcement): Promise<void> {
    return this.announceMany([a]);
  }

  announceMany(rows: readonly Announcement[]): Promise<void> {
    const bad = rows.find((a) => this.refused.has(a.id));
    if (bad) {
      return Promise.reject(
        new SfsError("EXISTS", `File id ${bad.id} is announced by another user`),
      );
    }
    this.transactions.push(rows.map((a) => a.id));
    return Promise.resolve();
  }
}

/** A scheduler the test runs by hand, so flushes happen exactly when it says. */
class ManualSchedule {
  readonly #waiting: (() => void)[] = [];
  readonly schedule = (flush: () => void): void => {
    this.#waiting.push(flush);
  };

  get pending(): number {
    return this.#waiting.length;
  }

  run(): void {
    for (const flush of this.#waiting.splice(0)) flush();
  }
}

function row(id: string): Announcement {
  return {
    id,
    ownerId: 1,
    sessionId: "s",
    name: "a.txt",
    size: 1,
    sha256: "ab".repeat(32),
    keywords: [],
    recipients: [],
    address: "127.0.0.1:1",
    createdAt: 0,
    announcement: Uint8Array.of(1),
    signature: Uint8Array.of(2),
  };
}

Deno.test("GroupCommit.add() stores rows that arrive together in one transaction", async () => {
  const store = new FakeStore();
  const clock = new ManualSchedule();
  const commits = new GroupCommit(store, { schedule: clock.schedule });
  const done = ["a", "b", "c"].map((id) => commits.add(row(id)));
  assert.equal(clock.pending, 1, "one flush for the whole group");
  assert.deepEqual(store.transactions, [], "nothing is written before the flush");
  clock.run();
  await Promise.all(done);
  assert.deepEqual(store.transactions, [["a", "b", "c"]]);
});

Deno.test("GroupCommit.add() fails only the row the store refuses", async () => {
  const store = new FakeStore();
  store.refused.add("b");
  const clock = new ManualSchedule();
  const commits = new GroupCommit(store, { schedule: clock.schedule });
  const [a, b, c] = ["a", "b", "c"].map((id) => commits.add(row(id)));
  clock.run();
  await a;
  await c;
  await assert.rejects(b, (err) => err instanceof SfsError && err.code === "EXISTS");
  assert.deepEqual(store.transactions, [["a"], ["c"]], "the others are stored one by one");
});

Deno.test("GroupCommit.add() rejects a lone refused row with the store's error", async () => {
  const store = new FakeStore();
  store.refused.add("x");
  const clock = new ManualSchedule();
  const commits = new GroupCommit(store, { schedule: clock.schedule });
  const x = commits.add(row("x"));
  clock.run();
  await assert.rejects(x, (err) => err instanceof SfsError && err.code === "EXISTS");
  assert.deepEqual(store.transactions, []);
});

Deno.test("GroupCommit.add() splits a large group at maxBatch", async (t) => {
  for (const [count, batches] of [[1, [1]], [2, [2]], [3, [2, 1]], [4, [2, 2]], [5, [2, 2, 1]]]) {
    await t.step(`${count} rows`, async () => {
      const store = new FakeStore();
      const clock = new ManualSchedule();
      const commits = new GroupCommit(store, { schedule: clock.schedule, maxBatch: 2 });
      const done = Array.from({ length: count as number }, (_, i) => commits.add(row(`r${i}`)));
      while (clock.pending > 0) clock.run();
      await Promise.all(done);
      assert.deepEqual(store.transactions.map((tx) => tx.length), batches);
    });
  }
});

Deno.test("GroupCommit.add() after a flush starts a new transaction", async () => {
  const store = new FakeStore();
  const clock = new ManualSchedule();
  const commits = new GroupCommit(store, { schedule: clock.schedule });
  const first = commits.add(row("a"));
  clock.run();
  await first;
  const second = commits.add(row("b"));
  clock.run();
  await second;
  assert.deepEqual(store.transactions, [["a"], ["b"]]);
});
