/**
 * Serving a tree on an established channel (docs/PROTOCOL.md §7.7): TREE_MANIFEST and the
 * manifest's pages, an optional WANT, the file streams back to back (tree_stream.ts), FINAL over
 * the manifest, and the receiver's signed RECEIPT (§7.9).
 *
 * @module
 */
import { countWork, PAGE_UNITS } from "../gc.ts";
import { SfsError } from "../errors.ts";
import { constantTimeEqual } from "../crypto/bytes.ts";
import type { Identity } from "../crypto/identity.ts";
import { chunkCount, DEFAULT_CHUNK_SIZE } from "../crypto/stream.ts";
import type { Channel } from "../wire/channel.ts";
import { type EntryRange, MessageType, type TreeManifest } from "../wire/messages.ts";
import { treeFinalSignedData } from "./final_signed_data.ts";
import { finishAndAwaitReceipt } from "./receipt.ts";
import type { ServeOptions, ServeResult } from "./sender.ts";
import { sendTreeStreams } from "./tree_stream.ts";
import type { SharedTree } from "./tree_share.ts";

/** What the receiver asked for: a TREE_GET's fields, or a plain GET's (entry 0, offset 0). */
export interface TreeRequest {
  readonly entry: number;
  readonly offset: number;
  /** The manifest hash the receiver holds (32 zero bytes: none). */
  readonly manifestHash: Uint8Array;
  readonly want: boolean;
}

/** A plain GET (§7.1) for a tree's share id: the whole tree, with its pages. */
export const WHOLE_TREE: TreeRequest = {
  entry: 0,
  offset: 0,
  manifestHash: new Uint8Array(32),
  want: false,
};

/** Serves `tree` as `how.request` asks: manifest, pages, streams, FINAL, then the receipt. */
export async function serveTree(
  channel: Channel,
  tree: SharedTree,
  how: { identity: Identity; options: ServeOptions; request: TreeRequest },
): Promise<ServeResult> {
  const { identity, options, request } = how;
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const firstByte = await checkStart(tree, request, chunkSize);
  const treeManifest: TreeManifest = {
    type: MessageType.TREE_MANIFEST,
    shareId: tree.id,
    header: tree.manifest.headerBytes,
    signatures: tree.manifest.signatures,
    chunkSize,
    entry: request.entry,
    offset: request.offset,
    pagesFollow: !constantTimeEqual(request.manifestHash, tree.manifestHash),
  };
  await channel.send(treeManifest);
  if (treeManifest.pagesFollow) {
    for await (const page of tree.manifest.pages()) {
      await channel.send({ type: MessageType.MANIFEST_PAGE, page });
      countWork(PAGE_UNITS);
    }
  }
  const ranges = request.want ? await receiveWant(channel, tree) : undefined;
  options.onStart?.(tree, channel.peer, firstByte);
  const sent = await sendTreeStreams(channel, tree, {
    entry: request.entry,
    offset: request.offset,
    ranges,
    chunkSize,
    onProgress: (bytes) => options.onProgress?.(firstByte + bytes),
  });
  const signed = await treeFinalSignedData(
    channel.transcriptHash,
    treeManifest,
    tree.manifestHash,
    tree.size,
  );
  const receipt = await finishAndAwaitReceipt(channel, identity, signed, {
    id: tree.id,
    manifestHash: tree.manifestHash,
    policy: options.sign,
  });
  return { file: tree, receiver: channel.peer, bytesSent: sent, receipt };
}

/**
 * Checks where the request starts (BAD_MESSAGE): an entry of the manifest (or its end), an
 * offset that is 0 or a chunk boundary inside that entry's file, nothing but 0 with a WANT.
 * Returns the bytes of the share before that point, where progress starts.
 */
async function checkStart(
  tree: SharedTree,
  request: TreeRequest,
  chunkSize: number,
): Promise<number> {
  const { entry, offset } = request;
  const count = tree.manifest.header.entryCount;
  if (entry > count) throw badStart(`entry ${entry} of ${count}`);
  if (request.want && (entry !== 0 || offset !== 0)) throw badStart("a WANT with a start point");
  let before = 0;
  if (entry === 0 && offset === 0) return before;
  for await (const built of tree.manifest.entries()) {
    if (built.index < entry) {
      before += built.entry.size;
      continue;
    }
    const { kind, size } = built.entry;
    if (offset === 0) return before;
    if (
      kind !== "file" || offset % chunkSize !== 0 ||
      offset / chunkSize >= chunkCount(size, chunkSize)
    ) {
      throw badStart(`byte ${offset} of entry ${entry}`);
    }
    return before + offset;
  }
  if (offset !== 0) throw badStart(`byte ${offset} after the last entry`);
  return before;
}

/** The receiver's WANT (reuse, F7.4): ranges that end inside the manifest. */
async function receiveWant(channel: Channel, tree: SharedTree): Promise<EntryRange[]> {
  const want = await channel.expect(MessageType.WANT);
  const count = tree.manifest.header.entryCount;
  const last = want.ranges.at(-1);
  if (last !== undefined && last.first + last.count > count) {
    throw new SfsError("BAD_MESSAGE", `WANT names entries past the ${count} of the manifest`);
  }
  return want.ranges;
}

function badStart(what: string): SfsError {
  return new SfsError("BAD_MESSAGE", `Cannot start a tree at ${what}`);
}
