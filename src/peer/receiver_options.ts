/** What a fetch is asked to do and what it returns (see {@link fetchFile} in receiver.ts). */
import type { Bytes } from "../crypto/bytes.ts";
import type { PublicIdentity } from "../crypto/identity.ts";
import type { SignaturePolicy } from "../crypto/sign.ts";
import type { Channel } from "../wire/channel.ts";
import type { Transport } from "../wire/frame.ts";
import type { Manifest } from "../wire/messages.ts";

/**
 * The receiver's handshake on one fresh connection (what {@link Connect} runs). It calls `claim`
 * once the sender proved its key, before the receiver reveals more (§10.1); `claim` throws when
 * another connection already won.
 */
export type Handshake = (transport: Transport, claim: () => void) => Promise<Channel>;

/**
 * Opens a handshaken channel to the sender: runs `handshake` on one connection, or races it over
 * several (src/net/race.ts) and returns the winner's channel.
 */
export type Connect = (handshake: Handshake) => Promise<Channel>;

/** Options of `fetchFile`. */
export interface FetchOptions {
  /** Id of the wanted file. */
  fileId: Bytes;
  /** The sender's expected fingerprint; any other key is refused before data flows. */
  expectedFingerprint: Bytes;
  /** Folder to write into. */
  outDir: string;
  /** Replace an existing file of the same name. @default false */
  force?: boolean;
  /**
   * Keep the proof of origin `NAME.sfs-proof` next to the download (F9).
   * @default {true}
   */
  proof?: boolean;
  /** Which signatures must verify. @default "both" */
  require?: SignaturePolicy;
  /** Called once the manifest is known and accepted. */
  onStart?: (manifest: Manifest, sender: PublicIdentity) => void;
  /** Called once a tree's manifest is verified, before its first file (F7). */
  onTreeStart?: (tree: TreeInfo, sender: PublicIdentity) => void;
  /** Called as each file of a tree is verified (or found kept from an earlier run). */
  onFile?: (file: TreeFileEvent) => void;
  /**
   * Called as verified bytes are written: the absolute offset in the file, or for a tree the
   * bytes of the whole share verified so far.
   */
  onProgress?: (receivedBytes: number) => void;
  /** Called with one-line notes for the user, e.g. that a download resumes. */
  onNote?: (text: string) => void;
  /** Bound on any single wait for the sender. @default 30000 */
  idleTimeoutMs?: number;
  /**
   * What the index's verified listing says the file is (a get through the index): the
   * manifest must name the same file, or nothing is stored.
   */
  expectListing?: { name: string; size: number; sha256: Bytes };
  /**
   * How often progress is recorded for a resume, whichever comes first; each costs a sync of
   * the part file, overlapped with receiving. @default {{ bytes: 64 MiB, ms: 2000 }}
   */
  checkpointEvery?: { bytes?: number; ms?: number };
  /**
   * Stops the download (Ctrl-C): the connection is closed, the verified part is kept with a
   * fresh resume state, and the fetch fails with INTERRUPTED.
   */
  signal?: AbortSignal;
  /**
   * Connects to the same sender again (the same race as the first connection). When the sender
   * refuses the resume point, the saved progress is discarded and the download starts over on
   * it; without it, the fetch fails and the next run starts over.
   */
  reconnect?: Connect;
}

/** What a tree share is, once its manifest verified. */
export interface TreeInfo {
  readonly name: string;
  /** Files (not folders) in the tree. */
  readonly files: number;
  readonly entries: number;
  readonly totalBytes: number;
}

/** One file of a tree, verified. */
export interface TreeFileEvent {
  /** Its path in the tree (checked, F4.1; escape it before showing it). */
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
  /** Kept from an interrupted earlier run rather than received now. */
  readonly kept: boolean;
  /** Files of the tree done so far, this one included. */
  readonly filesDone: number;
}

/** A verified, stored file or tree. */
export interface FetchResult {
  /** A single file, or a folder (several paths or a folder share). */
  readonly kind: "file" | "tree";
  readonly path: string;
  readonly bytes: number;
  /** A file's SHA-256 (hex); for a tree, its manifest hash. */
  readonly sha256: string;
  readonly sender: PublicIdentity;
  /** Bytes kept from an interrupted earlier run (0 when the download started fresh). */
  readonly resumedFrom: number;
  /** The manifest hash (hex) of a tree, or of a single file's one-entry manifest. */
  readonly manifestHash?: string;
  /** Files in a tree. */
  readonly files?: number;
  /** Where the proof of origin was kept (F9), unless none was. */
  readonly proof?: string;
}
