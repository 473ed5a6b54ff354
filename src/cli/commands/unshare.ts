/** `sfs unshare ID|NAME`: the command line; the work is in unshare_run.ts. */
import type { CommandSpec } from "./command.ts";
import { INDEX_OPTIONS, indexFlags, type IndexFlagValues } from "./options.ts";

/** Withdraws one of the user's files from the index. */
export const UNSHARE_COMMAND: CommandSpec<IndexFlagValues, [string]> = {
  name: "unshare",
  describe: "withdraw one of your files from the index",
  arguments: [
    { name: "id|name", describe: "the file ID (32 hex digits), or its exact name", required: true },
  ],
  options: INDEX_OPTIONS,
  async run({ args: [id], flags }, { home, out }) {
    const { runUnshare } = await import("./unshare_run.ts");
    await runUnshare({ ...indexFlags(flags), home, id }, out);
  },
};
