/** The index account password: `SFS_PASSWORD`, else a no-echo prompt, else a clear error. */
import { SfsError } from "../errors.ts";
import { readSecret } from "./prompt.ts";

const HINT = "Set SFS_PASSWORD, or run the command in a terminal to be asked";

/**
 * Returns the password from `SFS_PASSWORD` when set and not empty; otherwise asks on the terminal
 * without echo (twice with `repeat`, for a new password). Throws SfsError USAGE when there is no
 * terminal to ask on, when the answers differ, or when the password is empty.
 */
export async function readPassword(options: { repeat?: boolean } = {}): Promise<string> {
  const fromEnv = Deno.env.get("SFS_PASSWORD");
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (!Deno.stdin.isTerminal()) {
    throw new SfsError("USAGE", "No password given and no terminal to ask for one", {
      hint: HINT,
    });
  }
  const first = await readSecret(
    options.repeat ? "Choose a password for the index: " : "Password for the index: ",
    { hint: HINT },
  );
  if (first === "") throw new SfsError("USAGE", "The password is empty");
  if (options.repeat && await readSecret("Repeat the password: ", { hint: HINT }) !== first) {
    throw new SfsError("USAGE", "The passwords do not match");
  }
  return first;
}
