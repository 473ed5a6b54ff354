/**
 * Runs the real sfs CLI (or any command) as a child process that cleans up after itself
 * (`await using`), with its JSON events parsed line by line. Shared by the integration tests
 * (through tests/harness.ts), the benchmarks and the demo, so `scripts/` never imports `tests/`.
 *
 * @module
 */

import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readSfsTaskFlags } from "../compile.ts";

const MAIN_TS = fileURLToPath(new URL("../../main.ts", import.meta.url));

/**
 * The command that runs sfs: from source with exactly the `sfs` task's permissions, so tests
 * fail where users would (`[deno, "run", ...flags, "<abs>/main.ts"]`); or, when the environment
 * variable SFS_CMD names an executable (a compiled binary: `SFS_CMD=dist/sfs-… deno task demo`),
 * that executable, so CI runs the same checks against what users download.
 */
export const SFS_CMD: readonly string[] = Object.freeze(
  commandFromEnv() ?? [Deno.execPath(), "run", ...readSfsTaskFlags(), MAIN_TS],
);

/** SFS_CMD as an absolute path (relative to where the task was started), or undefined. */
function commandFromEnv(): string[] | undefined {
  const value = Deno.env.get("SFS_CMD")?.trim();
  if (!value) return undefined;
  // A bare name is looked up on PATH; a path is made absolute, since children may run elsewhere.
  if (!/[/\\]/.test(value)) return [value];
  return [resolve(Deno.env.get("INIT_CWD") ?? Deno.cwd(), value)];
}

/** A parsed stdout JSON line, e.g. `{"event":"listening","port":1234}`. */
export type SfsEvent = Record<string, unknown>;

/** Options for {@link startSfs} and {@link runSfs}. */
export interface SfsOptions {
  /** The sfs home directory, passed as SFS_HOME (works for every command, unlike a flag). */
  home?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Variables of this process's environment the child must not inherit. */
  withoutEnv?: readonly string[];
  /** Working directory of the child. */
  cwd?: string;
  /**
   * Text written to the child's stdin, which is then closed; without it stdin is /dev/null.
   * @default {undefined}
   */
  input?: string;
}

/** A running sfs process; `await using` kills it if it is still running. */
export interface SfsProcess extends AsyncDisposable {
  /** The child's process id. */
  readonly pid: number;
  /** Resolves when the process exits. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Every stdout line parsed so far as JSON (also those skipped by nextEvent). */
  readonly events: readonly SfsEvent[];
  /**
   * Resolves to the next stdout JSON line matching `predicate`, skipping others.
   * Rejects on a non-JSON line, when stdout ends first, or after `timeoutMs` (default 30 s);
   * the rejection message includes stderr so a failing test shows why. Await one call at a
   * time: concurrent calls would compete for the same lines.
   */
  nextEvent(predicate?: (event: SfsEvent) => boolean, timeoutMs?: number): Promise<SfsEvent>;
  /** All stdout text received so far. */
  stdoutText(): string;
  /** All stderr text received so far. */
  stderrText(): string;
  /** Resolves when stdout and stderr are fully read (after the process exits). */
  drained(): Promise<void>;
  /** Sends a signal, if the process is still running. */
  kill(signal?: Deno.Signal): void;
}

/** The result of {@link runSfs}. */
export interface SfsResult {
  /** Exit code. */
  code: number;
  /** All of stdout. */
  stdout: string;
  /** All of stderr. */
  stderr: string;
  /** The stdout lines that parse as JSON objects. */
  events: SfsEvent[];
}

/** Splits a text stream into lines and hands them out in order to waiting readers. */
class LineQueue {
  #lines: string[] = [];
  #ended = false;
  #wake: (() => void) | undefined;

  push(line: string): void {
    this.#lines.push(line);
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  /** Returns the next line, or undefined once the stream has ended and all lines are taken. */
  async next(signal: AbortSignal): Promise<string | undefined> {
    while (this.#lines.length === 0 && !this.#ended) {
      signal.throwIfAborted();
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#wake = resolve;
      const onAbort = () => resolve();
      signal.addEventListener("abort", onAbort, { once: true });
      await promise;
      signal.removeEventListener("abort", onAbort);
      this.#wake = undefined;
    }
    return this.#lines.shift();
  }
}

function parseEvent(line: string): SfsEvent | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? value as SfsEvent
      : undefined;
  } catch {
    return undefined;
  }
}

/** Starts sfs with `args`; use with `await using` so it never outlives the test. */
export function startSfs(args: readonly string[], options: SfsOptions = {}): SfsProcess {
  return startProcess([...SFS_CMD, ...args], options);
}

/**
 * Starts any command (`[executable, ...args]`) with the same plumbing as {@link startSfs}; for
 * helper processes and for testing the harness itself.
 */
export function startProcess(command: readonly string[], options: SfsOptions = {}): SfsProcess {
  const child = spawn(command, options);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const pipes = readPipes(child);
  const drained = Promise.all([pipes.done, writeInput(child, options.input)]).then(() => {});
  const events: SfsEvent[] = [];
  return {
    pid: child.pid,
    status,
    events,
    stdoutText: pipes.stdout,
    stderrText: pipes.stderr,
    drained: () => drained,
    kill(signal: Deno.Signal = "SIGTERM") {
      if (!exited) {
        try {
          child.kill(signal);
        } catch {
          // Lost the race with the child exiting on its own.
        }
      }
    },
    nextEvent: (predicate = () => true, timeoutMs = 30_000) =>
      nextEvent(pipes, events, predicate, timeoutMs),
    async [Symbol.asyncDispose]() {
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already gone.
        }
      }
      await status;
      await drained;
    },
  };
}

function spawn(command: readonly string[], options: SfsOptions): Deno.ChildProcess {
  const inherited = Deno.env.toObject();
  for (const name of options.withoutEnv ?? []) delete inherited[name];
  return new Deno.Command(command[0], {
    args: command.slice(1),
    cwd: options.cwd,
    clearEnv: options.withoutEnv !== undefined,
    env: {
      ...(options.withoutEnv === undefined ? {} : inherited),
      // No colour codes in output the tests parse; no update checks slowing startup.
      NO_COLOR: "1",
      DENO_NO_UPDATE_CHECK: "1",
      ...(options.home === undefined ? {} : { SFS_HOME: options.home }),
      ...options.env,
    },
    stdin: options.input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Writes `input` to the child's stdin and closes it; resolves at once without input. */
async function writeInput(child: Deno.ChildProcess, input: string | undefined): Promise<void> {
  if (input === undefined) return;
  const writer = child.stdin.getWriter();
  try {
    await writer.write(new TextEncoder().encode(input));
    await writer.close();
  } catch {
    // The child may exit without reading its input; that is the test's business, not ours.
  }
}

/** A child's output as it arrives: stdout as lines to take and as text, stderr as text. */
interface Pipes {
  lines: LineQueue;
  stdout(): string;
  stderr(): string;
  /** Resolves when both pipes are read to the end. */
  done: Promise<unknown>;
}

/** Reads both pipes to the end from the start, so a chatty child never blocks on a full pipe. */
function readPipes(child: Deno.ChildProcess): Pipes {
  const lines = new LineQueue();
  let stdout = "";
  const stdoutDone = (async () => {
    let rest = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      stdout += chunk;
      const parts = (rest + chunk).split("\n");
      rest = parts.pop() ?? "";
      for (const line of parts) lines.push(line.replace(/\r$/, ""));
    }
    if (rest !== "") lines.push(rest);
    lines.end();
  })();
  let stderr = "";
  const stderrDone = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) stderr += chunk;
  })();
  return {
    lines,
    stdout: () => stdout,
    stderr: () => stderr,
    done: Promise.all([stdoutDone, stderrDone]),
  };
}

/** Takes stdout lines until one parses to an event matching `predicate`; see SfsProcess. */
async function nextEvent(
  pipes: Pipes,
  events: SfsEvent[],
  predicate: (event: SfsEvent) => boolean,
  timeoutMs: number,
): Promise<SfsEvent> {
  const signal = AbortSignal.timeout(timeoutMs);
  while (true) {
    const line = await pipes.lines.next(signal).catch(() => {
      throw new Error(`No matching event within ${timeoutMs} ms; stderr:\n${pipes.stderr()}`);
    });
    if (line === undefined) {
      throw new Error(`stdout ended before a matching event; stderr:\n${pipes.stderr()}`);
    }
    if (line.trim() === "") continue;
    const event = parseEvent(line);
    if (event === undefined) {
      throw new Error(`stdout line is not a JSON object: ${JSON.stringify(line)}`);
    }
    events.push(event);
    if (predicate(event)) return event;
  }
}

/**
 * Runs sfs to completion and returns its exit code and output.
 *
 * Kills the process and throws if it runs longer than `timeoutMs` (default 60 s).
 */
export async function runSfs(
  args: readonly string[],
  options: SfsOptions & { timeoutMs?: number } = {},
): Promise<SfsResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  await using proc = startSfs(args, options);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const outcome = await Promise.race([proc.status, timedOut]);
  clearTimeout(timer);
  if (outcome === "timeout") {
    proc.kill("SIGKILL");
    await proc.status;
    await proc.drained();
    throw new Error(
      `sfs ${args.join(" ")} did not finish within ${timeoutMs} ms; stderr:\n${proc.stderrText()}`,
    );
  }
  await proc.drained();
  const stdout = proc.stdoutText();
  // Unlike nextEvent, plain-text lines (like --version's) are fine here: keep only JSON ones.
  const events = stdout.split("\n").map(parseEvent).filter((e) => e !== undefined);
  return { code: outcome.code, stdout, stderr: proc.stderrText(), events };
}
