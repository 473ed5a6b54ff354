import assert from "node:assert/strict";
import { clearTimer, MAX_ARM_MS, setTimer, sleep, type Timer } from "./timer.ts";

Deno.test("setTimer() fires once, in deadline order, first set first fired on a tie", async () => {
  const fired: string[] = [];
  setTimer(() => fired.push("c"), 30);
  setTimer(() => fired.push("a"), 5);
  setTimer(() => fired.push("b1"), 15);
  setTimer(() => fired.push("b2"), 15);
  setTimer(() => fired.push("now"), -5);
  await sleep(60);
  assert.deepEqual(fired, ["now", "a", "b1", "b2", "c"]);
});

Deno.test("setTimer() does not fire before its time", async () => {
  const start = performance.now();
  let at = 0;
  await new Promise<void>((resolve) =>
    setTimer(() => {
      at = performance.now() - start;
      resolve();
    }, 40)
  );
  assert.ok(at >= 39, `fired after ${at} ms`);
});

Deno.test("clearTimer() stops a pending timer, and ignores undefined and spent timers", async () => {
  const fired: number[] = [];
  const timers: Timer[] = [];
  for (let i = 0; i < 200; i++) timers.push(setTimer(() => fired.push(i), 5 + (i % 17)));
  // Clear every third, in an order unlike the heap's, to exercise removal from the middle.
  for (let i = 199; i >= 0; i -= 3) clearTimer(timers[i]);
  clearTimer(undefined);
  await sleep(40);
  const expected = [...Array(200).keys()].filter((i) => (199 - i) % 3 !== 0);
  assert.deepEqual([...fired].sort((a, b) => a - b), expected);
  // Deadline order: each fired no later than the next due.
  const due = fired.map((i) => 5 + (i % 17));
  assert.deepEqual(due, [...due].sort((a, b) => a - b));
  clearTimer(timers[0]); // fired already: nothing happens
  clearTimer(timers[199]); // cleared twice
  assert.deepEqual([timers[0].index, timers[199].index], [-1, -1]);
  await sleep(30);
  assert.equal(fired.length, expected.length, "no callback ran again");
});

Deno.test("a timer set or cleared from another timer's callback behaves as from anywhere", async () => {
  const fired: string[] = [];
  // The first callback runs after `later` is set (its closure may refer to it).
  setTimer(() => {
    fired.push("first");
    setTimer(() => fired.push("set inside"), 5);
    clearTimer(later);
  }, 5);
  const later = setTimer(() => fired.push("cleared"), 10);
  await sleep(40);
  assert.deepEqual(fired, ["first", "set inside"]);
});

Deno.test("a timer longer than one armed wait still fires on time", async () => {
  const start = performance.now();
  await sleep(MAX_ARM_MS + 50);
  const waited = performance.now() - start;
  assert.ok(waited >= MAX_ARM_MS + 49 && waited < MAX_ARM_MS + 500, `waited ${waited} ms`);
});
