/** sfs entrypoint: parse argv, run one command, map errors to exit codes. */
import { Command, CommanderError, Option } from "commander";
import { SfsError } from "./src/errors.ts";
import { SIGNATURE_POLICIES, type SignaturePolicy } from "./src/crypto/sign.ts";
import { runGet } from "./src/cli/get.ts";
import { resolveHome } from "./src/cli/home.ts";
import { runKeygen, runWhoami } from "./src/cli/keygen.ts";
import { parseHostPort } from "./src/cli/net.ts";
import { exitCodeFor, Output } from "./src/cli/output.ts";
import { runSend } from "./src/cli/send.ts";
import { VERSION } from "./src/version.ts";

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
    return { home: resolveHome({ flag: flags.home }), out };
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

  program.command("send")
    .description("share a file and print a ticket for the receiver")
    .argument("<file>", "the file to share")
    .option("--listen <host:port>", "address to listen on", "0.0.0.0:0")
    .option("--advertise <host:port>", "address to put in the ticket")
    .option("--once", "exit after the first successful transfer")
    .addOption(signatureOption("--sign <algorithms>", "signatures to make"))
    .action(async (file: string, opts: SendFlags, command: Command) => {
      const { home, out } = context(command);
      await runSend({
        home,
        file,
        listen: parseHostPort(opts.listen, "--listen"),
        advertise: opts.advertise ? parseHostPort(opts.advertise, "--advertise") : undefined,
        once: opts.once,
        sign: opts.sign,
      }, out);
    });

  program.command("get")
    .description("download, verify and save the file a ticket names")
    .argument("<ticket>", "sfs://HOST:PORT/FILEID#FINGERPRINT")
    .option("-o, --out <dir>", "folder to save into", ".")
    .option("--force", "replace an existing file of the same name")
    .addOption(signatureOption("--require <algorithms>", "signatures that must verify"))
    .action(async (ticket: string, opts: GetFlags, command: Command) => {
      const { home, out } = context(command);
      await runGet({
        home,
        ticket,
        outDir: opts.out,
        force: opts.force,
        require: opts.require,
      }, out);
    });

  try {
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

interface SendFlags {
  listen: string;
  advertise?: string;
  once?: boolean;
  sign: SignaturePolicy;
}

interface GetFlags {
  out: string;
  force?: boolean;
  require: SignaturePolicy;
}

function signatureOption(flags: string, description: string): Option {
  return new Option(flags, description).choices(SIGNATURE_POLICIES).default("both");
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
