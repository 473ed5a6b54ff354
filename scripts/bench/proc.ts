/**
 * What Linux's /proc says about processes: CPU time and memory of one, and the children of one.
 * Every reader returns "unknown" (empty text, NaN, no children) elsewhere.
 *
 * @module
 */

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

/** User + system CPU seconds of a process so far, or NaN when unknown. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readProc(`/proc/${pid}/stat`);
  // Fields after the parenthesised command name; utime and stime are the 12th and 13th there.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) && stat !== "" ? ticks / 100 : NaN;
}

/** Memory of a process from /proc/PID/status, in bytes (NaN when unknown). */
export interface Memory {
  /** Peak resident set ("high water mark"). */
  peak: number;
  rss: number;
  /** Resident anonymous memory: heaps, buffers, SQLite's page cache. */
  anon: number;
  /** Resident file-backed pages: the executable and the memory-mapped database. */
  file: number;
}

/** Reads the {@link Memory} of process `pid`. */
export async function memory(pid: number): Promise<Memory> {
  const status = await readProc(`/proc/${pid}/status`);
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s*(\\d+) kB`, "m").exec(status);
    return match ? Number(match[1]) * 1024 : NaN;
  };
  return {
    peak: field("VmHWM"),
    rss: field("VmRSS"),
    anon: field("RssAnon"),
    file: field("RssFile"),
  };
}

/** Kills the children (and theirs) of `pid`, found through Linux's /proc; elsewhere a no-op. */
export async function killDescendants(pid: number): Promise<void> {
  const found: number[] = [];
  const walk = async (parent: number): Promise<void> => {
    const text = await readProc(`/proc/${parent}/task/${parent}/children`);
    for (const child of text.trim().split(/\s+/).filter(Boolean).map(Number)) {
      found.push(child);
      await walk(child);
    }
  };
  await walk(pid);
  for (const child of found) {
    try {
      Deno.kill(child, "SIGKILL");
    } catch {
      // Exited meanwhile.
    }
  }
}
