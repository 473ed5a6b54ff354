/** `sfs verify PATH`: the command line; the work is in verify_run.ts. */
import type { CommandSpec } from "./command.ts";

/** Flags of `sfs verify`. */
interface VerifyFlags {
  proof?: string;
  owner?: string;
}

/** Checks a received file or folder against its proof of origin, offline. */
export const VERIFY_COMMAND: CommandSpec<VerifyFlags, [string]> = {
  name: "verify",
  describe: "check a received file or folder against its proof of origin (offline)",
  arguments: [{ name: "path", describe: "the file or folder to check", required: true }],
  options: [
    { long: "proof", value: "<file>", describe: "the proof (default: PATH.sfs-proof)" },
    {
      long: "owner",
      value: "<fingerprint>",
      describe: "the fingerprint the signer must have (default: shown, and named if you pinned it)",
    },
  ],
  async run({ args: [path], flags }, { home, out }) {
    const { runVerify } = await import("./verify_run.ts");
    await runVerify({ path, proof: flags.proof, owner: flags.owner, home }, out);
  },
};
