/** `sfs ls`: the command line; the work is in ls_run.ts. */
import type { CommandSpec } from "./command.ts";
import { indexFlags, type IndexFlagValues, parseCount, withIndexFlags } from "./options.ts";

interface LsFlags extends IndexFlagValues {
  mine?: boolean;
  limit: string;
}

/** Lists the files on the index the viewer may see. */
export const LS_COMMAND: CommandSpec<LsFlags, []> = {
  name: "ls",
  describe: "list the files on the index you may see",
  configure: (command) =>
    withIndexFlags(
      command
        .option("--mine", "only your own files")
        .option("--limit <n>", "most results", "50"),
    ),
  async run({ flags }, { home, out }) {
    const { runLs } = await import("./ls_run.ts");
    await runLs({
      ...indexFlags(flags),
      home,
      mine: flags.mine,
      limit: parseCount(flags.limit, "--limit", 100),
    }, out);
  },
};
