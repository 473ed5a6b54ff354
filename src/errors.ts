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
  ALREADY_REGISTERED: "ALREADY_REGISTERED",
  UNSAFE_NAME: "UNSAFE_NAME",
  NAME_COLLISION: "NAME_COLLISION",
  TREE_LIMIT: "TREE_LIMIT",
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
  RELAY_OFF: "RELAY_OFF",
  CODE_UNKNOWN: "CODE_UNKNOWN",
  CODE_EXPIRED: "CODE_EXPIRED",
  CODES_OFF: "CODES_OFF",
  INTERNAL: "INTERNAL",
} as const;

/** One of the stable error codes. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

/**
 * What kind of failure a code is. The CLI maps it to its exit status, so a script can tell a
 * tampered or corrupt transfer (never worth retrying into) from a flaky network.
 */
export type ErrorCategory = "usage" | "verification" | "network" | "interrupted" | "other";

/** A yes/no property of a code that some layer above decides on (see {@link CodeInfo}). */
type Property = "resumable" | "fatal-to-connection" | "unanswerable" | "permanent";

/** Everything a code means beyond its name: one row of {@link CODES}. */
export interface CodeInfo {
  /**
   * What an ERROR or ABORT message says for the code (docs/PROTOCOL.md §9.3): a fixed text, so
   * nothing local (a path, a database error, a user's input) ever crosses the wire, and what a
   * peer shows of another's failure is its own text, never the other's words.
   */
  readonly wireText: string;
  /** What kind of failure it is; decides the CLI's exit status. */
  readonly category: ErrorCategory;
  /**
   * A download failing with it keeps its verified prefix for a resume: the connection or the
   * disk gave out, or a chunk was damaged in transit (every chunk before it was authenticated).
   * A file that turns out wrong as a whole (hash, size, signatures) is never kept.
   */
  readonly resumable: boolean;
  /**
   * A client closes its request-reply connection after a request fails with it: the connection
   * is gone, or a reply could be left in flight, so what comes next is out of step.
   */
  readonly fatalToConnection: boolean;
  /**
   * A server ends the connection instead of answering a request that failed with it: the peer
   * broke the protocol, or the answer cannot be sent. (BAD_MESSAGE is answerable: a request
   * refused as malformed in its content; but fatal to a client, which cannot decode a reply.)
   */
  readonly unanswerable: boolean;
  /** Retrying cannot help until someone changes something (a key, a password, a setting). */
  readonly permanent: boolean;
}

function row(wireText: string, category: ErrorCategory, ...properties: Property[]): CodeInfo {
  const has = (p: Property) => properties.includes(p);
  return {
    wireText,
    category,
    resumable: has("resumable"),
    fatalToConnection: has("fatal-to-connection"),
    unanswerable: has("unanswerable"),
    permanent: has("permanent"),
  };
}

/**
 * The one table of what each code means. Complete by type: a new code without a row does not
 * compile. Every decision that depends on a code (exit status, resume, reconnect, close) reads it
 * here.
 */
const CODES: { readonly [C in ErrorCode]: CodeInfo } = {
  USAGE: row("The request is not valid", "usage", "permanent"),
  BAD_TICKET: row("Bad ticket", "usage"),
  BAD_CODE: row("Bad code", "other"),
  BAD_FINGERPRINT: row("Bad fingerprint", "other"),
  NOT_FOUND: row("Not found", "other"),
  FILE_CHANGED: row("The file changed since it was shared", "other"),
  EXISTS: row("Already exists", "other"),
  ALREADY_REGISTERED: row("Already registered", "other"),
  UNSAFE_NAME: row("Unsafe file name", "other"),
  NAME_COLLISION: row("Two names in the folder would be the same file", "other"),
  TREE_LIMIT: row("The folder is too deep or too large", "other"),
  IO: row("A file could not be read or written", "other", "resumable"),
  NO_SPACE: row("Out of disk space", "other", "resumable"),
  READ_ONLY: row("Read-only file system", "other"),
  NOT_A_FOLDER: row("Not a folder", "other"),
  IS_A_FOLDER: row("A folder is in the way", "other"),
  PERMISSION_DENIED: row("Permission denied", "other"),
  INTERRUPTED: row("Interrupted", "interrupted"),
  NO_IDENTITY: row("No identity", "other"),
  BAD_IDENTITY: row("Bad identity", "other"),
  BAD_PASSPHRASE: row("Wrong passphrase", "other"),
  BAD_KEY: row("Unusable key", "other"),
  KEY_MISMATCH: row("Unexpected key", "verification", "permanent"),
  FRAME_TOO_LARGE: row("Frame too large", "other", "fatal-to-connection"),
  BAD_FRAME: row("Malformed frame", "other", "fatal-to-connection"),
  BAD_MESSAGE: row("Malformed message", "other", "fatal-to-connection"),
  UNEXPECTED_MESSAGE: row("Unexpected message", "other", "fatal-to-connection", "unanswerable"),
  VERSION_MISMATCH: row("Unsupported protocol version", "other"),
  TIMEOUT: row("Timed out", "network", "resumable", "fatal-to-connection"),
  CONNECTION_CLOSED: row(
    "Connection closed",
    "network",
    "resumable",
    "fatal-to-connection",
    "unanswerable",
  ),
  CONNECTION_FAILED: row("Connection failed", "network"),
  BUSY: row("Too busy, try again later", "other"),
  BAD_SIGNATURE: row("A signature does not verify", "verification", "permanent"),
  DECRYPT_FAILED: row("Decryption failed", "verification", "resumable", "fatal-to-connection"),
  CHUNK_AUTH_FAILED: row("A chunk failed authentication", "verification", "resumable"),
  TRUNCATED: row("The data ended early", "verification", "resumable"),
  TRAILING_DATA: row("Data after the end", "verification"),
  SIZE_MISMATCH: row("Wrong size", "verification"),
  HASH_MISMATCH: row("Wrong SHA-256", "verification"),
  LISTING_MISMATCH: row("The listing is of another file", "verification"),
  MANIFEST_MISMATCH: row("The manifest is not of the file asked for", "verification"),
  PAKE_FAILED: row("The code did not match", "verification"),
  REFUSED: row("Refused", "other", "permanent"),
  REMOTE_ERROR: row("An error this version does not know", "other"),
  AUTH_FAILED: row("Authentication failed", "other", "permanent"),
  RATE_LIMITED: row("Too many attempts, try again later", "other"),
  QUOTA_EXCEEDED: row("Quota exceeded", "other"),
  WITHDRAWN: row("The file is no longer shared", "other"),
  RELAY_OFF: row("This index server does not relay", "other", "permanent"),
  // One code for unknown, expired, burned, closed and already claimed: no oracle (§14.5).
  CODE_UNKNOWN: row("Unknown or used code", "other"),
  CODE_EXPIRED: row("The code expired", "other"),
  CODES_OFF: row("This index server does not take codes", "other", "permanent"),
  INTERNAL: row("Internal error", "other"),
};

/** What `code` means: its wire text, category and properties (see {@link CodeInfo}). */
export function codeInfo(code: ErrorCode): CodeInfo {
  return CODES[code];
}

/** The fixed text an ERROR or ABORT carries for `code` (see {@link CodeInfo.wireText}). */
export function wireText(code: ErrorCode): string {
  return CODES[code].wireText;
}

/**
 * What the user can do about a failure, named by the layer that knows it; the CLI words it with
 * its own options (cli/output.ts). A lower layer never names a flag: its caller may have none
 * (the index server checks proofs with the same code a receiver checks files with).
 *
 * - `fewer-signatures`: the signer signs with fewer algorithms than the policy asks for
 * - `replace-or-elsewhere`: the destination exists; replace it or save elsewhere
 * - `wait-or-elsewhere`: another download is saving there; wait for it or save elsewhere
 * - `give-passphrase`: a passphrase is needed and none was given
 */
export type Remedy =
  | "fewer-signatures"
  | "replace-or-elsewhere"
  | "wait-or-elsewhere"
  | "give-passphrase";

/** Options of {@link SfsError}. */
export interface SfsErrorOptions {
  /** A hint in words anyone can act on, shown as `sfs: hint: …` by the CLI. */
  hint?: string;
  /** What can be done, for the CLI to word in its terms (instead of `hint`). */
  remedy?: Remedy;
  /** The error this one stands for. */
  cause?: unknown;
}

/** An error with a stable code; its message is safe to show (it never carries secrets). */
export class SfsError extends Error {
  readonly code: ErrorCode;
  /** Optional hint shown as `sfs: hint: …` by the CLI. */
  readonly hint?: string;
  /** Optional remedy the CLI words as its hint (see {@link Remedy}). */
  readonly remedy?: Remedy;

  constructor(code: ErrorCode, message: string, options: SfsErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "SfsError";
    this.code = code;
    this.hint = options.hint;
    this.remedy = options.remedy;
  }
}

/** True when `err` is an SfsError, optionally with the given code. */
export function isSfsError(err: unknown, code?: ErrorCode): err is SfsError {
  return err instanceof SfsError && (code === undefined || err.code === code);
}
