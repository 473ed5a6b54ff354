/** Facts about the machine and the source tree that both benchmarks record with their numbers. */

/**
 * Reads a /proc file through `cat`: Deno refuses /proc reads without --allow-all, and a child
 * process keeps the task's permission list explicit. Empty when unreadable (or not Linux).
 */
export async function readProc(path: string): Promise<string> {
  if (Deno.build.os !== "linux") return "";
  try {
    const out = await new Deno.Command("cat", { args: [path], stdout: "piped", stderr: "null" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout) : "";
  } catch {
    return "";
  }
}

/** The CPU model named in /proc/cpuinfo text, if any. */
export function cpuModel(cpuinfo: string): string | undefined {
  return /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1].trim();
}

/** Which sfs was measured: the commit of `root`, and whether main.ts or src/ differ from it. */
export async function sourceRevision(
  root: string,
): Promise<{ sfsCommit: string | null; sfsSourceModified: boolean | null }> {
  const git = async (...args: string[]): Promise<string | undefined> => {
    try {
      const out = await new Deno.Command("git", {
        args: ["-C", root, ...args],
        stdout: "piped",
        stderr: "null",
      }).output();
      return out.success ? new TextDecoder().decode(out.stdout).trim() : undefined;
    } catch {
      return undefined;
    }
  };
  const commit = await git("rev-parse", "HEAD");
  if (commit === undefined || !/^[0-9a-f]{40}$/.test(commit)) {
    return { sfsCommit: null, sfsSourceModified: null };
  }
  const status = await git("status", "--porcelain", "--", "main.ts", "src");
  return { sfsCommit: commit, sfsSourceModified: status !== "" };
}
