/**
 * sfs entrypoint: registers the commands, runs one, maps its error's category to an exit status.
 *
 * Only the command files (src/cli/commands/*.ts, light: options and flag parsing) load here; each
 * loads its implementation when it runs, so `sfs --version` loads none and only `sfs server`
 * loads the index server and SQLite.
 */
import { type OptionSpec, parseCommandLine, type ProgramSpec } from "./src/cli/args.ts";
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

/** The options `sfs` takes before or after any command (context.ts's GlobalFlags). */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  {
    long: "home",
    value: "<dir>",
    describe: "where identity and settings live (default: $SFS_HOME or config dir)",
  },
  { long: "json", describe: "machine-readable JSON lines on stdout" },
  { long: "quiet", short: "q", describe: "no progress bar or notes" },
  { long: "debug", describe: "show stack traces" },
];

/** The whole command line: global options, commands, and the examples `--help` ends with. */
const PROGRAM: ProgramSpec<CommandSpec> = {
  name: "sfs",
  describe: "Secure file sharing: end-to-end encrypted, signed, peer-to-peer transfers",
  version: VERSION,
  globals: GLOBAL_OPTIONS,
  commands: COMMANDS,
  epilogue: examplesHelp,
};

/** The command argv names, with what the parser made of it. */
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
  let selection: Selection;
  try {
    const aead = installAeadBackend(Deno.env.get("SFS_CRYPTO"));
    if (args.includes("--verbose") && args.some((arg) => arg === "--version" || arg === "-V")) {
      // Which AES-GCM runs decides transfer speed, so a bug report should say.
      console.log(`${VERSION}\ncrypto: ${describeChoice(aead())}`);
      return 0;
    }
    const parsed = parseCommandLine(args, PROGRAM);
    if (parsed.kind !== "run") {
      console.log(parsed.text.trimEnd());
      return 0;
    }
    const flags = parsed.flags as GlobalFlags;
    selection = { command: parsed.command, input: { args: parsed.args, flags }, globals: flags };
  } catch (err) {
    return fail(early, err);
  }
  return await run(selection);
}

/** Runs the selected command with its context; returns the exit status. */
async function run({ command, input, globals }: Selection): Promise<number> {
  const out = createOutput(globals);
  try {
    await command.run(input, await createContext(globals, out));
    return 0;
  } catch (err) {
    return fail(out, err);
  }
}

/** Prints `err` and returns the exit status its category calls for. */
function fail(out: Output, err: unknown): number {
  return exitCodeFor(out.error(err).code);
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
