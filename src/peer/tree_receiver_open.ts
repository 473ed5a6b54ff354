/**
 * Opening a tree download (docs/design/folders.md F3.5, F7.1, F7.3): afresh — lock the share's
 * name, make the part folder and read the manifest's pages into it, every check passed before any
 * file byte is written — or by taking over a resume that tree_receiver_start.ts checked.
 *
 * @module
 */
import { countWork, PAGE_UNITS } from "../gc.ts";
import { join } from "../path.ts";
import { SfsError } from "../errors.ts";
import { type Bytes, constantTimeEqual } from "../crypto/bytes.ts";
import type { Channel } from "../wire/channel.ts";
import { MessageType, type TreeManifest } from "../wire/messages.ts";
import { lstatOrUndefined, writeAll } from "../fs.ts";
import { type ManifestHeader, PAGE_HEADER_BYTES, shareIdOf, verifyManifest } from "./manifest.ts";
import { ManifestReader } from "./manifest_reader.ts";
import { encodeProofPreamble } from "./proof.ts";
import type { FetchOptions } from "./receiver_options.ts";
import { TargetLock } from "./target_lock.ts";
import { TreePart } from "./tree_part.ts";
import { MAX_MANIFEST_BYTES } from "./manifest.ts";
import type { TreeResume } from "./tree_receiver_start.ts";
import { TreeStateFile } from "./tree_state.ts";
import type { TreeStart } from "./tree_receive_stream.ts";

/** The part folder, lock and manifest of a transfer in progress. */
export interface Open {
  readonly part: TreePart;
  readonly lock: TargetLock;
  readonly header: ManifestHeader;
  readonly manifestHash: Bytes;
  readonly start: TreeStart;
  readonly state: TreeStateFile;
  /** Files (not folders) in the manifest. */
  readonly files: number;
}

/** Limits of {@link openFresh}. */
export interface OpenLimits {
  /**
   * Most bytes of manifest entries spooled before the signature is checked.
   * @default {MAX_MANIFEST_BYTES}
   */
  maxManifestBytes?: number;
}

/** Locks the share's name, makes the part folder and reads the manifest into it (F3.5). */
export async function openFresh(
  channel: Channel,
  reply: TreeManifest,
  options: FetchOptions,
  limits: OpenLimits = {},
): Promise<Open> {
  const reader = new ManifestReader(reply.header);
  const { header } = reader;
  if (header.root !== "folder") {
    throw new SfsError("BAD_MESSAGE", "Malformed manifest: a tree share of a single file");
  }
  checkListing(options, header);
  await Deno.mkdir(options.outDir, { recursive: true });
  const lock = await TargetLock.acquire(join(options.outDir, header.name));
  let part: TreePart | undefined;
  try {
    // A part folder (or anything under its name) in the way.
    if (await lstatOrUndefined(TreePart.partPathOf(options.outDir, header.name))) {
      options.onNote?.(
        `Starting "${header.name}" over: the interrupted download was of another share`,
      );
      await TreePart.discardStale(options.outDir, header.name);
    }
    part = await TreePart.create(options.outDir, header.name, {
      force: options.force,
      proof: options.proof,
    });
    const maxBytes = limits.maxManifestBytes ?? MAX_MANIFEST_BYTES;
    const { manifestHash, files } = await readManifest(channel, reply, reader, part, maxBytes);
    await verifyManifest(channel.peer, header, manifestHash, reply.signatures);
    await checkShare(options, header, manifestHash);
    const state = await TreeStateFile.create(part.statePath, {
      shareId: options.fileId,
      sender: channel.peer.fingerprint,
      manifestHash,
      chunkSize: reply.chunkSize,
      entry: 0,
      verified: 0,
    });
    return { part, lock, header, manifestHash, start: { entry: 0, offset: 0 }, state, files };
  } catch (err) {
    // Nothing of the tree was received yet: there is nothing worth keeping.
    await part?.discard();
    await lock.release();
    throw err;
  }
}

/**
 * Reads every page into the part folder's `manifest` (proof format); returns the hash and the
 * number of files. Unsigned until the end, the entries may fill at most `maxBytes` (TREE_LIMIT,
 * before the page that would pass it is written). Free space is not checked first: Deno has no
 * statfs; a full disk is NO_SPACE and the part folder goes.
 */
async function readManifest(
  channel: Channel,
  reply: TreeManifest,
  reader: ManifestReader,
  part: TreePart,
  maxBytes: number,
): Promise<{ manifestHash: Bytes; files: number }> {
  using file = await part.createManifest();
  await writeAll(file, encodeProofPreamble(channel.peer.encoded, reply.signatures, reply.header));
  let files = 0;
  let spooled = 0;
  while (reader.entriesRead < reader.header.entryCount) {
    const { page } = await channel.expect(MessageType.MANIFEST_PAGE);
    spooled += page.length - PAGE_HEADER_BYTES;
    if (spooled > maxBytes) {
      throw new SfsError("TREE_LIMIT", `The manifest is larger than ${maxBytes} bytes`);
    }
    for (const entry of reader.pageEntries(page)) if (entry.kind === "file") files++;
    await writeAll(file, page.subarray(PAGE_HEADER_BYTES));
    countWork(PAGE_UNITS);
  }
  const manifestHash = reader.finish();
  await file.syncData();
  return { manifestHash, files };
}

/** Takes over a checked resume (tree_receiver_start.ts): its lock, part folder and state. */
export async function continueResume(
  reply: TreeManifest,
  resume: TreeResume,
  options: FetchOptions,
): Promise<Open> {
  try {
    checkListing(options, resume.header);
    await checkShare(options, resume.header, resume.state.manifestHash);
    const { entry, offset } = resume.start;
    options.onNote?.(
      `Resuming "${resume.name}" at entry ${entry + 1} of ${resume.header.entryCount}` +
        (offset > 0 ? `, byte ${offset} of its file` : ""),
    );
    const state = await TreeStateFile.create(resume.part.statePath, {
      ...resume.state,
      chunkSize: reply.chunkSize,
      entry: resume.start.entry,
      verified: resume.start.offset,
    });
    return {
      part: resume.part,
      lock: resume.lock,
      header: resume.header,
      manifestHash: resume.state.manifestHash,
      start: resume.start,
      state,
      files: resume.files,
    };
  } catch (err) {
    await resume.lock.release();
    throw err;
  }
}

/** Through the index: the listing's name and total must be the manifest's (§7.1, F11). */
function checkListing(options: FetchOptions, header: ManifestHeader): void {
  const listing = options.expectListing;
  if (listing && (listing.name !== header.name || listing.size !== header.totalBytes)) {
    throw mismatch("The sender's manifest differs from the listing");
  }
}

/**
 * The manifest must be the share asked for: the share id is recomputed from the owner, the
 * manifest hash and the name (F3.4), and through the index the listing's hash must be it too.
 */
async function checkShare(
  options: FetchOptions,
  header: ManifestHeader,
  manifestHash: Bytes,
): Promise<void> {
  if (!constantTimeEqual(await shareIdOf(header, manifestHash), options.fileId)) {
    throw mismatch("The sender's manifest is not of the share asked for");
  }
  const listing = options.expectListing;
  if (listing && !constantTimeEqual(listing.sha256, manifestHash)) {
    throw mismatch("The sender's manifest differs from the listing");
  }
}

function mismatch(message: string): SfsError {
  return new SfsError("MANIFEST_MISMATCH", message, {
    hint: "The sender may be passing off another share as the one asked for; nothing was saved",
  });
}
