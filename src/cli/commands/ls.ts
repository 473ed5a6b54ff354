/** `sfs ls`: the command line; the work is in ls_run.ts. */
import type { CommandSpec } from "./command.ts";
import { INDEX_OPTIONS, indexFlags, type IndexFlagValues, parseCount } from "./options.ts";

interface LsFlags extends IndexFlagValues {
  mine?: boolean;
  limit: string;
}

/** Lists the files on the index the viewer may see. */
export const LS_COMMAND: CommandSpec<LsFlags, []> = {
  name: "ls",
  describe: "list the files on the index you may see",
  options: [
    { long: "mine", describe: "only your own files" },
    { long: "limit", value: "<n>", describe: "most results", default: "50" },
    ...INDEX_OPTIONS,
  ],
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
