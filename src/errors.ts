/** Stable error codes: tests and scripts match on these, never on message text. */
export const ErrorCode = {
  // Input and usage
  USAGE: "USAGE",
  BAD_TICKET: "BAD_TICKET",
  BAD_CODE: "BAD_CODE",
  BAD_FINGERPRINT: "BAD_FINGERPRINT",
  NOT_FOUND: "NOT_FOUND",
  FILE_CHANGED: "FILE_CHANGED",
  EXISTS: "EXISTS",
  UNSAFE_NAME: "UNSAFE_NAME",
  IO: "IO",
  // Files and folders: what the user can do about each differs, so each has its code
  NO_SPACE: "NO_SPACE",
  READ_ONLY: "READ_ONLY",
  NOT_A_FOLDER: "NOT_A_FOLDER",
  IS_A_FOLDER: "IS_A_FOLDER",
  PERMISSION_DENIED: "PERMISSION_DENIED",
  INTERRUPTED: "INTERRUPTED",
  // Identities and keys
  NO_IDENTITY: "NO_IDENTITY",
  BAD_IDENTITY: "BAD_IDENTITY",
  BAD_PASSPHRASE: "BAD_PASSPHRASE",
  BAD_KEY: "BAD_KEY",
  KEY_MISMATCH: "KEY_MISMATCH",
  // Wire protocol
  FRAME_TOO_LARGE: "FRAME_TOO_LARGE",
  BAD_FRAME: "BAD_FRAME",
  BAD_MESSAGE: "BAD_MESSAGE",
  UNEXPECTED_MESSAGE: "UNEXPECTED_MESSAGE",
  VERSION_MISMATCH: "VERSION_MISMATCH",
  TIMEOUT: "TIMEOUT",
  CONNECTION_CLOSED: "CONNECTION_CLOSED",
  CONNECTION_FAILED: "CONNECTION_FAILED",
  BUSY: "BUSY",
  // Cryptographic checks
  BAD_SIGNATURE: "BAD_SIGNATURE",
  DECRYPT_FAILED: "DECRYPT_FAILED",
  CHUNK_AUTH_FAILED: "CHUNK_AUTH_FAILED",
  TRUNCATED: "TRUNCATED",
  TRAILING_DATA: "TRAILING_DATA",
  SIZE_MISMATCH: "SIZE_MISMATCH",
  HASH_MISMATCH: "HASH_MISMATCH",
  LISTING_MISMATCH: "LISTING_MISMATCH",
  MANIFEST_MISMATCH: "MANIFEST_MISMATCH",
  PAKE_FAILED: "PAKE_FAILED",
  // Peer and index
  REFUSED: "REFUSED",
  REMOTE_ERROR: "REMOTE_ERROR",
  AUTH_FAILED: "AUTH_FAILED",
  RATE_LIMITED: "RATE_LIMITED",
  QUOTA_EXCEEDED: "QUOTA_EXCEEDED",
  WITHDRAWN: "WITHDRAWN",
  INTERNAL: "INTERNAL",
} as const;

/** One of the stable error codes. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

/**
 * What an ERROR or ABORT message says for each code (docs/PROTOCOL.md §9.3): a fixed text, so
 * nothing local (a path, a database error, a user's input) ever crosses the wire, and what a
 * peer shows of another's failure is its own text, never the other's words. Complete by type:
 * a new code without a text does not compile.
 */
const WIRE_TEXT: { readonly [C in ErrorCode]: string } = {
  USAGE: "The request is not valid",
  BAD_TICKET: "Bad ticket",
  BAD_CODE: "Bad code",
  BAD_FINGERPRINT: "Bad fingerprint",
  NOT_FOUND: "Not found",
  FILE_CHANGED: "The file changed since it was shared",
  EXISTS: "Already exists",
  UNSAFE_NAME: "Unsafe file name",
  IO: "A file could not be read or written",
  NO_SPACE: "Out of disk space",
  READ_ONLY: "Read-only file system",
  NOT_A_FOLDER: "Not a folder",
  IS_A_FOLDER: "A folder is in the way",
  PERMISSION_DENIED: "Permission denied",
  INTERRUPTED: "Interrupted",
  NO_IDENTITY: "No identity",
  BAD_IDENTITY: "Bad identity",
  BAD_PASSPHRASE: "Wrong passphrase",
  BAD_KEY: "Unusable key",
  KEY_MISMATCH: "Unexpected key",
  FRAME_TOO_LARGE: "Frame too large",
  BAD_FRAME: "Malformed frame",
  BAD_MESSAGE: "Malformed message",
  UNEXPECTED_MESSAGE: "Unexpected message",
  VERSION_MISMATCH: "Unsupported protocol version",
  TIMEOUT: "Timed out",
  CONNECTION_CLOSED: "Connection closed",
  CONNECTION_FAILED: "Connection failed",
  BUSY: "Too busy, try again later",
  BAD_SIGNATURE: "A signature does not verify",
  DECRYPT_FAILED: "Decryption failed",
  CHUNK_AUTH_FAILED: "A chunk failed authentication",
  TRUNCATED: "The data ended early",
  TRAILING_DATA: "Data after the end",
  SIZE_MISMATCH: "Wrong size",
  HASH_MISMATCH: "Wrong SHA-256",
  LISTING_MISMATCH: "The listing is of another file",
  MANIFEST_MISMATCH: "The manifest is not of the file asked for",
  PAKE_FAILED: "The code did not match",
  REFUSED: "Refused",
  REMOTE_ERROR: "An error this version does not know",
  AUTH_FAILED: "Authentication failed",
  RATE_LIMITED: "Too many attempts, try again later",
  QUOTA_EXCEEDED: "Quota exceeded",
  WITHDRAWN: "The file is no longer shared",
  INTERNAL: "Internal error",
};

/** The fixed text an ERROR or ABORT carries for `code` (see {@link WIRE_TEXT}). */
export function wireText(code: ErrorCode): string {
  return WIRE_TEXT[code];
}

/** An error with a stable code; its message is safe to show (it never carries secrets). */
export class SfsError extends Error {
  readonly code: ErrorCode;
  /** Optional hint shown as `sfs: hint: …` by the CLI. */
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "SfsError";
    this.code = code;
    this.hint = options.hint;
  }
}

/** True when `err` is an SfsError, optionally with the given code. */
export function isSfsError(err: unknown, code?: ErrorCode): err is SfsError {
  return err instanceof SfsError && (code === undefined || err.code === code);
}
