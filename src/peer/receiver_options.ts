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
  /** Which signatures must verify. @default "both" */
  require?: SignaturePolicy;
  /** Called once the manifest is known and accepted. */
  onStart?: (manifest: Manifest, sender: PublicIdentity) => void;
  /** Called as verified bytes are written (absolute offset in the file). */
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

/** A verified, stored file. */
export interface FetchResult {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly sender: PublicIdentity;
  /** Bytes kept from an interrupted earlier run (0 when the download started fresh). */
  readonly resumedFrom: number;
}
