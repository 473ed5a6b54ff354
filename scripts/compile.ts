/**
 * Builds standalone sfs binaries with `deno compile`, one per release target.
 *
 * Usage: `deno task compile [--target T]... [--out-dir dist]`
 *
 * The binaries get the permission flags of the `sfs` task in deno.json, read from there so the
 * flags live in one place and a compiled sfs can do no more than `deno task sfs`. One flag is
 * narrowed per target: `--allow-ffi` keeps only the libcrypto paths of the target's OS (the
 * fast AES-GCM path, src/native/libcrypto.ts); a binary that finds none uses WebCrypto.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { LIBCRYPTO_PATHS, type LibcryptoOs } from "../src/native/libcrypto.ts";

/** The targets a release ships, as `deno compile --target` names them. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;

/** One of {@link TARGETS}. */
export type Target = typeof TARGETS[number];

const ROOT = new URL("../", import.meta.url);
const ENTRY = "main.ts";
const CWD_PREFIX = 'SFS_CWD="$INIT_CWD" ';

/**
 * Returns the flags of the `sfs` task in a deno.json text: its `--allow-*` permissions and its
 * `--v8-flags=` (the heap settings, which `deno compile` bakes into the binary).
 *
 * Throws when the task is not of the form `[SFS_CWD="$INIT_CWD"] deno run --flag… main.ts`, so a change to the task
 * that this parser does not understand fails loudly instead of silently dropping permissions.
 * A whole word may be in double quotes (a path with spaces); quotes are removed as the task
 * shell does.
 */
export function sfsTaskFlags(denoJsonText: string): string[] {
  const config: unknown = JSON.parse(denoJsonText);
  const task = (config as { tasks?: { sfs?: unknown } })?.tasks?.sfs;
  if (typeof task !== "string") throw new Error('deno.json has no "sfs" task string');
  // The task first points SFS_CWD at the folder it was started from (main.ts); binaries need not.
  const command = task.startsWith(CWD_PREFIX) ? task.slice(CWD_PREFIX.length) : task;
  const words = [...command.matchAll(/"([^"]*)"(?=\s|$)|(\S+)/g)].map((m) => m[1] ?? m[2]);
  const flags = words.slice(2, -1);
  const wellFormed = words[0] === "deno" && words[1] === "run" && words.at(-1) === ENTRY &&
    flags.every((f) => /^--[a-z][a-z0-9-]*(=[^"'\n]+)?$/.test(f));
  if (!wellFormed) {
    throw new Error(`Cannot parse the "sfs" task as "deno run --flag… ${ENTRY}": "${task}"`);
  }
  return flags;
}

/** Reads the `sfs` task's flags from this repository's deno.json. */
export function readSfsTaskFlags(): string[] {
  return sfsTaskFlags(Deno.readTextFileSync(new URL("deno.json", ROOT)));
}

/** Returns the output file for a target: `<outDir>/sfs-<target>`, plus `.exe` on Windows. */
export function outputPath(target: Target, outDir: string): string {
  return `${outDir}/sfs-${target}${target.includes("windows") ? ".exe" : ""}`;
}

/** Returns the `deno compile` arguments (after the executable) for one target. */
export function compileArgs(target: Target, flags: readonly string[], outDir: string): string[] {
  return [
    "compile",
    ...flags.map((flag) => narrowFfi(target, flag)),
    "--target",
    target,
    "--output",
    outputPath(target, outDir),
    ENTRY,
  ];
}

/** The OS of a target, as LIBCRYPTO_PATHS names it. */
export function targetOs(target: Target): LibcryptoOs {
  if (target.endsWith("-linux-gnu")) return "linux";
  if (target.endsWith("-apple-darwin")) return "darwin";
  return "windows";
}

/**
 * `--allow-ffi=…` keeps only the paths of the target's OS, and only those the task allows, so
 * a binary may load less than `deno task sfs`, never more. Other flags pass unchanged.
 */
function narrowFfi(target: Target, flag: string): string {
  const prefix = "--allow-ffi=";
  if (!flag.startsWith(prefix)) return flag;
  const allowed = new Set(flag.slice(prefix.length).split(","));
  const kept = LIBCRYPTO_PATHS[targetOs(target)].filter((path) => allowed.has(path));
  if (kept.length === 0) throw new Error(`--allow-ffi grants no libcrypto path for ${target}`);
  return prefix + kept.join(",");
}

function isTarget(name: string): name is Target {
  return (TARGETS as readonly string[]).includes(name);
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      target: { type: "string", multiple: true },
      "out-dir": { type: "string", default: "dist" },
    },
    strict: true,
  });
  const requested = values.target ?? [...TARGETS];
  const unknown = requested.filter((t) => !isTarget(t));
  if (unknown.length > 0) {
    console.error(`compile: unknown target ${unknown.join(", ")}; known: ${TARGETS.join(", ")}`);
    return 2;
  }
  const flags = readSfsTaskFlags();
  const outDir = values["out-dir"];
  for (const target of requested.filter(isTarget)) {
    const args = compileArgs(target, flags, outDir);
    console.error(`compile: deno ${args.join(" ")}`);
    const { code } = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: ROOT,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (code !== 0) {
      console.error(`compile: ${target} failed with exit code ${code}`);
      return 1;
    }
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
