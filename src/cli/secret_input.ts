/**
 * Secrets the CLI needs (the identity's passphrase, the index password): from an environment
 * variable when it is set, else typed on the terminal without echo (twice for a new secret),
 * else a clear error or none, never a hang.
 *
 * @module
 */
import { SfsError } from "../errors.ts";
import { type PromptOptions, readSecret } from "./prompt.ts";

/**
 * What an empty secret means, in the variable or typed: `"value"`, the empty string is the secret
 * (a wrong passphrase fails later); `"none"`, there is no secret (undefined, also when there is
 * no terminal to ask on); `{ refuse }`, an empty variable counts as unset and an empty answer is
 * a USAGE error with message `refuse`.
 */
export type EmptySecret = "value" | "none" | { readonly refuse: string };

/** Where {@link readSecretInput} looks and what it asks. */
export interface SecretInputOptions extends PromptOptions {
  /** The environment variable read first, e.g. `SFS_PASSWORD`. */
  env: string;
  /** The question on the terminal. */
  question: string;
  /** What an empty secret means. */
  empty: EmptySecret;
  /** Ask again with `question` and require the same answer; `mismatch` is the USAGE message. */
  repeat?: { question: string; mismatch: string };
  /**
   * The USAGE message when there is no terminal to ask on (the hint is `hint`).
   * @default {readSecret's}
   */
  noTerminal?: string;
  /** Told why there is no secret under `empty: "none"` (an empty variable is not reported). */
  onNone?: (reason: "no terminal" | "empty answer") => void;
  /**
   * Reads an environment variable.
   * @default {Deno.env.get}
   */
  getEnv?: (name: string) => string | undefined;
}

/** Reads a secret from `options.env`, else from the terminal; see {@link SecretInputOptions}. */
export function readSecretInput(
  options: SecretInputOptions & { empty: "none" },
): Promise<string | undefined>;
/** Reads a secret from `options.env`, else from the terminal; see {@link SecretInputOptions}. */
export function readSecretInput(options: SecretInputOptions): Promise<string>;
export async function readSecretInput(options: SecretInputOptions): Promise<string | undefined> {
  const { empty } = options;
  const none = (reason: "no terminal" | "empty answer") => {
    options.onNone?.(reason);
    return undefined;
  };
  const fromEnv = (options.getEnv ?? ((name) => Deno.env.get(name)))(options.env);
  if (fromEnv !== undefined && (fromEnv !== "" || empty === "value")) return fromEnv;
  if (fromEnv === "" && empty === "none") return undefined;
  if (!(options.stdin ?? Deno.stdin).isTerminal()) {
    if (empty === "none") return none("no terminal");
    if (options.noTerminal !== undefined) {
      throw new SfsError("USAGE", options.noTerminal, { hint: options.hint });
    }
    // Otherwise readSecret reports it.
  }
  const first = await readSecret(options.question, options);
  if (first === "" && empty === "none") return none("empty answer");
  if (first === "" && typeof empty === "object") throw new SfsError("USAGE", empty.refuse);
  const { repeat } = options;
  if (repeat !== undefined && await readSecret(repeat.question, options) !== first) {
    throw new SfsError("USAGE", repeat.mismatch);
  }
  return first;
}

const PASSWORD_HINT = "Set SFS_PASSWORD, or run the command in a terminal to be asked";

/**
 * The index account password: `SFS_PASSWORD` when set and not empty; otherwise asked on the
 * terminal without echo (twice with `repeat`, for a new password). Throws SfsError USAGE when
 * there is no terminal to ask on, when the answers differ, or when the password is empty.
 */
export function readPassword(options: { repeat?: boolean } = {}): Promise<string> {
  return readSecretInput({
    env: "SFS_PASSWORD",
    question: options.repeat ? "Choose a password for the index: " : "Password for the index: ",
    empty: { refuse: "The password is empty" },
    repeat: options.repeat
      ? { question: "Repeat the password: ", mismatch: "The passwords do not match" }
      : undefined,
    noTerminal: "No password given and no terminal to ask for one",
    hint: PASSWORD_HINT,
  });
}
