/**
 * The CLI's argument parser: each command declares its options and arguments as data
 * ({@link OptionSpec}, {@link ArgumentSpec}) and {@link parseCommandLine} turns argv into the
 * command to run with its flags, or into help or the version.
 *
 * Our own rather than an npm package because the parser runs on every start: commander pulled
 * Deno's Node compatibility layer (`node:process`, `node:events`, …) into `sfs --version` and
 * every small transfer: without it `sfs --version` takes about 50 ms less CPU (0.18 → 0.13 s,
 * docs/PERFORMANCE.md, section cli12).
 *
 * The grammar is the usual one: `--name value`, `--name=value`, `-n value`, `-nvalue`, grouped
 * short booleans (`-qy`), `--no-name` for a negatable boolean, `--` ends the options, a lone `-`
 * is an argument. Options may come before or after the command's arguments, and the global
 * options before or after the command name. Every mistake is a USAGE error naming what was wrong.
 *
 * @module
 */
import { SfsError } from "../errors.ts";

/** One option of a command, or of `sfs` itself. */
export interface OptionSpec {
  /** The long name without dashes: `out` for `--out`, `no-proof` for a negatable `proof`. */
  readonly long: string;
  /** A one-letter alias without its dash: `o` for `-o`. */
  readonly short?: string;
  /** The value's placeholder, such as `<dir>`; an option without one is a boolean. */
  readonly value?: string;
  /** One line for `--help`. */
  readonly describe: string;
  /** The value when the option is absent (an option with a value only). */
  readonly default?: string;
  /** The only values accepted (an option with a value only). */
  readonly choices?: readonly string[];
  /** Each use adds its value to a list; absent means undefined, not an empty list. */
  readonly repeatable?: boolean;
}

/** One positional argument of a command. */
export interface ArgumentSpec {
  /** The name `--help` shows. */
  readonly name: string;
  /** One line for `--help`. */
  readonly describe: string;
  /** Must be given. */
  readonly required?: boolean;
  /** Takes every remaining argument as a `string[]`; must be the last one. */
  readonly variadic?: boolean;
}

/** What the parser needs to know of one command. */
export interface CommandLineSpec {
  /** The word after `sfs`. */
  readonly name: string;
  /** One line for `sfs --help` and the command's own help. */
  readonly describe: string;
  /** The positional arguments, in order. */
  readonly arguments?: readonly ArgumentSpec[];
  /** The command's own options (the global ones are added). */
  readonly options?: readonly OptionSpec[];
}

/** The program: its global options and commands. */
export interface ProgramSpec<C extends CommandLineSpec> {
  readonly name: string;
  readonly describe: string;
  readonly version: string;
  /** Options every command takes, before or after its name. */
  readonly globals: readonly OptionSpec[];
  readonly commands: readonly C[];
  /** Text `--help` ends with: for the program (undefined) or a command. */
  readonly epilogue?: (command?: string) => string;
}

/** A parsed option value: a boolean, a string, or a repeatable option's list. */
export type FlagValue = boolean | string | string[];

/** What argv asks for. */
export type ParsedCommandLine<C> =
  | { readonly kind: "help"; readonly text: string }
  | { readonly kind: "version"; readonly text: string }
  | {
    readonly kind: "run";
    readonly command: C;
    /** Declared arguments in order: a string, undefined (optional, absent) or a `string[]`. */
    readonly args: (string | string[] | undefined)[];
    /** Options by camelCase name (`--code-ttl` → `codeTtl`), the global ones included. */
    readonly flags: Record<string, FlagValue | undefined>;
  };

const HELP_OPTION: OptionSpec = { long: "help", short: "h", describe: "display help" };
const VERSION_OPTION: OptionSpec = { long: "version", short: "V", describe: "print the version" };

/** Parses `argv` (without the program name) against `program`; USAGE on any mistake. */
export function parseCommandLine<C extends CommandLineSpec>(
  argv: readonly string[],
  program: ProgramSpec<C>,
): ParsedCommandLine<C> {
  const index = commandIndex(argv, program.globals);
  const name = index === -1 ? undefined : argv[index];
  if (name === "help") return helpFor(program, argv[index + 1]);
  const command = name === undefined ? undefined : program.commands.find((c) => c.name === name);
  if (name !== undefined && command === undefined) {
    throw usage(`Unknown command "${name}"`, program.name);
  }
  const rest = index === -1 ? [] : [...argv.slice(0, index), ...argv.slice(index + 1)];
  const options = [...(command?.options ?? []), ...program.globals, HELP_OPTION, VERSION_OPTION];
  const where = command === undefined ? program.name : `${program.name} ${command.name}`;
  const { flags, positionals } = scan(index === -1 ? argv : rest, options, where);
  if (flags.help) return { kind: "help", text: formatHelp(program, command) };
  if (flags.version) return { kind: "version", text: program.version };
  if (command === undefined) throw usage("Missing command", program.name);
  const args = bindArguments(command.arguments ?? [], positionals, where);
  delete flags.help;
  delete flags.version;
  return { kind: "run", command, args, flags };
}

/** The command `argv` names (its first word that is not a global option or its value), if any. */
export function commandName(
  argv: readonly string[],
  globals: readonly OptionSpec[],
): string | undefined {
  const index = commandIndex(argv, globals);
  return index === -1 ? undefined : argv[index];
}

/** Where the command's name is: the first word that is not a global option or its value. */
function commandIndex(argv: readonly string[], globals: readonly OptionSpec[]): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") return -1;
    if (!arg.startsWith("-") || arg === "-") return i;
    const option = globals.find((o) => arg === `--${o.long}` || (o.short && arg === `-${o.short}`));
    if (option?.value !== undefined) i++;
  }
  return -1;
}

/** `sfs help [COMMAND]`. */
function helpFor<C extends CommandLineSpec>(
  program: ProgramSpec<C>,
  name: string | undefined,
): ParsedCommandLine<C> {
  const command = program.commands.find((c) => c.name === name);
  if (name !== undefined && command === undefined) {
    throw usage(`Unknown command "${name}"`, program.name);
  }
  return { kind: "help", text: formatHelp(program, command) };
}

/** The flag key of an option: camelCase, without a negatable option's `no-`. */
export function flagKey(option: OptionSpec): string {
  const name = isNegatable(option) ? option.long.slice(3) : option.long;
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function isNegatable(option: OptionSpec): boolean {
  return option.value === undefined && option.long.startsWith("no-");
}

/** Options with their defaults: a negatable boolean is true until `--no-x`. */
function defaults(options: readonly OptionSpec[]): Record<string, FlagValue | undefined> {
  const flags: Record<string, FlagValue | undefined> = {};
  for (const option of options) {
    if (isNegatable(option)) flags[flagKey(option)] = true;
    else if (option.default !== undefined) flags[flagKey(option)] = option.default;
  }
  return flags;
}

/** Splits argv into option values and positionals. */
function scan(
  argv: readonly string[],
  options: readonly OptionSpec[],
  where: string,
): { flags: Record<string, FlagValue | undefined>; positionals: string[] } {
  const flags = defaults(options);
  const positionals: string[] = [];
  const set = (option: OptionSpec, text: string, value: string | undefined): void => {
    if (option.value === undefined) {
      if (value !== undefined) throw usage(`Option ${text} takes no value`, where);
      flags[flagKey(option)] = !isNegatable(option);
      return;
    }
    if (value === undefined) throw usage(`Option ${text} needs a value ${option.value}`, where);
    if (option.choices !== undefined && !option.choices.includes(value)) {
      throw usage(
        `Option ${text} must be one of ${option.choices.join(", ")}, got "${value}"`,
        where,
      );
    }
    const key = flagKey(option);
    const previous = flags[key];
    flags[key] = option.repeatable ? [...(Array.isArray(previous) ? previous : []), value] : value;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const text = eq === -1 ? arg : arg.slice(0, eq);
      const option = options.find((o) => `--${o.long}` === text);
      if (option === undefined) throw usage(`Unknown option ${text}`, where);
      const inline = eq === -1 ? undefined : arg.slice(eq + 1);
      // A value may start with a dash (`--name -x-`): the option asked for one.
      const value = inline ?? (option.value === undefined ? undefined : argv[++i]);
      set(option, text, value);
    } else if (arg.startsWith("-") && arg !== "-") {
      i = scanShort(argv, i, options, where, set);
    } else {
      positionals.push(arg);
    }
  }
  return { flags, positionals };
}

/** Reads `-x`, `-xvalue`, `-x value` or grouped booleans `-qy` at `argv[i]`; returns the last index used. */
function scanShort(
  argv: readonly string[],
  i: number,
  options: readonly OptionSpec[],
  where: string,
  set: (option: OptionSpec, text: string, value: string | undefined) => void,
): number {
  const letters = argv[i].slice(1);
  for (let j = 0; j < letters.length; j++) {
    const text = `-${letters[j]}`;
    const option = options.find((o) => o.short === letters[j]);
    if (option === undefined) throw usage(`Unknown option ${text}`, where);
    if (option.value === undefined) {
      set(option, text, undefined);
      continue;
    }
    const attached = letters.slice(j + 1);
    if (attached !== "") {
      set(option, text, attached);
      return i;
    }
    set(option, text, argv[i + 1]);
    return i + 1;
  }
  return i;
}

/** Binds positionals to the declared arguments; USAGE for a missing or an extra one. */
function bindArguments(
  declared: readonly ArgumentSpec[],
  positionals: readonly string[],
  where: string,
): (string | string[] | undefined)[] {
  const args: (string | string[] | undefined)[] = [];
  let next = 0;
  for (const argument of declared) {
    if (argument.variadic) {
      const values = positionals.slice(next);
      next = positionals.length;
      if (argument.required && values.length === 0) {
        throw usage(`Missing argument ${argument.name}`, where);
      }
      args.push(values);
      continue;
    }
    const value = positionals[next];
    if (value === undefined && argument.required) {
      throw usage(`Missing argument ${argument.name}`, where);
    }
    if (value !== undefined) next++;
    args.push(value);
  }
  if (next < positionals.length) {
    throw usage(`Unexpected argument "${positionals[next]}"`, where);
  }
  return args;
}

function usage(message: string, where: string): SfsError {
  return new SfsError("USAGE", message, { hint: `See \`${where} --help\`` });
}

/** The `--help` text of the program (no command) or of one command. */
export function formatHelp<C extends CommandLineSpec>(
  program: ProgramSpec<C>,
  command?: C,
): string {
  const sections: string[] = [];
  const epilogue = program.epilogue?.(command?.name) ?? "";
  if (command === undefined) {
    sections.push(`Usage: ${program.name} [options] <command> [options]`, program.describe);
    sections.push(
      "Commands:\n" + table(program.commands.map((c) => [c.name, c.describe])),
      "Options:\n" + table([...program.globals, HELP_OPTION, VERSION_OPTION].map(optionRow)),
      `Run \`${program.name} <command> --help\` for a command's arguments and options.`,
    );
  } else {
    const declared = command.arguments ?? [];
    const synopsis = declared.map(argumentSynopsis).join(" ");
    sections.push(
      `Usage: ${program.name} ${command.name} [options]${synopsis ? " " + synopsis : ""}`,
      command.describe,
    );
    if (declared.length > 0) {
      sections.push("Arguments:\n" + table(declared.map((a) => [a.name, a.describe])));
    }
    sections.push("Options:\n" + table([...(command.options ?? []), HELP_OPTION].map(optionRow)));
    sections.push("Global options:\n" + table(program.globals.map(optionRow)));
  }
  return sections.join("\n\n") + "\n" + epilogue;
}

function argumentSynopsis(argument: ArgumentSpec): string {
  const name = argument.variadic ? `${argument.name}...` : argument.name;
  return argument.required ? `<${name}>` : `[${name}]`;
}

function optionRow(option: OptionSpec): [string, string] {
  const names = (option.short ? `-${option.short}, ` : "    ") + `--${option.long}` +
    (option.value ? ` ${option.value}` : "");
  const extras = [
    option.choices ? `one of: ${option.choices.join(", ")}` : "",
    option.default !== undefined ? `default: ${option.default}` : "",
  ].filter((extra) => extra !== "");
  return [names, option.describe + (extras.length > 0 ? ` (${extras.join("; ")})` : "")];
}

/** Two columns, the second aligned; a long first column puts the second on the next line. */
function table(rows: readonly (readonly [string, string])[]): string {
  const width = Math.min(32, Math.max(...rows.map(([left]) => left.length)));
  return rows.map(([left, right]) =>
    left.length > width
      ? `  ${left}\n  ${" ".repeat(width)}  ${right}`
      : `  ${left.padEnd(width)}  ${right}`
  ).join("\n");
}
