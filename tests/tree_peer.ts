/**
 * An in-process tree sender for the receiver's tests (tests/tree_*_test.ts): it speaks the tree
 * protocol (docs/design/folders.md F5–F6) from the handshake and codec modules, with a manifest
 * and contents the test chooses byte for byte, so a test can be an honest sender or a hostile
 * one (paths no walk would produce, more entries than announced, a file longer than its entry).
 *
 * @module
 */
import { type Bytes, sha256 } from "../src/crypto/bytes.ts";
import { ByteWriter } from "../src/crypto/encoding.ts";
import { fileKey } from "../src/crypto/file_key.ts";
import type { Identity } from "../src/crypto/identity.ts";
import { LABEL } from "../src/crypto/labels.ts";
import { sign } from "../src/crypto/sign.ts";
import { chunkCount, chunkLength, DEFAULT_CHUNK_SIZE, sealChunk } from "../src/crypto/stream.ts";
import { treeFinalSignedData } from "../src/peer/final_signed_data.ts";
import {
  encodeManifestHeader,
  type ManifestEntry,
  ManifestHasher,
  type ManifestHeader,
  shareIdOf,
  signManifest,
  writeManifestEntry,
} from "../src/peer/manifest.ts";
import { formatTicket } from "../src/peer/ticket.ts";
import type { Channel } from "../src/wire/channel.ts";
import { respond } from "../src/wire/handshake.ts";
import { MessageType, type TreeManifest } from "../src/wire/messages.ts";
import { type LoopbackServer, serveLoopback } from "./loopback_server.ts";

/** One entry of a test tree: a folder, or a file with its content. */
export type TreeItem =
  | { readonly path: string; readonly folder: true; readonly mtime?: number }
  | {
    readonly path: string;
    readonly content: Uint8Array;
    readonly executable?: boolean;
    readonly mtime?: number;
    /**
     * What the manifest says the file is, when it should lie: another size or SHA-256. The
     * stream always carries `content`.
     */
    readonly listedSize?: number;
  };

/** How the sender departs from the protocol besides its manifest. */
export interface TreeLies {
  /** The header announces this many entries (default: all of them). */
  announced?: number;
  /** On its first connection only, close after this many file streams (to test resume). */
  stopAfterFiles?: number;
  /** On its first connection only, stop sending (but keep the connection) after this many files. */
  stallAfterFiles?: number;
  /** On its first connection only, close after the last file instead of sending FINAL. */
  noFinal?: boolean;
  /** The manifest header names this owner fingerprint instead of the sender's. */
  ownerFingerprint?: Bytes;
  /** Flip a bit of the manifest's Ed25519 signature. */
  badSignature?: boolean;
  /** The ticket names another share id, and TREE_MANIFEST echoes whatever id was asked for. */
  otherShareId?: Bytes;
  /** Stream other content for these entry indices than the manifest hashed. */
  streamInstead?: ReadonlyMap<number, Uint8Array>;
}

/** A tree sender on 127.0.0.1 serving one share; `await using` stops it. */
export interface TreePeer extends AsyncDisposable {
  readonly ticket: string;
  readonly shareId: Bytes;
  readonly manifestHash: Bytes;
  /** The requests it received, in order (what a resume asked for). */
  readonly requests: Array<{ type: number; entry: number; offset: number; held: boolean }>;
  /** Receipts it got. */
  readonly receipts: number;
}

/** Starts a sender of the share `name` made of `items` (in the order given: canonical or not). */
export async function startTreePeer(
  identity: Identity,
  name: string,
  items: readonly TreeItem[],
  lies: TreeLies = {},
): Promise<TreePeer> {
  const entries = items.map(entryOf);
  const entryBytes = await Promise.all(entries.map(async (e) => {
    const writer = new ByteWriter();
    writeManifestEntry(writer, await e);
    return writer.finish();
  }));
  const listed = await Promise.all(entries);
  const header: ManifestHeader = {
    ownerFingerprint: lies.ownerFingerprint ?? identity.public.fingerprint,
    name,
    root: "folder",
    createdAt: 1_700_000_000_000,
    entryCount: lies.announced ?? listed.length,
    totalBytes: listed.reduce((sum, e) => sum + e.size, 0),
  };
  const headerBytes = encodeManifestHeader(header);
  const hasher = new ManifestHasher(headerBytes);
  for (const bytes of entryBytes) hasher.update(bytes);
  const manifestHash = hasher.digest();
  const signatures = await signManifest(identity, manifestHash);
  if (lies.badSignature) signatures.ed25519![0] ^= 1;
  const shareId = lies.otherShareId ?? await shareIdOf(header, manifestHash);
  const requests: TreePeer["requests"] = [];
  let receipts = 0;

  const serve = async (conn: Deno.Conn): Promise<void> => {
    const channel = await respond(conn, identity, {
      idleTimeoutMs: 10_000,
      earlyTypes: new Set([MessageType.GET, MessageType.TREE_GET]),
    });
    try {
      const request = await channel.receive();
      let start = { entry: 0, offset: 0, held: false };
      if (request.type === MessageType.TREE_GET) {
        const held = request.manifestHash.every((b, i) => b === manifestHash[i]);
        start = { entry: request.entry, offset: request.offset, held };
      } else if (request.type !== MessageType.GET) {
        throw new Error(`unexpected request ${request.type}`);
      }
      requests.push({ type: request.type, ...start });
      const reply: TreeManifest = {
        type: MessageType.TREE_MANIFEST,
        shareId,
        header: headerBytes,
        signatures,
        chunkSize: DEFAULT_CHUNK_SIZE,
        entry: start.entry,
        offset: start.offset,
        pagesFollow: !start.held,
      };
      await channel.send(reply);
      if (!start.held) await sendPages(channel, entryBytes);
      const first = requests.length === 1;
      await sendFiles(channel, manifestHash, items, start, {
        ...lies,
        stopAfterFiles: first ? lies.stopAfterFiles : undefined,
        stallAfterFiles: first ? lies.stallAfterFiles : undefined,
      });
      if (first && lies.noFinal) {
        await channel.flush();
        return;
      }
      const signed = await treeFinalSignedData(
        channel.transcriptHash,
        reply,
        manifestHash,
        header.totalBytes,
      );
      const final = await sign(identity, LABEL.FINAL_SIGNATURE, signed, "both");
      await channel.send({ type: MessageType.FINAL, signatures: final });
      await channel.expect(MessageType.RECEIPT);
      receipts++;
    } finally {
      channel.close();
    }
  };
  const server: LoopbackServer = serveLoopback(serve);
  return {
    ticket: formatTicket({
      host: "127.0.0.1",
      port: server.port,
      fileId: shareId,
      fingerprint: identity.public.fingerprint,
    }),
    shareId,
    manifestHash,
    requests,
    get receipts() {
      return receipts;
    },
    [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
  };
}

async function entryOf(item: TreeItem): Promise<ManifestEntry> {
  if ("folder" in item) {
    return {
      path: item.path,
      kind: "folder",
      executable: false,
      size: 0,
      mtime: item.mtime ?? 1_600_000_000_000,
      sha256: new Uint8Array(32),
    };
  }
  return {
    path: item.path,
    kind: "file",
    executable: item.executable ?? false,
    size: item.listedSize ?? item.content.length,
    mtime: item.mtime ?? 1_600_000_000_000,
    sha256: await sha256(item.content as Bytes),
  };
}

/** Pages of at most ~64 KiB of entries, numbered as F3.3 says. */
async function sendPages(channel: Channel, entryBytes: readonly Bytes[]): Promise<void> {
  let first = 0;
  while (first < entryBytes.length) {
    let count = 0;
    let bytes = 0;
    while (first + count < entryBytes.length && count < 0xffff && bytes < 64 * 1024) {
      bytes += entryBytes[first + count].length;
      count++;
    }
    const writer = new ByteWriter().u64(first).u16(count);
    for (let i = first; i < first + count; i++) writer.raw(entryBytes[i]);
    await channel.send({ type: MessageType.MANIFEST_PAGE, page: writer.finish() });
    first += count;
  }
}

/** Each file's stream from the start asked for, under its own key (F6.1). */
async function sendFiles(
  channel: Channel,
  manifestHash: Bytes,
  items: readonly TreeItem[],
  start: { entry: number; offset: number },
  lies: TreeLies,
): Promise<void> {
  let sent = 0;
  for (let i = start.entry; i < items.length; i++) {
    const item = items[i];
    if ("folder" in item) continue;
    if (lies.stallAfterFiles !== undefined && sent === lies.stallAfterFiles) {
      // Until the receiver gives up: its end of the connection closing ends this wait.
      await channel.receive().catch(() => {});
      return;
    }
    if (lies.stopAfterFiles !== undefined && sent === lies.stopAfterFiles) {
      await channel.flush();
      channel.close();
      return;
    }
    using key = await fileKey(channel.payloadKdf, manifestHash, i);
    const content = lies.streamInstead?.get(i) ?? item.content;
    const count = chunkCount(content.length, DEFAULT_CHUNK_SIZE);
    const first = i === start.entry ? start.offset / DEFAULT_CHUNK_SIZE : 0;
    for (let c = first; c < count; c++) {
      const at = c * DEFAULT_CHUNK_SIZE;
      const plaintext = content.subarray(
        at,
        at + chunkLength(content.length, DEFAULT_CHUNK_SIZE, c),
      ) as Bytes;
      await channel.sendChunk(await sealChunk(key, c, c === count - 1, plaintext));
    }
    sent++;
  }
}
