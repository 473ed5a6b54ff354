/** sfs entrypoint: parse argv, run one command, map errors to exit codes. */
import { Command, CommanderError, Option } from "commander";
import { SfsError } from "./src/errors.ts";
import { SIGNATURE_POLICIES, type SignaturePolicy } from "./src/crypto/sign.ts";
import { runGet } from "./src/cli/commands/get_run.ts";
import { homeProblems, resolveHome } from "./src/cli/home.ts";
import type { IndexFlags } from "./src/cli/index_connect.ts";
import { runKeygen, runWhoami } from "./src/cli/commands/keygen_run.ts";
import { runLs } from "./src/cli/commands/ls_run.ts";
import { parseHostPort } from "./src/net/address.ts";
import { exitCodeFor, Output } from "./src/cli/output.ts";
import { runLogin, runRegister } from "./src/cli/commands/register_run.ts";
import { runSearch } from "./src/cli/commands/search_run.ts";
import { runSend } from "./src/cli/commands/send_run.ts";
import { runServer } from "./src/cli/commands/server_run.ts";
import { runUnshare } from "./src/cli/commands/unshare_run.ts";
import { VERSION } from "./src/version.ts";
import { describeChoice, installAeadBackend } from "./src/native/libcrypto.ts";

interface GlobalFlags {
  home?: string;
  json?: boolean;
  quiet?: boolean;
  debug?: boolean;
}

/** Runs the CLI with `args` and returns the process exit status. */
export async function main(args: string[]): Promise<number> {
  let out = new Output({
    json: args.includes("--json"),
    quiet: false,
    debug: args.includes("--debug"),
  });
  const context = (command: Command): { home: string; out: Output } => {
    const flags = command.optsWithGlobals<GlobalFlags>();
    out = new Output({ json: !!flags.json, quiet: !!flags.quiet, debug: !!flags.debug });
    const home = resolveHome({ flag: flags.home });
    // Once per process, before any command reads the home.
    for (const problem of homeProblems(home)) out.warn(problem.message, { hint: problem.hint });
    return { home, out };
  };
  const program = new Command("sfs")
    .description("Secure file sharing: end-to-end encrypted, signed, peer-to-peer transfers")
    .version(VERSION, "-V, --version")
    .option("--home <dir>", "where identity and settings live (default: $SFS_HOME or config dir)")
    .option("--json", "machine-readable JSON lines on stdout")
    .option("-q, --quiet", "no progress bar or notes")
    .option("--debug", "show stack traces")
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .showHelpAfterError();

  program.command("keygen")
    .description("create your identity (RSA-3072 OAEP + PSS and Ed25519 keys)")
    .option("--force", "replace an existing identity")
    .action(async (opts: { force?: boolean }, command: Command) => {
      const { home, out } = context(command);
      await runKeygen({ home, force: opts.force }, out);
    });

  program.command("whoami")
    .description("print your identity's fingerprint")
    .action(async (_opts: unknown, command: Command) => {
      const { home, out } = context(command);
      await runWhoami({ home }, out);
    });

  withIndexFlags(
    program.command("send")
      .description("share files: print tickets, and announce them when an index is configured")
      .argument("<files...>", "the files to share")
      .option("--listen <host:port>", "address to listen on", "0.0.0.0:0")
      .option("--advertise <host:port>", "address to put in tickets and announcements")
      .option("--once", "exit after the first successful transfer (and unshare)")
      .option("--keyword <word>", "search keyword for the index (repeatable)", collect, [])
      .option("--to <user>", "share only with this index user (repeatable)", collect, [])
      .option("--no-index", "direct mode even when an index server is configured")
      .addOption(signatureOption("--sign <algorithms>", "signatures to make")),
  ).action(async (files: string[], opts: SendFlags, command: Command) => {
    const { home, out } = context(command);
    await runSend({
      ...indexFlags(opts),
      home,
      files,
      listen: parseHostPort(opts.listen, "--listen", { listener: true }),
      advertise: opts.advertise ? parseHostPort(opts.advertise, "--advertise") : undefined,
      once: opts.once,
      sign: opts.sign,
      keywords: opts.keyword,
      to: opts.to,
      noIndex: opts.index === false,
    }, out);
  });

  withIndexFlags(
    program.command("get")
      .description(
        "download, verify and save a file named by a ticket, or by ID or name on the index",
      )
      .argument("<what>", "sfs://HOST:PORT/FILEID#FINGERPRINT, or a file ID or name on the index")
      .option("-o, --out <dir>", "folder to save into", ".")
      .option("--force", "replace an existing file of the same name")
      .addOption(signatureOption("--require <algorithms>", "signatures that must verify")),
  ).action(async (ticket: string, opts: GetFlags, command: Command) => {
    const { home, out } = context(command);
    await runGet({
      ...indexFlags(opts),
      home,
      ticket,
      outDir: opts.out,
      force: opts.force,
      require: opts.require,
    }, out);
  });

  program.command("server")
    .description("run an index server (accounts, announcements, search, presence)")
    .option("--listen <host:port>", "address to listen on", "0.0.0.0:9999")
    .option("--db <path>", "SQLite database (default: index.db in the sfs home)")
    .option("--max-connections <n>", "connections served at once", "256")
    .option("--idle-timeout <seconds>", "close connections silent this long", "60")
    .option("--max-listings-per-user <n>", "listings one account may have", "1000")
    .option("--max-registrations-per-address <n>", "new accounts per address an hour", "10")
    .action(async (opts: ServerFlags, command: Command) => {
      const { home, out } = context(command);
      await runServer({
        home,
        listen: parseHostPort(opts.listen, "--listen", { listener: true }),
        db: opts.db,
        maxConnections: positiveInt(opts.maxConnections, "--max-connections", 65_535),
        idleTimeoutMs: positiveInt(opts.idleTimeout, "--idle-timeout", 86_400) * 1000,
        maxListingsPerUser: positiveInt(
          opts.maxListingsPerUser,
          "--max-listings-per-user",
          100_000_000,
        ),
        maxRegistrationsPerAddress: positiveInt(
          opts.maxRegistrationsPerAddress,
          "--max-registrations-per-address",
          1_000_000,
        ),
      }, out);
    });

  withIndexFlags(
    program.command("register")
      .description("create an account on an index server for your identity (made if missing)")
      .option("--user <name>", "username to register"),
  ).action(async (opts: AccountFlags, command: Command) => {
    const { home, out } = context(command);
    await runRegister({ ...indexFlags(opts), home, user: opts.user }, out);
  });

  withIndexFlags(
    program.command("login")
      .description("check your password on an index server and save it as the default")
      .option("--user <name>", "username")
      .option("--rotate-keys", "register this identity's keys in place of the old ones"),
  ).action(async (opts: AccountFlags, command: Command) => {
    const { home, out } = context(command);
    await runLogin(
      { ...indexFlags(opts), home, user: opts.user, rotateKeys: opts.rotateKeys },
      out,
    );
  });

  withIndexFlags(
    program.command("search")
      .description("search the index by file name and keywords")
      .argument("<terms...>", "words to look for")
      .option("--limit <n>", "most results", "50"),
  ).action(async (terms: string[], opts: ListFlags, command: Command) => {
    const { home, out } = context(command);
    await runSearch({
      ...indexFlags(opts),
      home,
      terms,
      limit: positiveInt(opts.limit, "--limit", 100),
    }, out);
  });

  withIndexFlags(
    program.command("ls")
      .description("list the files on the index you may see")
      .option("--mine", "only your own files")
      .option("--limit <n>", "most results", "50"),
  ).action(async (opts: ListFlags, command: Command) => {
    const { home, out } = context(command);
    await runLs({
      ...indexFlags(opts),
      home,
      mine: opts.mine,
      limit: positiveInt(opts.limit, "--limit", 100),
    }, out);
  });

  withIndexFlags(
    program.command("unshare")
      .description("withdraw one of your files from the index")
      .argument("<id>", "the file ID (32 hex digits)"),
  ).action(async (id: string, opts: IndexFlagValues, command: Command) => {
    const { home, out } = context(command);
    await runUnshare({ ...indexFlags(opts), home, id }, out);
  });

  try {
    const aead = installAeadBackend(Deno.env.get("SFS_CRYPTO"));
    if (args.includes("--verbose") && args.some((arg) => arg === "--version" || arg === "-V")) {
      // Which AES-GCM runs decides transfer speed, so a bug report should say.
      console.log(`${VERSION}\ncrypto: ${describeChoice(aead())}`);
      return 0;
    }
    await program.parseAsync(args, { from: "user" });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0;
      out.error(new SfsError("USAGE", err.message.replace(/^error: /, "")));
      return exitCodeFor("USAGE");
    }
    return exitCodeFor(out.error(err).code);
  }
}

interface IndexFlagValues {
  server?: string;
  serverFingerprint?: string;
  yes?: boolean;
}

interface SendFlags extends IndexFlagValues {
  listen: string;
  advertise?: string;
  once?: boolean;
  sign: SignaturePolicy;
  keyword: string[];
  to: string[];
  index: boolean;
}

interface GetFlags extends IndexFlagValues {
  out: string;
  force?: boolean;
  require: SignaturePolicy;
}

interface ServerFlags {
  listen: string;
  db?: string;
  maxConnections: string;
  idleTimeout: string;
  maxListingsPerUser: string;
  maxRegistrationsPerAddress: string;
}

interface AccountFlags extends IndexFlagValues {
  user?: string;
  rotateKeys?: boolean;
}

interface ListFlags extends IndexFlagValues {
  limit: string;
  mine?: boolean;
}

/** Adds the options every command that talks to the index shares. */
function withIndexFlags(command: Command): Command {
  return command
    .option("--server <host:port>", "index server (default: $SFS_SERVER or the saved one)")
    .option("--server-fingerprint <fp>", "fingerprint a new index server must present")
    .option("-y, --yes", "trust a first contact (server or user key) without asking");
}

function indexFlags(opts: IndexFlagValues): IndexFlags {
  return { server: opts.server, serverFingerprint: opts.serverFingerprint, yes: opts.yes };
}

/** Commander reducer for repeatable options. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveInt(text: string, what: string, max: number): number {
  const value = /^[0-9]{1,9}$/.test(text.trim()) ? Number(text) : NaN;
  if (!(value >= 1 && value <= max)) {
    throw new SfsError("USAGE", `${what} must be a whole number from 1 to ${max}, got "${text}"`);
  }
  return value;
}

function signatureOption(flags: string, description: string): Option {
  return new Option(flags, description).choices(SIGNATURE_POLICIES).default("both");
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
