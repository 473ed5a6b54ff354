/** `sfs trust USER|FINGERPRINT`: the command line; the work is in trust_run.ts. */
import type { CommandSpec } from "./command.ts";
import { INDEX_OPTIONS, indexFlags, type IndexFlagValues } from "./options.ts";

/** Replaces a pinned key after a legitimate change. */
export const TRUST_COMMAND: CommandSpec<IndexFlagValues, [string]> = {
  name: "trust",
  describe: "pin the current key of a user, or the index server's new key, after checking it",
  arguments: [{
    name: "user|fingerprint",
    describe: "a username on the index, or the fingerprint the index server now presents",
    required: true,
  }],
  options: INDEX_OPTIONS,
  async run({ args: [what], flags }, { home, out }) {
    const { runTrust } = await import("./trust_run.ts");
    await runTrust({ ...indexFlags(flags), home, what }, out);
  },
};
