/** `sfs search TERMS…`: the command line; the work is in search_run.ts. */
import type { CommandSpec } from "./command.ts";
import { INDEX_OPTIONS, indexFlags, type IndexFlagValues, parseCount } from "./options.ts";

interface SearchFlags extends IndexFlagValues {
  limit: string;
}

/** Full-text search of the index. */
export const SEARCH_COMMAND: CommandSpec<SearchFlags, [string[]]> = {
  name: "search",
  describe: "search the index by file name and keywords",
  arguments: [{ name: "terms", describe: "words to look for", required: true, variadic: true }],
  options: [
    { long: "limit", value: "<n>", describe: "most results", default: "50" },
    ...INDEX_OPTIONS,
  ],
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
