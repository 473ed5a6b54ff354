/**
 * What every command runs with, built once per process from the global flags: the sfs home and
 * the printer that honours `--json`, `--quiet` and `--debug`.
 */
import { homeProblems, resolveHome } from "./settings/home.ts";
import { Output } from "./output.ts";

/** The options `sfs` takes before or after any command. */
export interface GlobalFlags {
  home?: string;
  json?: boolean;
  quiet?: boolean;
  debug?: boolean;
}

/** A command's surroundings. */
export interface Context {
  /** The sfs home: `--home`, else `SFS_HOME`, else the per-user config folder. */
  readonly home: string;
  readonly out: Output;
}

/** The printer the global flags ask for. */
export function createOutput(flags: GlobalFlags): Output {
  return new Output({ json: !!flags.json, quiet: !!flags.quiet, debug: !!flags.debug });
}

/**
 * Resolves the home and warns, through `out`, about what is wrong with it. Call once per
 * process, before any command reads the home.
 */
export async function createContext(flags: GlobalFlags, out: Output): Promise<Context> {
  const home = await resolveHome({ flag: flags.home });
  for (const problem of homeProblems(home)) out.warn(problem.message, { hint: problem.hint });
  return { home, out };
}
