/** The sending side of a transfer: serve one file to one receiver (docs/PROTOCOL.md §7). */
import { basename } from "../path.ts";
import { isSfsError, SfsError } from "../errors.ts";
import { fromOsError } from "../os_error.ts";
import { escapeForDisplay, isDisplaySafe } from "../text.ts";
import type { Bytes } from "../crypto/bytes.ts";
import type { Identity, PublicIdentity } from "../crypto/identity.ts";
import type { SignaturePolicy, Signatures } from "../crypto/sign.ts";
import { chunkCount, DEFAULT_CHUNK_SIZE } from "../crypto/stream.ts";
import { type Channel } from "../wire/channel.ts";
import { respond, TRANSFER_RECORDS } from "../wire/handshake.ts";
import { closeQuietly } from "../closable.ts";
import type { Transport } from "../wire/frame.ts";
import { type Get, type Manifest, MessageType, type Receipt } from "../wire/messages.ts";
import { MAX_WIRE_NAME_BYTES } from "../wire/message_fields.ts";
import { type ContentHash, hashContent, MIDSTATE_INTERVAL } from "./content_hash.ts";
import { type ContentStamp, settledStampOf } from "./content_stamp.ts";
import type { HashCache } from "./hash_cache.ts";
import { fileIdOf } from "../crypto/file_id.ts";
import { finalSignedData } from "./final_signed_data.ts";
import { streamFileChunks } from "./file_stream.ts";
import { signFileManifest } from "./file_manifest.ts";
import { finishAndAwaitReceipt, NO_MANIFEST_HASH } from "./receipt.ts";
import type { SharedTree } from "./tree_share.ts";

/** What a receiver may send as its early request: a GET or a TREE_GET (§6.4, §7.7). */
const EARLY_TYPES: ReadonlySet<number> = new Set([MessageType.GET, MessageType.TREE_GET]);

/** A file ready to be served: hashed once, identified by {@link fileIdOf}. */
export interface SharedFile {
  readonly kind: "file";
  readonly id: Bytes;
  readonly path: string;
  readonly name: string;
  readonly size: number;
  readonly sha256: Bytes;
  /** Modification time when hashed; a change means the file is no longer what was announced. */
  readonly mtimeMs: number;
  /** Executable bit when hashed, as the one-entry manifest lists it (§7.1). */
  readonly executable: boolean;
  /** When the one-entry manifest was made and signed. */
  readonly createdAt: number;
  /** Hash of the one-entry manifest; 32 zero bytes when the name allows none (§7.1). */
  readonly manifestHash: Bytes;
  /** The owner's signatures over it, sent in every MANIFEST; empty when there is none. */
  readonly manifestSignatures: Signatures;
  /** The hash with its kept states, to check what a (resumed) transfer sends. */
  readonly content: ContentHash;
  /**
   * The file's stamp when hashed, if it was settled then (content_stamp.ts): what a transfer
   * checks instead of hashing what it sends. Undefined: the transfer hashes it (§7.3).
   */
  readonly stamp: ContentStamp | undefined;
  /**
   * Set once the file was found to differ from what was hashed: it is never served again, and
   * every later request for it is answered FILE_CHANGED.
   */
  stale: boolean;
}

/** A single file or a tree, as shared: what a request's id finds. */
export type Shared = SharedFile | SharedTree;

/** Options of {@link serveTransfer}. */
export interface ServeOptions {
  /** Finds a shared file or tree by id; undefined means "not shared here". */
  lookup: (id: Bytes) => Shared | undefined;
  /** Algorithms to sign with. @default "both" */
  sign?: SignaturePolicy;
  /** Chunk size of the payload stream. @default 256 KiB (DEFAULT_CHUNK_SIZE) */
  chunkSize?: number;
  /**
   * Admission before the receiver is known (its HELLO carries no identity, §6.6); throws
   * SfsError BUSY to turn it away in the clear.
   */
  admit?: () => void | Promise<void>;
  /**
   * Throws SfsError REFUSED to turn a receiver away (e.g. not among `--to` users); called only
   * once the receiver's handshake signatures verified, so a copied public key learns nothing.
   */
  acceptReceiver?: (receiver: PublicIdentity) => void | Promise<void>;
  /**
   * Called once the receiver's GET arrived after its verified handshake signatures, which prove
   * it holds the keys it named (§6.7); throws SfsError BUSY to turn it away.
   */
  admitProven?: (receiver: PublicIdentity) => void | Promise<void>;
  /** Called once the manifest is known; `firstByte` is where this transfer starts. */
  onStart?: (file: Shared, receiver: PublicIdentity, firstByte: number) => void;
  /** Called as bytes go out (absolute offset in the file, or in the tree's total). */
  onProgress?: (sentBytes: number) => void;
  /** Bound on any single wait for the receiver. @default 30000 */
  idleTimeoutMs?: number;
}

/** What one finished transfer did. */
export interface ServeResult {
  readonly file: Shared;
  readonly receiver: PublicIdentity;
  readonly bytesSent: number;
  /** The receiver's signed receipt, checked (§7.9): the sender's proof of delivery. */
  readonly receipt: Receipt;
}

/** Hashes a regular file and describes it for sharing, with its signed one-entry manifest. */
export async function prepareFile(
  path: string,
  owner: Identity,
  options: {
    onProgress?: (hashedBytes: number, size: number) => void;
    /** The clock (the manifest's creation time, the cache's racy rule). @default {Date.now} */
    now?: () => number;
    /**
     * Hash cache to read and fill (docs/design/folders.md F8). A hit skips hashing; its file is
     * settled by then, so its transfers check its stamp, and keep no hash states.
     */
    cache?: HashCache;
  } = {},
): Promise<SharedFile> {
  const now = options.now ?? Date.now;
  const info = await Deno.stat(path);
  if (!info.isFile) throw new SfsError("USAGE", `"${path}" is not a regular file`);
  const name = basename(path);
  // Receivers refuse such a manifest (§7.1) and the index such an announcement: say so now.
  if (!isDisplaySafe(name)) {
    throw new SfsError(
      "UNSAFE_NAME",
      `The name of "${escapeForDisplay(path)}" has control or bidi characters`,
      { hint: "Rename the file, then share it" },
    );
  }
  if (new TextEncoder().encode(name).length > MAX_WIRE_NAME_BYTES) {
    throw new SfsError("USAGE", `The name of "${path}" is too long to share`);
  }
  using file = await Deno.open(path, { read: true });
  // Keyed by the handle's fstat: what is hashed (or looked up) is what was opened.
  const opened = await file.stat();
  const started = now();
  const cache = options.cache;
  const cached = cache?.get(opened);
  // A file settled before its hashing began is checked by its stamp when sent, resumed or not
  // (file_stream.ts): no states to keep, and the hash runs on OpenSSL without `node:crypto`.
  const settled = settledStampOf(opened, started);
  const content: ContentHash = cached !== undefined
    ? { size: opened.size, sha256: cached, interval: MIDSTATE_INTERVAL, midstates: [] }
    : await hashContent(file, {
      keepStates: settled === undefined,
      onProgress: (hashed) => options.onProgress?.(hashed, info.size),
    });
  if (cached === undefined && content.size === opened.size) {
    cache?.set(opened, content.sha256, started);
  }
  const mtimeMs = info.mtime?.getTime() ?? 0;
  const fields = {
    name,
    size: content.size,
    sha256: content.sha256,
    executable: ((info.mode ?? 0) & 0o111) !== 0,
    mtime: Math.max(0, mtimeMs),
    createdAt: now(),
  };
  const signed = await signFileManifest(owner, fields);
  return {
    kind: "file",
    id: await fileIdOf(owner.public.fingerprint, content.sha256, name),
    path,
    name,
    size: content.size,
    sha256: content.sha256,
    mtimeMs,
    executable: fields.executable,
    createdAt: fields.createdAt,
    manifestHash: signed.manifest?.manifestHash ?? NO_MANIFEST_HASH,
    manifestSignatures: signed.signatures,
    content,
    stamp: content.size === opened.size ? settled : undefined,
    stale: false,
  };
}

/** Serves one connection: handshake, request, manifest, chunks, final signatures, receipt. */
export async function serveTransfer(
  transport: Transport,
  identity: Identity,
  options: ServeOptions,
): Promise<ServeResult> {
  const channel = await respond(transport, identity, {
    sign: options.sign,
    admit: options.admit,
    acceptInitiator: options.acceptReceiver,
    // The receiver's GET rides in the handshake's third flight (§6.4).
    earlyTypes: EARLY_TYPES,
    idleTimeoutMs: options.idleTimeoutMs,
    peerName: "receiver",
    recordHint: TRANSFER_RECORDS,
  }).catch((err) => {
    closeQuietly(transport);
    throw err;
  });
  try {
    return await serveOnChannel(channel, identity, options);
  } catch (err) {
    // As on the receiving side: OS errors get their own code, and only the code goes out.
    const failure = fromOsError(err) ?? new SfsError("INTERNAL", "Sending failed", { cause: err });
    await channel.fail(failure);
    throw failure;
  } finally {
    channel.close();
  }
}

async function serveOnChannel(
  channel: Channel,
  identity: Identity,
  options: ServeOptions,
): Promise<ServeResult> {
  const request = await channel.receive();
  if (request.type !== MessageType.GET && request.type !== MessageType.TREE_GET) {
    throw new SfsError("UNEXPECTED_MESSAGE", `Expected a request, got message ${request.type}`);
  }
  await options.admitProven?.(channel.peer);
  const file = options.lookup(request.type === MessageType.GET ? request.fileId : request.shareId);
  if (!file || (request.type === MessageType.TREE_GET && file.kind !== "tree")) {
    throw new SfsError("NOT_FOUND", "No such file is shared here");
  }
  if (file.stale) throw changedError(file);
  try {
    if (file.kind === "file") {
      return await serveFile(channel, identity, options, file, request as Get);
    }
    if (request.type === MessageType.GET && request.offset !== 0) {
      throw new SfsError("BAD_MESSAGE", "A folder is asked for with TREE_GET to resume");
    }
    // A receiver with a ticket cannot know the id names a tree: a GET gets the whole tree.
    // Loaded with the first tree served: a single file's send needs none of it (RSS, issue 12).
    const { serveTree, WHOLE_TREE } = await import("./tree_sender.ts");
    const asked = request.type === MessageType.TREE_GET ? request : WHOLE_TREE;
    return await serveTree(channel, file, { identity, options, request: asked });
  } catch (err) {
    // Once is enough: serving it again could only fail the same way, after sending it all.
    if (isSfsError(err, "FILE_CHANGED")) file.stale = true;
    throw err;
  }
}

/** Serves `file` from the requested offset: manifest, chunks, final signatures, receipt. */
async function serveFile(
  channel: Channel,
  identity: Identity,
  options: ServeOptions,
  file: SharedFile,
  request: Get,
): Promise<ServeResult> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const count = chunkCount(file.size, chunkSize);
  // A resume point must be a chunk boundary inside the file (0 is always fine, even when empty).
  if (request.offset % chunkSize !== 0 || request.offset / chunkSize >= count) {
    throw new SfsError(
      "BAD_MESSAGE",
      `Cannot resume at byte ${request.offset}: not a chunk boundary inside the file`,
    );
  }
  await checkUnchanged(file);
  const manifest: Manifest = {
    type: MessageType.MANIFEST,
    fileId: file.id,
    name: file.name,
    size: file.size,
    sha256: file.sha256,
    chunkSize,
    offset: request.offset,
    executable: file.executable,
    mtime: Math.max(0, file.mtimeMs),
    createdAt: file.createdAt,
    manifestSignatures: file.manifestSignatures,
  };
  await channel.send(manifest);
  options.onStart?.(file, channel.peer, request.offset);

  const sentAsHashed = await streamFileChunks(channel, file, manifest, options.onProgress);
  // A file edited since it was hashed must not be signed as the announced content (§7.3): the
  // path must still name a file of that size and time, and what was read through the handle
  // must be what was hashed (same stamp, or same SHA-256).
  await checkUnchanged(file);
  if (!sentAsHashed) throw changedError(file);
  const signed = await finalSignedData(channel.transcriptHash, manifest);
  const receipt = await finishAndAwaitReceipt(channel, identity, signed, {
    id: file.id,
    manifestHash: file.manifestHash,
    policy: options.sign,
  });
  return { file, receiver: channel.peer, bytesSent: file.size - request.offset, receipt };
}

async function checkUnchanged(file: SharedFile): Promise<void> {
  const info = await Deno.stat(file.path).catch(() => undefined);
  if (!info || info.size !== file.size || (info.mtime?.getTime() ?? 0) !== file.mtimeMs) {
    throw changedError(file);
  }
}

function changedError(file: Shared): SfsError {
  return new SfsError(
    "FILE_CHANGED",
    `"${file.name}" changed since it was shared and is no longer served`,
    { hint: "Share it again so its hash is recomputed" },
  );
}
