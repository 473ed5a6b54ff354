/** `sfs login`: the command line; the work is in register_run.ts. */
import type { CommandSpec } from "./command.ts";
import { INDEX_OPTIONS, indexFlags, type IndexFlagValues } from "./options.ts";

interface LoginFlags extends IndexFlagValues {
  user?: string;
  rotateKeys?: boolean;
}

/** Checks the password on an index server and saves it as the default. */
export const LOGIN_COMMAND: CommandSpec<LoginFlags, []> = {
  name: "login",
  describe: "check your password on an index server and save it as the default",
  options: [
    { long: "user", value: "<name>", describe: "username" },
    { long: "rotate-keys", describe: "register this identity's keys in place of the old ones" },
    ...INDEX_OPTIONS,
  ],
  async run({ flags }, { home, out }) {
    const { runLogin } = await import("./register_run.ts");
    await runLogin(
      { ...indexFlags(flags), home, user: flags.user, rotateKeys: flags.rotateKeys },
      out,
    );
  },
};
