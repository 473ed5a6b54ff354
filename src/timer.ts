/**
 * One-shot timers that do not start Deno's Node layer, for the deadlines of every connection.
 *
 * In Deno 2.9 the global `setTimeout` is Node's (`node:timers`, loaded at its first call: ~10 ms
 * and 4 MiB of every process that sets one; docs/PERFORMANCE.md, tiny12), while
 * `AbortSignal.timeout()` runs on Deno's own timer. That one cannot be cancelled, so the timers
 * here share it: a heap of deadlines, and one signal armed for the earliest, never more than
 * {@link MAX_ARM_MS} ahead. Like `setTimeout`, a pending timer keeps the process alive; a cleared
 * one may keep it alive for at most {@link MAX_ARM_MS} more (the CLI ends with `Deno.exit`).
 *
 * @module
 */

/** The longest wait one armed signal covers: an earlier one is armed again at its end. */
export const MAX_ARM_MS = 1000;

/** A pending timer, for {@link clearTimer}. */
export interface Timer {
  /** When it fires, in `performance.now()` time. */
  readonly at: number;
  /** Orders timers due at the same time: first set, first fired. */
  readonly order: number;
  readonly fire: () => void;
  /** Its place in the heap; -1 once fired or cleared. */
  index: number;
}

const heap: Timer[] = [];
let nextOrder = 0;
/** When the latest armed signal fires; undefined when none is pending. */
let armedAt: number | undefined;

/** Calls `fire` once, `ms` milliseconds from now (as `setTimeout`), unless cleared first. */
export function setTimer(fire: () => void, ms: number): Timer {
  const timer: Timer = {
    at: performance.now() + Math.max(0, ms),
    order: nextOrder++,
    fire,
    index: heap.length,
  };
  heap.push(timer);
  siftUp(timer.index);
  arm();
  return timer;
}

/** Cancels `timer` if it has not fired; `undefined` and a timer already gone are ignored. */
export function clearTimer(timer: Timer | undefined): void {
  if (timer === undefined || timer.index < 0) return;
  removeAt(timer.index);
}

/** A promise settled after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimer(resolve, ms));
}

/** Arms a signal for the earliest deadline unless one armed already fires by then. */
function arm(): void {
  if (heap.length === 0) return;
  const now = performance.now();
  const wait = Math.min(Math.max(0, heap[0].at - now), MAX_ARM_MS);
  if (armedAt !== undefined && armedAt <= now + wait) return;
  const at = now + wait;
  armedAt = at;
  AbortSignal.timeout(Math.ceil(wait)).addEventListener("abort", () => {
    if (armedAt === at) armedAt = undefined;
    fireDue();
  }, { once: true });
}

/** Fires every timer that is due, in order, then arms for the next. */
function fireDue(): void {
  const now = performance.now();
  while (heap.length > 0 && heap[0].at <= now) {
    const timer = heap[0];
    removeAt(0);
    try {
      timer.fire();
    } catch (err) {
      // As from setTimeout: an uncaught error, reported without stopping the other timers.
      queueMicrotask(() => {
        throw err;
      });
    }
  }
  arm();
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}

function place(timer: Timer, index: number): void {
  heap[index] = timer;
  timer.index = index;
}

function siftUp(index: number): void {
  const timer = heap[index];
  while (index > 0) {
    const parent = (index - 1) >> 1;
    if (!before(timer, heap[parent])) break;
    place(heap[parent], index);
    index = parent;
  }
  place(timer, index);
}

function siftDown(index: number): void {
  const timer = heap[index];
  for (;;) {
    const left = 2 * index + 1;
    if (left >= heap.length) break;
    const right = left + 1;
    const child = right < heap.length && before(heap[right], heap[left]) ? right : left;
    if (!before(heap[child], timer)) break;
    place(heap[child], index);
    index = child;
  }
  place(timer, index);
}

function removeAt(index: number): void {
  const removed = heap[index];
  removed.index = -1;
  const last = heap.pop()!;
  if (index === heap.length) return;
  place(last, index);
  siftUp(index);
  siftDown(last.index);
}
