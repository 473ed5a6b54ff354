/**
 * Secrets the CLI needs (the identity's passphrase, the index password): from an environment
 * variable when it is set, else typed on the terminal without echo (twice for a new secret),
 * else a clear error or none, never a hang.
 *
 * @module
 */
import { isSfsError, SfsError } from "../errors.ts";
import { type PromptOptions, readSecret, writeStderr } from "./prompt.ts";

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
  for (let attempt = 1;; attempt++) {
    const first = await readSecret(options.question, options);
    if (first === "" && empty === "none") return none("empty answer");
    if (first === "" && typeof empty === "object") throw new SfsError("USAGE", empty.refuse);
    const { repeat } = options;
    if (repeat === undefined || await readSecret(repeat.question, options) === first) return first;
    // A typo in one of two hidden answers is common; asking again beats starting over.
    if (attempt >= MAX_ATTEMPTS) throw new SfsError("USAGE", repeat.mismatch);
    (options.write ?? writeStderr)(`${repeat.mismatch}; try again\n`);
  }
}

/** How many times a person is asked for a secret before the command gives up. */
export const MAX_ATTEMPTS = 3;

/**
 * Reads a secret (see {@link readSecretInput}) and hands it to `use`; when `use` rejects it as
 * wrong (`isWrong`) and the secret was typed, says so and asks again, up to
 * {@link MAX_ATTEMPTS} times. A secret from the environment is used once: asking the terminal
 * would surprise a script.
 */
export async function useSecretInput<T>(
  options: SecretInputOptions,
  use: (secret: string) => Promise<T>,
  isWrong: (err: unknown) => boolean,
): Promise<T> {
  const fromEnv = (options.getEnv ?? ((name) => Deno.env.get(name)))(options.env);
  const typed = fromEnv === undefined || (fromEnv === "" && options.empty !== "value");
  for (let attempt = 1;; attempt++) {
    const secret = await readSecretInput(options);
    try {
      return await use(secret);
    } catch (err) {
      if (!typed || attempt >= MAX_ATTEMPTS || !isWrong(err)) throw err;
      (options.write ?? writeStderr)(`${(err as Error).message}; try again\n`);
    }
  }
}

const PASSWORD_HINT = "Set SFS_PASSWORD, or run the command in a terminal to be asked";

/**
 * The index account password: `SFS_PASSWORD` when set and not empty; otherwise asked on the
 * terminal without echo (twice with `repeat`, for a new password). Throws SfsError USAGE when
 * there is no terminal to ask on, when the answers differ, or when the password is empty.
 */
export function readPassword(options: { repeat?: boolean } = {}): Promise<string> {
  return readSecretInput(passwordInput(options.repeat ?? false));
}

/**
 * Reads the password (as {@link readPassword}) and runs `use` with it; a typed password the
 * index refuses (AUTH_FAILED) is asked again, up to {@link MAX_ATTEMPTS} times.
 */
export function usePassword<T>(use: (password: string) => Promise<T>): Promise<T> {
  return useSecretInput(passwordInput(false), use, (err) => isSfsError(err, "AUTH_FAILED"));
}

function passwordInput(repeat: boolean): SecretInputOptions {
  return {
    env: "SFS_PASSWORD",
    question: repeat ? "Choose a password for the index: " : "Password for the index: ",
    empty: { refuse: "The password is empty" },
    repeat: repeat
      ? { question: "Repeat the password: ", mismatch: "The passwords do not match" }
      : undefined,
    noTerminal: "No password given and no terminal to ask for one",
    hint: PASSWORD_HINT,
  };
}
