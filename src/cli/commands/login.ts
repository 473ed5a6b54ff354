/** `sfs login`: the command line; the work is in register_run.ts. */
import type { CommandSpec } from "./command.ts";
import { indexFlags, type IndexFlagValues, withIndexFlags } from "./options.ts";

interface LoginFlags extends IndexFlagValues {
  user?: string;
  rotateKeys?: boolean;
}

/** Checks the password on an index server and saves it as the default. */
export const LOGIN_COMMAND: CommandSpec<LoginFlags, []> = {
  name: "login",
  describe: "check your password on an index server and save it as the default",
  configure: (command) =>
    withIndexFlags(
      command
        .option("--user <name>", "username")
        .option("--rotate-keys", "register this identity's keys in place of the old ones"),
    ),
  async run({ flags }, { home, out }) {
    const { runLogin } = await import("./register_run.ts");
    await runLogin(
      { ...indexFlags(flags), home, user: flags.user, rotateKeys: flags.rotateKeys },
      out,
    );
  },
};
