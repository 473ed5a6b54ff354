/** `sfs forget NAME|SERVER`: the command line; the work is in forget_run.ts. */
import type { CommandSpec } from "./command.ts";
import { INDEX_OPTIONS, indexFlags, type IndexFlagValues } from "./options.ts";

/** Drops a pinned key. */
export const FORGET_COMMAND: CommandSpec<IndexFlagValues, [string]> = {
  name: "forget",
  describe: "forget the pinned key of a user or contact (--as NAME), or of an index server",
  arguments: [{
    name: "name|server",
    describe: "a username on the index and/or a contact name, or a server as HOST:PORT",
    required: true,
  }],
  options: INDEX_OPTIONS,
  async run({ args: [what], flags }, { home, out }) {
    const { runForget } = await import("./forget_run.ts");
    await runForget({ ...indexFlags(flags), home, what }, out);
  },
};
