/**
 * A receiver of trees built from the codecs alone (docs/PROTOCOL.md §7.6–§7.9), for the sender's
 * tests: it speaks to a real `sfs send` over a real socket, checks what a receiver must check,
 * and keeps everything in memory (the test trees are small). It can misbehave where a test asks
 * (a wrong receipt, a WANT, a resume point), which the real receiver never does.
 */
import { createHash } from "node:crypto";
import { SfsError } from "../src/errors.ts";
import { type Bytes, concat, constantTimeEqual } from "../src/crypto/bytes.ts";
import type { Identity } from "../src/crypto/identity.ts";
import { fileKey } from "../src/crypto/file_key.ts";
import { LABEL } from "../src/crypto/labels.ts";
import { verify } from "../src/crypto/sign.ts";
import { StreamOpener, TAG_BYTES } from "../src/crypto/stream.ts";
import { connect } from "../src/net/connect.ts";
import type { Channel } from "../src/wire/channel.ts";
import { initiate } from "../src/wire/handshake.ts";
import {
  type EntryRange,
  type Message,
  MessageType,
  type Receipt,
  type TreeManifest,
} from "../src/wire/messages.ts";
import { treeFinalSignedData } from "../src/peer/final_signed_data.ts";
import { type ManifestEntry, shareIdOf, verifyManifest } from "../src/peer/manifest.ts";
import { ManifestReader } from "../src/peer/manifest_reader.ts";
import { signReceipt } from "../src/peer/receipt.ts";

/** What the test receiver asks for and how it ends. */
export interface TreeFetch {
  port: number;
  /** An open connection to use instead of dialling `port` (a relayed one). */
  conn?: Deno.Conn;
  shareId: Bytes;
  senderFingerprint: Bytes;
  /** The request; a plain GET by default. */
  request?:
    | { kind: "get" }
    | {
      kind: "tree-get";
      entry: number;
      offset: number;
      manifestHash?: Bytes;
      want?: EntryRange[];
    };
  /** Changes the receipt before it is sent (a hostile receiver). */
  tamperReceipt?: (receipt: Receipt) => Receipt | Promise<Receipt>;
  /** Kept entries (manifest), when the request says the pages are not needed. */
  knownEntries?: ManifestEntry[];
  /** Where to record the message types received (chunks as 0), also when the fetch fails. */
  trace?: number[];
}

/** What the test receiver got. */
export interface TreeFetched {
  readonly manifest: TreeManifest;
  readonly entries: ManifestEntry[];
  readonly manifestHash: Bytes;
  /** Content by path, for the files streamed. */
  readonly files: Map<string, Bytes>;
  /** Message types in the order they came (chunks as 0). */
  readonly trace: number[];
}

/** Fetches a tree from a running `sfs send` as `identity`; throws the first failure. */
export async function fetchTree(identity: Identity, how: TreeFetch): Promise<TreeFetched> {
  const request: Message = how.request?.kind === "tree-get"
    ? {
      type: MessageType.TREE_GET,
      shareId: how.shareId,
      manifestHash: how.request.manifestHash ?? new Uint8Array(32),
      entry: how.request.entry,
      offset: how.request.offset,
      want: how.request.want !== undefined,
    }
    : { type: MessageType.GET, fileId: how.shareId, offset: 0 };
  const conn = how.conn ?? await connect({ host: "127.0.0.1", port: how.port });
  const channel = await initiate(conn, identity, {
    early: request,
    peerName: "sender",
    idleTimeoutMs: 10_000,
    verifyResponder: (sender) => {
      if (!constantTimeEqual(sender.fingerprint, how.senderFingerprint)) {
        throw new SfsError("KEY_MISMATCH", "Not the expected sender");
      }
    },
  });
  try {
    return await receiveTree(channel, identity, how);
  } finally {
    channel.close();
  }
}

async function receiveTree(
  channel: Channel,
  identity: Identity,
  how: TreeFetch,
): Promise<TreeFetched> {
  const trace = how.trace ?? [];
  const manifest = await channel.expect(MessageType.TREE_MANIFEST);
  trace.push(manifest.type);
  const reader = new ManifestReader(manifest.header);
  let entries: ManifestEntry[] = how.knownEntries ?? [];
  if (manifest.pagesFollow) {
    entries = [];
    while (reader.entriesRead < reader.header.entryCount) {
      const page = await channel.expect(MessageType.MANIFEST_PAGE);
      trace.push(page.type);
      entries.push(...reader.readPage(page.page));
    }
  }
  // Without pages the receiver uses the manifest it holds, whose hash it named.
  const held = how.request?.kind === "tree-get" ? how.request.manifestHash : undefined;
  const manifestHash = manifest.pagesFollow || held === undefined ? reader.finish() : held;
  await verifyManifest(channel.peer, reader.header, manifestHash, manifest.signatures);
  if (!constantTimeEqual(await shareIdOf(reader.header, manifestHash), how.shareId)) {
    throw new SfsError("MANIFEST_MISMATCH", "Another share");
  }
  const want = how.request?.kind === "tree-get" ? how.request.want : undefined;
  if (want !== undefined) await channel.send({ type: MessageType.WANT, ranges: want });
  const files = new Map<string, Bytes>();
  for (const [index, entry] of entries.entries()) {
    if (entry.kind !== "file" || index < manifest.entry) continue;
    if (want !== undefined && !want.some((r) => index >= r.first && index < r.first + r.count)) {
      continue;
    }
    const from = index === manifest.entry ? manifest.offset : 0;
    files.set(
      entry.path,
      await receiveFile(channel, manifest, manifestHash, index, entry, from, trace),
    );
  }
  const final = await channel.expect(MessageType.FINAL);
  trace.push(final.type);
  const signed = await treeFinalSignedData(
    channel.transcriptHash,
    manifest,
    manifestHash,
    reader.header.totalBytes,
  );
  await verify(channel.peer, LABEL.FINAL_SIGNATURE, signed, final.signatures, "both");
  let receipt = await signReceipt(identity, {
    shareId: how.shareId,
    manifestHash,
    senderFingerprint: channel.peer.fingerprint,
    receiverFingerprint: identity.public.fingerprint,
    receivedAt: Date.now(),
    transcriptHash: channel.transcriptHash,
  });
  if (how.tamperReceipt) receipt = await how.tamperReceipt(receipt);
  await channel.send(receipt);
  await channel.flush();
  return { manifest, entries, manifestHash, files, trace };
}

/** One file's stream under its own key; checks its size and SHA-256 (from 0 when resumed). */
async function receiveFile(
  channel: Channel,
  manifest: TreeManifest,
  manifestHash: Bytes,
  index: number,
  entry: ManifestEntry,
  from: number,
  trace: number[],
): Promise<Bytes> {
  using key = await fileKey(channel.payloadKdf, manifestHash, index);
  const opener = new StreamOpener(key, {
    size: entry.size,
    chunkSize: manifest.chunkSize,
    first: from / manifest.chunkSize,
  });
  const parts: Bytes[] = [];
  while (!opener.done) {
    const frame = await channel.receiveChunkOrMessage(manifest.chunkSize + TAG_BYTES);
    if (frame.type !== "chunk") {
      throw new SfsError("UNEXPECTED_MESSAGE", `Message ${frame.type} inside a stream`);
    }
    trace.push(0);
    parts.push(await opener.open(frame.data));
  }
  opener.finish();
  const content = concat(...parts);
  if (from === 0) {
    const sha = new Uint8Array(createHash("sha256").update(content).digest());
    if (content.length !== entry.size) throw new SfsError("SIZE_MISMATCH", entry.path);
    if (!constantTimeEqual(sha, entry.sha256)) throw new SfsError("HASH_MISMATCH", entry.path);
  }
  return content;
}
