/**
 * A folder, or several paths under one name, ready to be served as one share (docs/PROTOCOL.md
 * §7.6–§7.8): its signed manifest (built by tree_manifest.ts, entries waiting in a spool in
 * SFS_HOME) and the share id receivers ask for.
 *
 * @module
 */
import type { Bytes } from "../crypto/bytes.ts";
import type { Identity } from "../crypto/identity.ts";
import { shareIdOf } from "./manifest.ts";
import { buildManifest, type BuildManifestOptions, type BuiltManifest } from "./tree_manifest.ts";

/** A tree share; dispose it (through `manifest`) to remove the spool. */
export interface SharedTree {
  readonly kind: "tree";
  /** The share id (§7.6): what tickets, GET and TREE_GET name. */
  readonly id: Bytes;
  readonly name: string;
  /** Total bytes of its files (the manifest header's). */
  readonly size: number;
  /** The manifest hash: what a listing's `sha256` commits to for a tree (§7.7). */
  readonly sha256: Bytes;
  readonly manifestHash: Bytes;
  /** Files and entries (files and folders) in the manifest. */
  readonly files: number;
  readonly entries: number;
  readonly manifest: BuiltManifest;
  /**
   * Set once a file was found to differ from its entry: the share is never served again, and
   * every later request for it is answered FILE_CHANGED (§7.8).
   */
  stale: boolean;
}

/**
 * Walks, hashes and signs `roots` (one folder, or several files and folders under
 * `options.name`) and describes the result for serving.
 */
export async function prepareTree(
  roots: string | readonly string[],
  identity: Identity,
  options: BuildManifestOptions,
): Promise<SharedTree> {
  let files = 0;
  const built = await buildManifest(roots, identity, {
    ...options,
    onProgress: (progress) => {
      files = progress.files;
      options.onProgress?.(progress);
    },
  });
  const { header, manifestHash } = built;
  return {
    kind: "tree",
    id: await shareIdOf(header, manifestHash),
    name: header.name,
    size: header.totalBytes,
    sha256: manifestHash,
    manifestHash,
    files,
    entries: header.entryCount,
    manifest: built,
    stale: false,
  };
}
