/** `sfs trust USER|FINGERPRINT`: the command line; the work is in trust_run.ts. */
import type { CommandSpec } from "./command.ts";
import { indexFlags, type IndexFlagValues, withIndexFlags } from "./options.ts";

/** Replaces a pinned key after a legitimate change. */
export const TRUST_COMMAND: CommandSpec<IndexFlagValues, [string]> = {
  name: "trust",
  describe: "pin the current key of a user, or the index server's new key, after checking it",
  configure: (command) =>
    withIndexFlags(
      command.argument(
        "<user|fingerprint>",
        "a username on the index, or the fingerprint the index server now presents",
      ),
    ),
  async run({ args: [what], flags }, { home, out }) {
    const { runTrust } = await import("./trust_run.ts");
    await runTrust({ ...indexFlags(flags), home, what }, out);
  },
};
