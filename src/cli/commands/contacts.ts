/** `sfs contacts`: the pinned keys of index servers and users. */
import type { CommandSpec } from "./command.ts";

/** Lists pinned keys. */
export const CONTACTS_COMMAND: CommandSpec<object, []> = {
  name: "contacts",
  describe: "list the pinned keys of index servers and users",
  async run(_input, { home, out }) {
    const { runContacts } = await import("./contacts_run.ts");
    await runContacts({ home }, out);
  },
};
