/**
 * sfs entrypoint: registers the commands, runs one, maps its error's category to an exit status.
 *
 * Only the command files (src/cli/commands/*.ts, light: options and flag parsing) load here; each
 * loads its implementation when it runs, so `sfs --version` loads none and only `sfs server`
 * loads the index server and SQLite.
 */
import { Command, CommanderError } from "commander";
import type { CommandInput, CommandSpec } from "./src/cli/commands/command.ts";
import { CONTACTS_COMMAND } from "./src/cli/commands/contacts.ts";
import { FORGET_COMMAND } from "./src/cli/commands/forget.ts";
import { GET_COMMAND } from "./src/cli/commands/get.ts";
import { KEYGEN_COMMAND } from "./src/cli/commands/keygen.ts";
import { LOGIN_COMMAND } from "./src/cli/commands/login.ts";
import { LS_COMMAND } from "./src/cli/commands/ls.ts";
import { REGISTER_COMMAND } from "./src/cli/commands/register.ts";
import { SEARCH_COMMAND } from "./src/cli/commands/search.ts";
import { SEND_COMMAND } from "./src/cli/commands/send.ts";
import { SERVER_COMMAND } from "./src/cli/commands/server.ts";
import { TRUST_COMMAND } from "./src/cli/commands/trust.ts";
import { UNSHARE_COMMAND } from "./src/cli/commands/unshare.ts";
import { VERIFY_COMMAND } from "./src/cli/commands/verify.ts";
import { examplesHelp } from "./src/cli/commands/examples.ts";
import { WHOAMI_COMMAND } from "./src/cli/commands/whoami.ts";
import { createContext, createOutput, type GlobalFlags } from "./src/cli/context.ts";
import { exitCodeFor, type Output } from "./src/cli/output.ts";
import { VERSION } from "./src/version.ts";
import { describeChoice, installAeadBackend } from "./src/native/libcrypto.ts";

/** Every command, in the order `sfs --help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  KEYGEN_COMMAND,
  WHOAMI_COMMAND,
  SEND_COMMAND,
  GET_COMMAND,
  SERVER_COMMAND,
  REGISTER_COMMAND,
  LOGIN_COMMAND,
  SEARCH_COMMAND,
  LS_COMMAND,
  UNSHARE_COMMAND,
  CONTACTS_COMMAND,
  TRUST_COMMAND,
  FORGET_COMMAND,
  VERIFY_COMMAND,
];

/** The command argv names, with what commander parsed for it. */
interface Selection {
  readonly command: CommandSpec;
  readonly input: CommandInput<object, unknown[]>;
  readonly globals: GlobalFlags;
}

/** Runs the CLI with `args` and returns the process exit status. */
export async function main(args: string[]): Promise<number> {
  // `deno task sfs` runs in the repository; the task passes the folder it was started from, so
  // relative paths mean what the user typed (the installed command and binaries start there).
  const callerCwd = Deno.env.get("SFS_CWD");
  if (callerCwd) Deno.chdir(callerCwd);
  // Until a command has parsed its flags, errors print as argv asks at a glance.
  const early = createOutput({ json: args.includes("--json"), debug: args.includes("--debug") });
  let selection: Selection | undefined;
  try {
    const aead = installAeadBackend(Deno.env.get("SFS_CRYPTO"));
    if (args.includes("--verbose") && args.some((arg) => arg === "--version" || arg === "-V")) {
      // Which AES-GCM runs decides transfer speed, so a bug report should say.
      console.log(`${VERSION}\ncrypto: ${describeChoice(aead())}`);
      return 0;
    }
    selection = await select(args);
  } catch (err) {
    // Help and --version end the parse with a CommanderError whose status is 0.
    if (err instanceof CommanderError && err.exitCode === 0) return 0;
    return fail(early, err);
  }
  return selection === undefined ? 0 : await run(selection);
}

/** Runs the selected command with its context; returns the exit status. */
async function run({ command, input, globals }: Selection): Promise<number> {
  const out = createOutput(globals);
  try {
    await command.run(input, createContext(globals, out));
    return 0;
  } catch (err) {
    return fail(out, err);
  }
}

/** Prints `err` and returns the exit status its category calls for. */
function fail(out: Output, err: unknown): number {
  return exitCodeFor(out.error(err).code);
}

/**
 * Parses argv into the command to run; undefined when commander did all there was to do.
 * Commander's usage errors are thrown as they are: Output maps them to USAGE.
 */
async function select(args: string[]): Promise<Selection | undefined> {
  let selection: Selection | undefined;
  const program = createProgram((chosen) => selection = chosen, { json: args.includes("--json") });
  await program.parseAsync(args, { from: "user" });
  return selection;
}

/**
 * The commander program with every command of {@link COMMANDS}; `onSelect` gets the one run.
 * With `json`, a usage error prints only its JSON line: a script has no use for the help text.
 */
function createProgram(onSelect: (selection: Selection) => void, how: { json: boolean }): Command {
  const program = new Command("sfs")
    .description("Secure file sharing: end-to-end encrypted, signed, peer-to-peer transfers")
    .version(VERSION, "-V, --version")
    .option("--home <dir>", "where identity and settings live (default: $SFS_HOME or config dir)")
    .option("--json", "machine-readable JSON lines on stdout")
    .option("-q, --quiet", "no progress bar or notes")
    .option("--debug", "show stack traces")
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .showHelpAfterError(!how.json)
    .addHelpText("after", examplesHelp());
  for (const command of COMMANDS) {
    const declared = program.command(command.name).description(command.describe)
      .addHelpText("after", examplesHelp(command.name));
    command.configure(declared)
      .action((...params: unknown[]) => {
        // Commander passes (arguments…, options, this command); `this` is the command too.
        const invocation = params.at(-1) as Command;
        onSelect({
          command,
          input: { args: invocation.processedArgs, flags: invocation.optsWithGlobals() },
          globals: invocation.optsWithGlobals<GlobalFlags>(),
        });
      });
  }
  return program;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
