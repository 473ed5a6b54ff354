/** `sfs send FILE…`: the command line; the work is in send_run.ts. */
import { SfsError } from "../../errors.ts";
import { MAX_CODE_WORDS, MIN_CODE_WORDS } from "../../peer/code.ts";
import { contactName } from "../settings/contacts.ts";
import type { CodeRequest } from "./send_code.ts";
import type { SignaturePolicy } from "../../crypto/sign.ts";
import { parseHostPort } from "../../net/address.ts";
import type { CommandSpec } from "./command.ts";
import {
  collect,
  indexFlags,
  type IndexFlagValues,
  parseCount,
  parseDuration,
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
  code?: boolean;
  codeWords?: string;
  codeTtl?: string;
  as?: string;
  qr?: boolean;
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
        .addOption(signatureOption("--sign <algorithms>", "signatures to make"))
        .option("--code", "share by a short code such as 7-crimson-tiger-lamp (one file)")
        .option("--code-words <n>", "words in the code, 3 to 8 (11 bits each)")
        .option("--code-ttl <duration>", "how long the code stays valid, e.g. 5m (server caps it)")
        .option("--as <name>", "with --code: remember the receiver's key under this name")
        .option("--qr", "also print the ticket (or the code) as a QR code"),
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
      code: codeRequest(flags),
      qr: flags.qr,
    }, out);
  },
};

/** The `--code` options; USAGE for code options without `--code`. */
function codeRequest(flags: SendFlags): CodeRequest | undefined {
  const extra = flags.codeWords ?? flags.codeTtl ?? flags.as;
  if (!flags.code) {
    if (extra !== undefined) {
      throw new SfsError("USAGE", "--code-words, --code-ttl and --as go with --code");
    }
    return undefined;
  }
  const words = flags.codeWords === undefined
    ? undefined
    : parseCount(flags.codeWords, "--code-words", MAX_CODE_WORDS);
  if (words !== undefined && words < MIN_CODE_WORDS) {
    throw new SfsError("USAGE", `--code-words must be ${MIN_CODE_WORDS} to ${MAX_CODE_WORDS}`);
  }
  return {
    words,
    ttlSeconds: flags.codeTtl === undefined
      ? 0
      : Math.ceil(parseDuration(flags.codeTtl, "--code-ttl", 1) / 1000),
    as: flags.as === undefined ? undefined : contactName(flags.as),
    qr: flags.qr,
  };
}
