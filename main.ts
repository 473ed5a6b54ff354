/**
 * sfs entrypoint: registers the commands, runs one, maps its error's category to an exit status.
 *
 * Only the file of the command argv names (src/cli/commands/*.ts, light: options and flag
 * parsing) loads here, or every one for help and usage errors; each loads its implementation when
 * it runs, so `sfs --version` loads none and only `sfs server` loads the index server and SQLite.
 */
import {
  commandName,
  type OptionSpec,
  parseCommandLine,
  type ProgramSpec,
} from "./src/cli/args.ts";
import type { CommandInput, CommandSpec } from "./src/cli/commands/command.ts";
import { examplesHelp } from "./src/cli/commands/examples.ts";
import { createContext, createOutput, type GlobalFlags } from "./src/cli/context.ts";
import { exitCodeFor, type Output } from "./src/cli/output.ts";
import { VERSION } from "./src/version.ts";
import { describeChoice, installAeadBackend } from "./src/native/libcrypto.ts";

/**
 * Every command's name, in the order `sfs --help` lists them, with how to load its declaration.
 * A command line that names one loads only that one: the others' files (and what they import,
 * such as the short codes' word list) cost ~10% of a 1 KiB `sfs get` (docs/PERFORMANCE.md).
 */
const COMMAND_FILES: readonly (readonly [string, () => Promise<CommandSpec>])[] = [
  ["keygen", async () => (await import("./src/cli/commands/keygen.ts")).KEYGEN_COMMAND],
  ["whoami", async () => (await import("./src/cli/commands/whoami.ts")).WHOAMI_COMMAND],
  ["send", async () => (await import("./src/cli/commands/send.ts")).SEND_COMMAND],
  ["get", async () => (await import("./src/cli/commands/get.ts")).GET_COMMAND],
  ["server", async () => (await import("./src/cli/commands/server.ts")).SERVER_COMMAND],
  ["register", async () => (await import("./src/cli/commands/register.ts")).REGISTER_COMMAND],
  ["login", async () => (await import("./src/cli/commands/login.ts")).LOGIN_COMMAND],
  ["search", async () => (await import("./src/cli/commands/search.ts")).SEARCH_COMMAND],
  ["ls", async () => (await import("./src/cli/commands/ls.ts")).LS_COMMAND],
  ["unshare", async () => (await import("./src/cli/commands/unshare.ts")).UNSHARE_COMMAND],
  ["contacts", async () => (await import("./src/cli/commands/contacts.ts")).CONTACTS_COMMAND],
  ["trust", async () => (await import("./src/cli/commands/trust.ts")).TRUST_COMMAND],
  ["forget", async () => (await import("./src/cli/commands/forget.ts")).FORGET_COMMAND],
  ["verify", async () => (await import("./src/cli/commands/verify.ts")).VERIFY_COMMAND],
];

/** Every command's declaration, in `sfs --help` order. */
export function loadCommands(): Promise<CommandSpec[]> {
  return Promise.all(COMMAND_FILES.map(([, load]) => load()));
}

/** The commands `args` may need: the one it names, or all (for help and usage errors). */
async function commandsFor(args: readonly string[]): Promise<CommandSpec[]> {
  const name = commandName(args, GLOBAL_OPTIONS);
  const named = COMMAND_FILES.find(([command]) => command === name);
  return named ? [await named[1]()] : await loadCommands();
}

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

/** The whole command line: global options, `commands`, and the examples `--help` ends with. */
function program(commands: readonly CommandSpec[]): ProgramSpec<CommandSpec> {
  return {
    name: "sfs",
    describe: "Secure file sharing: end-to-end encrypted, signed, peer-to-peer transfers",
    version: VERSION,
    globals: GLOBAL_OPTIONS,
    commands,
    epilogue: examplesHelp,
  };
}

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
    const parsed = parseCommandLine(args, program(await commandsFor(args)));
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
