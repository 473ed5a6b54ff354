/**
 * A child process for tests/config_concurrency_test.ts: waits for the start file, then updates
 * config.json in SFS home `home` ROUNDS times, as `sfs register` and `sfs login` would. Halfway it
 * sets FIELD to VALUE, once (unless FIELD is `-`); every other update changes nothing, but still rewrites the file, so
 * an unlocked read-modify-write would drop a field another process set meanwhile, for good.
 *
 *   deno run --allow-read --allow-write tests/config_child.ts HOME START_FILE FIELD VALUE ROUNDS
 */
import { updateConfig } from "../src/cli/settings/config.ts";

const [home, startFile, field, value, rounds] = Deno.args;
// Start together: Deno's start-up time varies by more than the race window.
while (!await Deno.stat(startFile).then(() => true, () => false)) {
  await new Promise((resolve) => setTimeout(resolve, 5));
}
const half = Math.floor(Number(rounds) / 2);
for (let round = 0; round < Number(rounds); round++) {
  await updateConfig(home, round === half && field !== "-" ? { [field]: value } : {});
}
