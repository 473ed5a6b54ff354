/**
 * The shape of one `sfs` command. main.ts lists them in COMMANDS; adding a command means adding
 * its file here (and its implementation) and one entry there.
 *
 * A command file stays light: it declares the command line and turns flags into options. The
 * work lives in a `*_run.ts` module that `run` loads with `import("./x_run.ts")`, so `sfs get`
 * never loads the server (nor `node:sqlite`) and `sfs --version` loads no command at all. The
 * specifier must be a string literal: `deno compile` includes only dynamic imports it can read
 * (tests/imports_test.ts checks both).
 */
import type { CommandLineSpec } from "../args.ts";
import type { Context } from "../context.ts";

/** What the parser (src/cli/args.ts) made of one command line. */
export interface CommandInput<Flags extends object, Args extends unknown[]> {
  /** The declared arguments in order; a variadic one is a `string[]`. */
  readonly args: Args;
  /** The command's options, the global ones included. */
  readonly flags: Flags;
}

/**
 * One command of the CLI: its command line (name, arguments and options, which make `Args` and
 * `Flags`) and how it runs.
 */
export interface CommandSpec<Flags extends object = object, Args extends unknown[] = unknown[]>
  extends CommandLineSpec {
  /** Runs the command, loading its implementation first. */
  run(input: CommandInput<Flags, Args>, context: Context): Promise<void>;
}
