/**
 * The `sfs server` process under test: started from source with the `sfs` task's permissions (plus
 * optional profiling and V8 flags) on the pre-filled database, its JSON log read as it comes so
 * its writes never block, and stopped with SIGTERM as an operator would.
 *
 * @module
 */

import { join } from "node:path";
import { SFS_CMD } from "../../lib/sfs_process.ts";
import type { IndexConfig } from "./config.ts";
import type { Corpus } from "./corpus.ts";

/** A running index server. */
export interface Server {
  readonly pid: number;
  readonly port: number;
  readonly fingerprint: string;
  /** JSON log lines after `listening`, and how many were `error` events. */
  readonly logLines: () => { lines: number; errors: string[] };
  stop(): Promise<Deno.CommandStatus>;
  kill(): void;
}

/** What the server printed: its `listening` event, and the log lines after it. */
interface ServerOutput {
  listening: Promise<Record<string, unknown>>;
  /** The last 8 KiB of stderr: why it died, if it did. */
  stderrTail: () => string;
  logLines: () => { lines: number; errors: string[] };
  /** Resolves when both pipes are read to the end. */
  done: Promise<unknown>;
}

/**
 * Starts `sfs server` on 127.0.0.1, port 0, over `db` (a SQLite file or a PostgreSQL URL), its
 * home in `dir`; resolves once it listens.
 */
export async function startServer(
  config: IndexConfig,
  dir: string,
  corpus: Corpus,
  db: string,
): Promise<Server> {
  await Deno.writeTextFile(join(dir, "server-identity.json"), corpus.serverText, { mode: 0o600 });
  const logFile = config.serverLog === undefined
    ? undefined
    : await Deno.open(config.serverLog, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  const [deno, ...args] = serverCommand(config, db);
  const child = new Deno.Command(deno, {
    args,
    env: { SFS_HOME: join(dir, "home"), NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = readOutput(child, (text) => logFile?.writeSync(encoder.encode(text)));
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  };
  const event = await listeningWithin(output, 60_000).catch((err) => {
    kill();
    throw err;
  });
  if (event.event !== "listening") {
    throw new Error(`Unexpected first event ${JSON.stringify(event)}`);
  }
  return {
    pid: child.pid,
    port: Number(event.port),
    fingerprint: String(event.fingerprint),
    logLines: output.logLines,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      const status = await child.status;
      await output.done;
      logFile?.close();
      return status;
    },
    kill,
  };
}

/** `deno run [profiling] [--server-flags] <sfs flags> main.ts server --listen … --db … --json`. */
function serverCommand(config: IndexConfig, db: string): string[] {
  const [deno, run, ...rest] = SFS_CMD;
  const profile = config.serverCpuProf === undefined
    ? []
    : ["--cpu-prof", `--cpu-prof-dir=${config.serverCpuProf}`];
  return [
    deno,
    run,
    ...profile,
    ...config.serverFlags,
    ...rest,
    "server",
    "--listen",
    "127.0.0.1:0",
    "--db",
    db,
    "--json",
    // Each benchmark user holds thousands of listings, far past the default quota.
    "--max-listings-per-user",
    "100000000",
  ];
}

/** Reads both pipes to the end, copying everything to `keep` (the `--server-log` file). */
function readOutput(child: Deno.ChildProcess, keep: (text: string) => void): ServerOutput {
  let stderr = "";
  const stderrDone = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      keep(chunk);
      // Only the tail matters (why it died); keep it bounded.
      stderr = (stderr + chunk).slice(-8192);
    }
  })();
  let lines = 0;
  let started = false;
  const errors: string[] = [];
  const listening = Promise.withResolvers<Record<string, unknown>>();
  // The server logs every event on stdout; reading it promptly keeps its writes from blocking.
  const stdoutDone = (async () => {
    let rest = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        keep(`${line}\n`);
        if (!started) {
          // Lines before "listening" can only be runtime output (V8 traces, say): logged only.
          if (line.startsWith('{"event":"listening"')) {
            started = true;
            listening.resolve(JSON.parse(line));
          }
          continue;
        }
        lines++;
        if (line.includes('"event":"error"') && errors.length < 10) errors.push(line);
      }
    }
    listening.reject(new Error(`The server exited before listening:\n${stderr}`));
  })();
  return {
    listening: listening.promise,
    stderrTail: () => stderr,
    logLines: () => ({ lines, errors }),
    done: Promise.allSettled([stdoutDone, stderrDone]),
  };
}

/** The `listening` event, or a rejection with the server's stderr after `ms`. */
async function listeningWithin(
  output: ServerOutput,
  ms: number,
): Promise<Record<string, unknown>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`The server did not start within ${ms / 1000} s:\n${output.stderrTail()}`),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([output.listening, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
