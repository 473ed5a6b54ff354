/**
 * Running sfs in a pseudo-terminal of a chosen width (util-linux `script`), and reading what a
 * terminal would show from its output, for tests of what people see: progress lines, tables.
 *
 * @module
 */
import { SFS_CMD, type SfsOptions, type SfsProcess, startProcess } from "./harness.ts";

/** Quotes `arg` for sh. */
function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", `'"'"'`)}'`;
}

/**
 * Starts `sfs ARGS…` in a pseudo-terminal `columns` wide: stdout and stderr both go to the
 * terminal, whose output is the process's stdout. `await using` stops it.
 */
export function startSfsInTerminal(
  args: readonly string[],
  options: SfsOptions & { columns?: number } = {},
): SfsProcess {
  const command = [...SFS_CMD, ...args].map(shellQuote).join(" ");
  const size = `stty cols ${options.columns ?? 80} rows 40`;
  return startProcess(["script", "-q", "-e", "-c", `${size}; exec ${command}`, "/dev/null"], {
    ...options,
    env: { TERM: "xterm", ...options.env },
  });
}

/**
 * The lines a terminal shows after `text`, for the few sequences sfs sends: CSI n F (up n
 * lines), CSI J (erase below), CSI 2K (erase the line), CSI n G (to a column: only 0/1 here).
 */
export function screenOf(text: string): string[] {
  const lines: string[] = [""];
  let row = 0;
  const tokens =
    // deno-lint-ignore no-control-regex -- escape sequences are what is parsed here
    text.replaceAll("\r\n", "\n").match(/\x1b\[[0-9;?]*[A-Za-z]|\r|\n|[^\x1b\r\n]+/g) ??
      [];
  for (const token of tokens) {
    // deno-lint-ignore no-control-regex -- escape sequences are what is parsed here
    const csi = /^\x1b\[([0-9;?]*)([A-Za-z])$/.exec(token);
    if (token === "\n") {
      row++;
      lines[row] ??= "";
    } else if (token === "\r") {
      // Every line sfs redraws is erased first; a bare return starts the line over.
      lines[row] = "";
    } else if (csi?.[2] === "F") {
      row = Math.max(0, row - Number(csi[1] || 1));
    } else if (csi?.[2] === "J") {
      lines[row] = "";
      lines.length = row + 1;
    } else if (csi?.[2] === "K") {
      lines[row] = "";
    } else if (csi === null) {
      lines[row] += token;
    }
  }
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Resolves once `predicate` holds for the screen `process` shows, or throws after `ms`. */
export async function screenShows(
  process: SfsProcess,
  predicate: (lines: string[]) => boolean,
  ms = 20_000,
): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const lines = screenOf(process.stdoutText());
    if (predicate(lines)) return lines;
    if (Date.now() > deadline) {
      throw new Error(`The screen never showed what was expected:\n${lines.join("\n")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
