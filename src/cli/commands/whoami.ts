/** `sfs whoami`: the command line; the work is in keygen_run.ts. */
import type { CommandSpec } from "./command.ts";

/** Prints the local identity's fingerprint. */
export const WHOAMI_COMMAND: CommandSpec<object, []> = {
  name: "whoami",
  describe: "print your identity's fingerprint",
  async run(_input, { home, out }) {
    const { runWhoami } = await import("./keygen_run.ts");
    await runWhoami({ home }, out);
  },
};
