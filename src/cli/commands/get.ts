/** `sfs get TICKET|ID|NAME`: the command line; the work is in get_run.ts. */
import { SfsError } from "../../errors.ts";
import type { SignaturePolicy } from "../../crypto/sign.ts";
import { expandHome } from "../paths.ts";
import { readTicketInput } from "../ticket_input.ts";
import type { CommandSpec } from "./command.ts";
import { INDEX_OPTIONS, indexFlags, type IndexFlagValues, signatureOption } from "./options.ts";

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
  arguments: [{
    name: "what",
    describe: "a ticket sfs://…, a code 7-crimson-tiger-lamp, or a file ID or name on the index; " +
      "- reads it from stdin, none from SFS_TICKET",
  }],
  options: [
    { long: "out", short: "o", value: "<dir>", describe: "folder to save into", default: "." },
    {
      long: "force",
      describe: "replace an existing file or folder of the same name (and its proof)",
    },
    { long: "no-proof", describe: "do not keep the proof of origin NAME.sfs-proof beside it" },
    {
      long: "verbose",
      describe: "name each file of a folder as it is verified (--json: file events)",
    },
    { long: "direct", describe: "connect only directly to the sender, never through a relay" },
    { long: "relay", describe: "connect only through the index server's relay" },
    {
      long: "as",
      value: "<name>",
      describe: "with a code: remember the sender's key under this name",
    },
    signatureOption("require", "signatures that must verify"),
    ...INDEX_OPTIONS,
  ],
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
      // The contacts (and pins) load only for --as.
      as: flags.as === undefined
        ? undefined
        : (await import("../settings/contacts.ts")).contactName(flags.as),
    }, out);
  },
};
