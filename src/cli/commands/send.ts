/** `sfs send FILE…`: the command line; the work is in send_run.ts. */
import type { SignaturePolicy } from "../../crypto/sign.ts";
import { parseHostPort } from "../../net/address.ts";
import type { CommandSpec } from "./command.ts";
import {
  collect,
  indexFlags,
  type IndexFlagValues,
  signatureOption,
  withIndexFlags,
} from "./options.ts";

interface SendFlags extends IndexFlagValues {
  listen: string;
  advertise?: string[];
  once?: boolean;
  sign: SignaturePolicy;
  keyword?: string[];
  to?: string[];
  index: boolean;
}

/** Shares files directly, and through the index when one is configured. */
export const SEND_COMMAND: CommandSpec<SendFlags, [string[]]> = {
  name: "send",
  describe: "share files: print tickets, and announce them when an index is configured",
  configure: (command) =>
    withIndexFlags(
      command
        .argument("<files...>", "the files to share")
        .option("--listen <host:port>", "address to listen on", "0.0.0.0:0")
        .option(
          "--advertise <host:port>",
          "address receivers connect to, replacing this machine's own (repeatable)",
          collect,
        )
        .option("--once", "exit after the first successful transfer (and unshare)")
        .option("--keyword <word>", "search keyword for the index (repeatable)", collect)
        .option("--to <user>", "share only with this index user (repeatable)", collect)
        .option("--no-index", "direct mode even when an index server is configured")
        .addOption(signatureOption("--sign <algorithms>", "signatures to make")),
    ),
  async run({ args: [files], flags }, { home, out }) {
    const { runSend } = await import("./send_run.ts");
    await runSend({
      ...indexFlags(flags),
      home,
      files,
      listen: parseHostPort(flags.listen, "--listen", { listener: true }),
      advertise: (flags.advertise ?? []).map((a) => parseHostPort(a, "--advertise")),
      once: flags.once,
      sign: flags.sign,
      keywords: flags.keyword,
      to: flags.to,
      noIndex: flags.index === false,
    }, out);
  },
};
