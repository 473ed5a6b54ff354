/**
 * The long fuzz run (not part of CI): the targets of tests/fuzz/targets.ts with many more cases
 * and a fresh seed each time, printed first so a failure can be replayed. It lives with the
 * targets in tests/ because it is their entry point: the harness is test code (fast-check
 * properties, the cached test identities, the in-memory transport), and scripts/ never imports
 * tests/.
 *
 *   deno task fuzz [--runs N] [--seed S] [--target TEXT]… [--path P]
 *
 * `--runs` is the total number of cases (default 200,000), shared out as in the CI run;
 * `--target` keeps the targets whose name contains TEXT; `--seed` with `--path` (both printed by
 * fast-check on a failure) replays one failing case. Exits 1 if any target failed.
 */
import { parseArgs } from "node:util";
import { FuzzContext } from "./context.ts";
import { runsFor, Stats } from "./run.ts";
import { fuzzTargets } from "./targets.ts";

const DEFAULT_RUNS = 200_000;

function usage(message: string): never {
  console.error(`fuzz: ${message}`);
  console.error("usage: deno task fuzz [--runs N] [--seed S] [--target TEXT]… [--path P]");
  Deno.exit(2);
}

function integer(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) usage(`--${name} must be an integer, not "${text}"`);
  return value;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string" },
    seed: { type: "string" },
    target: { type: "string", multiple: true },
    path: { type: "string" },
  },
});
const totalRuns = integer(values.runs, "runs") ?? DEFAULT_RUNS;
// fast-check seeds are 32-bit integers.
const seed = integer(values.seed, "seed") ?? (crypto.getRandomValues(new Int32Array(1))[0]);
const all = fuzzTargets();
const chosen = values.target?.length
  ? all.filter((t) => values.target!.some((text) => t.name.includes(text)))
  : all;
if (chosen.length === 0) usage(`no target matches ${JSON.stringify(values.target)}`);

console.log(`fuzz: seed ${seed}, ${totalRuns} cases over ${chosen.length} targets`);
console.log(`fuzz: replay a failure with --seed ${seed} --target NAME --path PATH`);
const started = performance.now();
let failed = 0;
{
  await using context = new FuzzContext();
  for (const target of chosen) {
    const numRuns = runsFor(target, all, totalRuns);
    const stats = new Stats();
    const t0 = performance.now();
    let outcome = "ok";
    try {
      await target.run({ seed, numRuns, path: values.path, stats }, context);
    } catch (err) {
      failed++;
      outcome = "FAILED";
      console.error(`\n${target.name}: ${err instanceof Error ? err.message : String(err)}`);
      if (err instanceof Error && err.cause) console.error(`caused by: ${String(err.cause)}`);
    }
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(`${outcome.padEnd(6)} ${target.name}: ${numRuns} cases in ${seconds} s`);
    console.log(`       ${stats.summary()}`);
  }
}
const minutes = ((performance.now() - started) / 60_000).toFixed(1);
console.log(`fuzz: ${failed} of ${chosen.length} targets failed, ${minutes} min, seed ${seed}`);
// A failed side waits up to 1 s to deliver its ERROR (Channel.fail); exit without waiting.
Deno.exit(failed > 0 ? 1 : 0);
