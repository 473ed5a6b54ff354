/** `sfs send FILE…`: the command line; the work is in send_run.ts. */
import { SfsError } from "../../errors.ts";
import { MAX_CODE_WORDS, MIN_CODE_WORDS } from "../../peer/code.ts";
import { contactName } from "../settings/contacts.ts";
import type { CodeRequest } from "./send_code.ts";
import type { SignaturePolicy } from "../../crypto/sign.ts";
import { parseHostPort } from "../../net/address.ts";
import type { CommandSpec } from "./command.ts";
import {
  INDEX_OPTIONS,
  indexFlags,
  type IndexFlagValues,
  parseCount,
  parseDuration,
  signatureOption,
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
  arguments: [{
    name: "paths",
    describe: "the file, folder, or several files and folders to share",
    required: true,
    variadic: true,
  }],
  options: [
    { long: "name", value: "<name>", describe: "the share's name (a folder or several paths)" },
    {
      long: "exclude",
      value: "<glob>",
      describe:
        "leave out matching files and folders (gitignore-like: *, ?, **, trailing /; repeatable)",
      repeatable: true,
    },
    {
      long: "listen",
      value: "<host:port>",
      describe: "address to listen on",
      default: "0.0.0.0:0",
    },
    {
      long: "advertise",
      value: "<host:port>",
      describe: "address receivers connect to, replacing this machine's own (repeatable)",
      repeatable: true,
    },
    { long: "once", describe: "exit after the first successful transfer (and unshare)" },
    {
      long: "keyword",
      value: "<word>",
      describe: "search keyword for the index (repeatable)",
      repeatable: true,
    },
    {
      long: "to",
      value: "<user>",
      describe: "share only with this index user (repeatable)",
      repeatable: true,
    },
    { long: "no-index", describe: "direct mode even when an index server is configured" },
    signatureOption("sign", "signatures to make"),
    { long: "code", describe: "share by a short code such as 7-crimson-tiger-lamp (one file)" },
    { long: "code-words", value: "<n>", describe: "words in the code, 3 to 8 (11 bits each)" },
    {
      long: "code-ttl",
      value: "<duration>",
      describe: "how long the code stays valid, e.g. 5m (server caps it)",
    },
    {
      long: "as",
      value: "<name>",
      describe: "with --code: remember the receiver's key under this name",
    },
    { long: "qr", describe: "also print the ticket (or the code) as a QR code" },
    ...INDEX_OPTIONS,
  ],
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
