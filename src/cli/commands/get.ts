/** `sfs get TICKET|ID|NAME`: the command line; the work is in get_run.ts. */
import { SfsError } from "../../errors.ts";
import type { SignaturePolicy } from "../../crypto/sign.ts";
import { expandHome } from "../paths.ts";
import { readTicketInput } from "../ticket_input.ts";
import { contactName } from "../settings/contacts.ts";
import type { CommandSpec } from "./command.ts";
import { indexFlags, type IndexFlagValues, signatureOption, withIndexFlags } from "./options.ts";

interface GetFlags extends IndexFlagValues {
  out: string;
  force?: boolean;
  require: SignaturePolicy;
  direct?: boolean;
  relay?: boolean;
  as?: string;
  proof: boolean;
  verbose?: boolean;
}

/** Downloads and verifies one file or folder. */
export const GET_COMMAND: CommandSpec<GetFlags, [string | undefined]> = {
  name: "get",
  describe:
    "download, verify and save a file or folder named by a ticket, or by ID or name on the index",
  configure: (command) =>
    withIndexFlags(
      command
        .argument(
          "[what]",
          "a ticket sfs://…, a code 7-crimson-tiger-lamp, or a file ID or name on the index; " +
            "- reads it from stdin, none from SFS_TICKET",
        )
        .option("-o, --out <dir>", "folder to save into", ".")
        .option("--force", "replace an existing file or folder of the same name (and its proof)")
        .option("--no-proof", "do not keep the proof of origin NAME.sfs-proof beside it")
        .option("--verbose", "name each file of a folder as it is verified (--json: file events)")
        .option("--direct", "connect only directly to the sender, never through a relay")
        .option("--relay", "connect only through the index server's relay")
        .option("--as <name>", "with a code: remember the sender's key under this name")
        .addOption(signatureOption("--require <algorithms>", "signatures that must verify")),
    ),
  async run({ args: [what], flags }, { home, out }) {
    if (flags.direct && flags.relay) {
      throw new SfsError("USAGE", "--direct and --relay exclude each other");
    }
    const { runGet } = await import("./get_run.ts");
    await runGet({
      ...indexFlags(flags),
      home,
      what: await readTicketInput(what),
      outDir: expandHome(flags.out, "--out"),
      force: flags.force,
      proof: flags.proof,
      verbose: flags.verbose,
      require: flags.require,
      route: flags.direct ? "direct" : flags.relay ? "relay" : "any",
      as: flags.as === undefined ? undefined : contactName(flags.as),
    }, out);
  },
};
