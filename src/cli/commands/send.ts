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
  name?: string;
  exclude?: string[];
  advertise?: string[];
  once?: boolean;
  sign: SignaturePolicy;
  keyword?: string[];
  to?: string[];
  index: boolean;
}

/** Shares a file, a folder or several paths directly, and through the index when configured. */
export const SEND_COMMAND: CommandSpec<SendFlags, [string[]]> = {
  name: "send",
  describe:
    "share a file, a folder or several paths as one share: print its ticket, and announce it when an index is configured",
  configure: (command) =>
    withIndexFlags(
      command
        .argument("<paths...>", "the file, folder, or several files and folders to share")
        .option("--name <name>", "the share's name (a folder or several paths)")
        .option(
          "--exclude <glob>",
          "leave out matching files and folders (gitignore-like: *, ?, **, trailing /; repeatable)",
          collect,
        )
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
      name: flags.name,
      exclude: flags.exclude,
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
