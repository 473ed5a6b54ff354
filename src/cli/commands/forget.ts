/** `sfs forget NAME|SERVER`: the command line; the work is in forget_run.ts. */
import type { CommandSpec } from "./command.ts";
import { indexFlags, type IndexFlagValues, withIndexFlags } from "./options.ts";

/** Drops a pinned key. */
export const FORGET_COMMAND: CommandSpec<IndexFlagValues, [string]> = {
  name: "forget",
  describe: "forget the pinned key of a user or contact (--as NAME), or of an index server",
  configure: (command) =>
    withIndexFlags(
      command.argument(
        "<name|server>",
        "a username on the index and/or a contact name, or a server as HOST:PORT",
      ),
    ),
  async run({ args: [what], flags }, { home, out }) {
    const { runForget } = await import("./forget_run.ts");
    await runForget({ ...indexFlags(flags), home, what }, out);
  },
};
