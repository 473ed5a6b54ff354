/** `sfs search TERMS…`: the command line; the work is in search_run.ts. */
import type { CommandSpec } from "./command.ts";
import { indexFlags, type IndexFlagValues, parseCount, withIndexFlags } from "./options.ts";

interface SearchFlags extends IndexFlagValues {
  limit: string;
}

/** Full-text search of the index. */
export const SEARCH_COMMAND: CommandSpec<SearchFlags, [string[]]> = {
  name: "search",
  describe: "search the index by file name and keywords",
  configure: (command) =>
    withIndexFlags(
      command
        .argument("<terms...>", "words to look for")
        .option("--limit <n>", "most results", "50"),
    ),
  async run({ args: [terms], flags }, { home, out }) {
    const { runSearch } = await import("./search_run.ts");
    await runSearch({
      ...indexFlags(flags),
      home,
      terms,
      limit: parseCount(flags.limit, "--limit", 100),
    }, out);
  },
};
