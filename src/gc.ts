/**
 * Full garbage collections at a steady pace of work, so that a share of many files keeps a flat
 * memory (issue 11).
 *
 * Walking, hashing, sending or receiving a file leaves a little garbage behind, in V8's heap and in
 * ArrayBuffers outside it (frame bodies, manifest pages, file metadata). V8 starts a full
 * collection only once its old generation has grown by several MiB, or the memory outside its heap
 * by 64 MiB, since the last one; so the peak RSS of a sender and a receiver rose with the number of
 * files though nothing per file stays live (docs/PERFORMANCE.md, session 8: a get of 500 files
 * peaked at 72 MiB, of 100,000 at 104–109 MiB, still growing). A full collection after every
 * {@link GC_EVERY_UNITS} units of work keeps what waits to be collected small, at a few
 * milliseconds each.
 *
 * Collecting on demand needs V8's `--expose-gc`, which the `sfs` task passes, and with it the
 * installed command and the binaries (README). Without it this does nothing: only memory differs.
 *
 * @module
 */

/**
 * Units of work between two full collections. A unit is one entry of a tree walked, or one file
 * sent or received; see {@link PAGE_UNITS} for manifest pages.
 */
export const GC_EVERY_UNITS = 2000;

/** A manifest page (up to 256 KiB, copied a few times on its way) counts as this many units. */
export const PAGE_UNITS = 500;

const collect = (globalThis as { gc?: () => void }).gc;
let units = 0;

/** Counts `n` units of work done; collects when {@link GC_EVERY_UNITS} have added up. */
export function countWork(n = 1): void {
  units += n;
  if (units < GC_EVERY_UNITS) return;
  units = 0;
  collect?.();
}

/** Whether this process can collect on demand (V8 runs with `--expose-gc`). */
export function canCollect(): boolean {
  return collect !== undefined;
}
