/** `sfs keygen`: the command line; the work is in keygen_run.ts. */
import type { CommandSpec } from "./command.ts";

interface KeygenFlags {
  force?: boolean;
}

/** Creates the local identity. */
export const KEYGEN_COMMAND: CommandSpec<KeygenFlags, []> = {
  name: "keygen",
  describe: "create your identity (RSA-3072 OAEP + PSS and Ed25519 keys)",
  options: [{ long: "force", describe: "replace an existing identity" }],
  async run({ flags }, { home, out }) {
    const { runKeygen } = await import("./keygen_run.ts");
    await runKeygen({ home, force: flags.force }, out);
  },
};
