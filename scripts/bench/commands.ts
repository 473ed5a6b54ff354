/**
 * Running the tools a benchmark needs around sfs (git, ssh, GNU time, apt-get): one call with a
 * deadline, a lookup on PATH and in the sbin folders, and installing a missing Debian package.
 *
 * @module
 */

import { join } from "node:path";
import type { Log } from "./run.ts";

/** What a finished command printed and how it exited. */
export interface CommandOutput {
  success: boolean;
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; it is killed after `timeoutMs` (default 60 s). */
export async function runCommand(
  command: readonly string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CommandOutput> {
  const child = new Deno.Command(command[0], {
    args: command.slice(1),
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const signal = AbortSignal.timeout(options.timeoutMs ?? 60_000);
  const onAbort = () => child.kill("SIGKILL");
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const { success, code, stdout, stderr } = await child.output();
    const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return { success, code, stdout: text(stdout), stderr: text(stderr) };
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/** Runs a command for its output; undefined when it cannot be run at all. */
export async function tryCommand(command: readonly string[]): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await runCommand(command, { timeoutMs: 10_000 });
    return (stdout + stderr).trim();
  } catch {
    return undefined;
  }
}

/** Finds an executable on PATH or in the sbin folders (sshd lives there, often off PATH). */
export async function findExecutable(name: string): Promise<string | undefined> {
  const path = Deno.env.get("PATH") ?? "";
  const dirs = [...path.split(":"), "/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/lib/openssh"];
  for (const dir of dirs.filter((d) => d.startsWith("/"))) {
    const candidate = join(dir, name);
    try {
      const info = await Deno.stat(candidate);
      if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** Installs Debian packages when that is possible; returns why not otherwise. */
export async function aptInstall(
  packages: readonly string[],
  log: Log,
): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return `not Linux (${Deno.build.os})`;
  if (Deno.uid() !== 0) return "not running as root, so cannot install packages";
  const apt = await findExecutable("apt-get");
  if (!apt) return "no apt-get on this system";
  log(`installing ${packages.join(" ")} with apt-get…`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const install = [apt, "install", "-y", "--no-install-recommends", ...packages];
  let result = await runCommand(install, { env, timeoutMs: 300_000 });
  if (!result.success) {
    // A fresh machine may have no package lists yet.
    await runCommand([apt, "update"], { env, timeoutMs: 300_000 });
    result = await runCommand(install, { env, timeoutMs: 300_000 });
  }
  if (!result.success) {
    return `apt-get install ${packages.join(" ")} failed: ${
      result.stderr.trim().split("\n").at(-1)
    }`;
  }
  return undefined;
}
