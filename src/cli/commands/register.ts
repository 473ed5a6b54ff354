/** `sfs register`: the command line; the work is in register_run.ts. */
import type { CommandSpec } from "./command.ts";
import { INDEX_OPTIONS, indexFlags, type IndexFlagValues } from "./options.ts";

interface RegisterFlags extends IndexFlagValues {
  user?: string;
}

/** Creates an account on an index server. */
export const REGISTER_COMMAND: CommandSpec<RegisterFlags, []> = {
  name: "register",
  describe: "create an account on an index server for your identity (made if missing)",
  options: [{ long: "user", value: "<name>", describe: "username to register" }, ...INDEX_OPTIONS],
  async run({ flags }, { home, out }) {
    const { runRegister } = await import("./register_run.ts");
    await runRegister({ ...indexFlags(flags), home, user: flags.user }, out);
  },
};
