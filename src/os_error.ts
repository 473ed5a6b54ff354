/**
 * Errors from the operating system as SfsErrors with stable codes and hints. It sits at the
 * bottom, beside errors.ts, so the side that meets an OS error (the receiver writing a file, the
 * sender reading one) gives it its code itself, and the CLI only prints it.
 *
 * Codes are chosen for what the user can do about it, not for the syscall: free space
 * (NO_SPACE), pick a writable place (READ_ONLY, PERMISSION_DENIED), fix a path that has a file
 * where a folder belongs or the other way round (NOT_A_FOLDER, IS_A_FOLDER).
 *
 * @module
 */
import { type ErrorCode, SfsError } from "./errors.ts";

// By errno name: Deno's errors carry it as `code` since 2.0, and `node:` modules throw plain
// Errors with it. A Map, not an object, so a code like "constructor" finds nothing.
const ERRNO_CODES: ReadonlyMap<string, ErrorCode> = new Map<string, ErrorCode>([
  ["ENOENT", "NOT_FOUND"],
  ["EEXIST", "EXISTS"],
  ["ENOSPC", "NO_SPACE"],
  ["EDQUOT", "NO_SPACE"],
  ["EROFS", "READ_ONLY"],
  ["EACCES", "PERMISSION_DENIED"],
  ["EPERM", "PERMISSION_DENIED"],
  ["ENOTDIR", "NOT_A_FOLDER"],
  ["EISDIR", "IS_A_FOLDER"],
  ["ENOTEMPTY", "IS_A_FOLDER"],
  ["EADDRINUSE", "IO"],
  ["ECONNREFUSED", "CONNECTION_FAILED"],
  ["EHOSTUNREACH", "CONNECTION_FAILED"],
  ["ENETUNREACH", "CONNECTION_FAILED"],
  ["ECONNRESET", "CONNECTION_CLOSED"],
  ["ECONNABORTED", "CONNECTION_CLOSED"],
  ["EPIPE", "CONNECTION_CLOSED"],
  ["ETIMEDOUT", "TIMEOUT"],
]);

// Deno errors without an errno (end of stream, timeouts, bad data), keyed by constructor rather
// than by `name` so a user-made Error named "NotFound" is not mistaken for one.
const DENO_ERROR_CODES: ReadonlyArray<readonly [new (...args: never[]) => Error, ErrorCode]> = [
  [Deno.errors.NotFound, "NOT_FOUND"],
  [Deno.errors.AlreadyExists, "EXISTS"],
  [Deno.errors.PermissionDenied, "PERMISSION_DENIED"],
  [Deno.errors.IsADirectory, "IS_A_FOLDER"],
  [Deno.errors.NotADirectory, "NOT_A_FOLDER"],
  [Deno.errors.ConnectionRefused, "CONNECTION_FAILED"],
  [Deno.errors.ConnectionReset, "CONNECTION_CLOSED"],
  [Deno.errors.ConnectionAborted, "CONNECTION_CLOSED"],
  [Deno.errors.NotConnected, "CONNECTION_CLOSED"],
  [Deno.errors.BrokenPipe, "CONNECTION_CLOSED"],
  [Deno.errors.UnexpectedEof, "CONNECTION_CLOSED"],
  [Deno.errors.AddrInUse, "IO"],
  [Deno.errors.AddrNotAvailable, "IO"],
  [Deno.errors.NetworkUnreachable, "CONNECTION_FAILED"],
  [Deno.errors.TimedOut, "TIMEOUT"],
  [Deno.errors.Interrupted, "IO"],
  [Deno.errors.WriteZero, "IO"],
  [Deno.errors.InvalidData, "IO"],
  [Deno.errors.Busy, "IO"],
  [Deno.errors.FilesystemLoop, "IO"],
];

const HINTS: Partial<Record<ErrorCode, string>> = {
  CONNECTION_FAILED: "Check the address and that the other side is running",
  NO_SPACE: "Free some space, then run again",
  READ_ONLY: "The file system is mounted read-only: choose another folder",
  PERMISSION_DENIED: "Check the permissions, or choose another folder",
  NOT_A_FOLDER: "A file is where the path needs a folder: check the path",
  IS_A_FOLDER: "A folder is where a file should go: move it, or choose another folder",
};

/** The errno name (`"ENOSPC"`) of an OS error, if it has one. */
export function errnoOf(err: unknown): string | undefined {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" && /^E[A-Z]+$/.test(code) ? code : undefined;
}

/** The code of an OS error, or undefined when `err` is not one sfs knows. */
function codeOf(err: unknown): ErrorCode | undefined {
  const errno = errnoOf(err);
  const byErrno = errno === undefined ? undefined : ERRNO_CODES.get(errno);
  if (byErrno !== undefined) return byErrno;
  for (const [ctor, code] of DENO_ERROR_CODES) if (err instanceof ctor) return code;
  if (err instanceof Error && err.name === "TimeoutError") return "TIMEOUT";
  return undefined;
}

/**
 * Turns an OS error into an SfsError with its code and hint, keeping it as `cause`; undefined
 * for anything else. An SfsError IO whose cause is a more specific OS error (a full disk behind
 * "Cannot write …") takes that error's code and hint and keeps its own message; any other
 * SfsError comes back unchanged.
 */
export function fromOsError(err: unknown): SfsError | undefined {
  if (err instanceof SfsError) {
    const code = err.code === "IO" ? codeOf(err.cause) : undefined;
    if (code === undefined || code === "IO") return err;
    return new SfsError(code, err.message, { cause: err.cause, hint: HINTS[code] ?? err.hint });
  }
  const code = codeOf(err);
  if (code === undefined) return undefined;
  const message = (err as Error).message || (err as Error).name;
  return new SfsError(code, message, { cause: err, hint: HINTS[code] });
}

/**
 * {@link fromOsError} for a failure while storing into `folder`, which also tells a `folder`
 * that is a file (creating it then fails with EEXIST, which would read as "already exists").
 */
export async function fromFolderError(err: unknown, folder: string): Promise<SfsError | undefined> {
  if (!(err instanceof SfsError) && errnoOf(err) === "EEXIST") {
    const info = await Deno.stat(folder).catch(() => undefined);
    if (info !== undefined && !info.isDirectory) {
      return new SfsError("NOT_A_FOLDER", `"${folder}" is not a folder`, {
        cause: err,
        hint: HINTS.NOT_A_FOLDER,
      });
    }
  }
  return fromOsError(err);
}
