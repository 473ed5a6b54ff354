/**
 * `deno task install`: installs an `sfs` command that runs this checkout, with Deno's own
 * `deno install --global`.
 *
 * The command gets exactly the permission flags of the `sfs` task (read from deno.json, as
 * scripts/compile.ts does, so the flags live in one place), this checkout's deno.json and lock
 * file, and runs in the folder it is called from, so relative paths mean what the user typed.
 * Deno puts it in `$DENO_INSTALL_ROOT/bin` (default `~/.deno/bin`), with a copy of deno.json and
 * deno.lock beside it; `--root DIR` overrides the folder. The command runs the code of this
 * checkout, so a `git pull` updates it; rerun the task after changing deno.json. Reinstalling
 * replaces an earlier `sfs`.
 *
 * Usage: `deno task install [--root DIR] [--name sfs]`
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { readSfsTaskFlags } from "./compile.ts";

const ROOT = new URL("../", import.meta.url);

/** The `deno install` arguments (after the executable) that install `name` from this checkout. */
export function installArgs(
  flags: readonly string[],
  options: { name?: string; root?: string } = {},
): string[] {
  return [
    "install",
    "--global",
    "--force",
    "--name",
    options.name ?? "sfs",
    ...(options.root === undefined ? [] : ["--root", options.root]),
    "--config",
    fileURLToPath(new URL("deno.json", ROOT)),
    "--lock",
    fileURLToPath(new URL("deno.lock", ROOT)),
    ...flags,
    fileURLToPath(new URL("main.ts", ROOT)),
  ];
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { root: { type: "string" }, name: { type: "string", default: "sfs" } },
    strict: true,
  });
  const denoArgs = installArgs(readSfsTaskFlags(), values);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: denoArgs,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) {
    console.error(`install: deno install failed with exit code ${code}`);
    return 1;
  }
  // Deno itself says where the command went and how to put that folder on PATH.
  console.error(`install: done; from any folder, try: ${values.name} --version`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
