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
