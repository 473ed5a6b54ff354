/**
 * Reading and writing the small files in the sfs home: size-capped reads, typed validation,
 * atomic writes, and read-modify-write cycles under a lock so that several sfs processes (two
 * `sfs get` at once, a `sfs login` while a `sfs send` runs) never lose each other's changes.
 *
 * @module
 */
import { SfsError } from "../../errors.ts";
import { writeFileAtomic } from "../../fs.ts";

/**
 * Largest settings file read. Far above any real one (ten thousand pinned users take about one
 * MiB), and low enough that a file replaced by something huge cannot exhaust memory.
 */
export const MAX_SETTINGS_FILE_BYTES = 16 * 1024 * 1024;

/** How one JSON settings file is read. */
export interface JsonFormat<T> {
  /**
   * Checks a parsed value and returns it typed, or throws the file's own "malformed" error.
   * Gets undefined when the text is not JSON at all (JSON itself has no undefined).
   */
  parse(value: unknown, path: string): T;
  /** The value of a file that does not exist yet. */
  empty(): T;
}

/** Options for the reads of this module. */
export interface ReadOptions {
  /** Refuse larger files. @default {MAX_SETTINGS_FILE_BYTES} */
  maxBytes?: number;
}

/**
 * Reads a text file of at most `maxBytes`; undefined when it does not exist. Throws SfsError
 * USAGE when the file is larger (its size is checked while reading, so a file that grows
 * meanwhile cannot slip past).
 */
export async function readSettingsText(
  path: string,
  options: ReadOptions = {},
): Promise<string | undefined> {
  const maxBytes = options.maxBytes ?? MAX_SETTINGS_FILE_BYTES;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  using _ = file;
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    const buf = new Uint8Array(64 * 1024);
    const n = await file.read(buf);
    if (n === null) break;
    total += n;
    if (total > maxBytes) {
      throw new SfsError("USAGE", `"${path}" is larger than ${maxBytes} bytes`, {
        hint: "It is not a file sfs wrote: check what replaced it, then fix or delete it",
      });
    }
    chunks.push(buf.subarray(0, n));
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  // As Deno.readTextFile does: invalid UTF-8 becomes U+FFFD and a leading BOM is dropped.
  return new TextDecoder().decode(bytes);
}

/** Reads and validates a JSON file; a missing file is `format.empty()`. */
export async function readJsonFile<T>(
  path: string,
  format: JsonFormat<T>,
  options: ReadOptions = {},
): Promise<T> {
  const text = await readSettingsText(path, options);
  if (text === undefined) return format.empty();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  return format.parse(value, path);
}

/** Writes `value` as indented JSON with a final newline, atomically and with mode 0600. */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/**
 * Reads `path`, lets `update` change the value, and writes what it returns (nothing when it
 * returns undefined), all under an exclusive lock on `path.lock` (flock on Unix, LockFileEx on
 * Windows), so the read-modify-write cycles of several processes run one after another. Readers
 * take no lock: the atomic rename shows them the old file or the new one. The lock file stays:
 * removing it would let two processes lock two different files of the same name. The folder
 * must exist.
 */
export async function updateJsonFile<T>(
  path: string,
  format: JsonFormat<T>,
  update: (current: T) => unknown,
): Promise<void> {
  using lock = await Deno.open(`${path}.lock`, { write: true, create: true, mode: 0o600 });
  await lock.lock(true);
  try {
    const next = update(await readJsonFile(path, format));
    if (next !== undefined) await writeJsonFile(path, next);
  } finally {
    await lock.unlock();
  }
}

/** True for a JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
