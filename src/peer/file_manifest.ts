/**
 * The one-entry manifest of a single-file share (docs/PROTOCOL.md §7.1, docs/design/folders.md
 * F5.2): the MANIFEST message carries its fields and the owner's signatures over its hash, and
 * both sides rebuild it from them — the sender to sign it, the receiver to verify it and keep a
 * proof of origin (F9). The file id stays §7.1's; the manifest adds the owner's signature over
 * name, size, SHA-256, executable bit and modification time, which a transcript-bound FINAL
 * cannot give a third party.
 *
 * Pure: no I/O.
 *
 * @module
 */
import { SfsError } from "../errors.ts";
import type { Bytes } from "../crypto/bytes.ts";
import type { Identity, PublicIdentity } from "../crypto/identity.ts";
import type { Signatures } from "../crypto/sign.ts";
import type { Manifest } from "../wire/messages.ts";
import {
  encodeManifestEntry,
  encodeManifestHeader,
  type ManifestEntry,
  ManifestHasher,
  type ManifestHeader,
  signManifest,
  verifyManifest,
} from "./manifest.ts";
import { componentProblem } from "./tree_paths.ts";

/** The MANIFEST fields the one-entry manifest is made of. */
export type FileManifestFields = Pick<
  Manifest,
  "name" | "size" | "sha256" | "executable" | "mtime" | "createdAt"
>;

/** A single file's manifest (root = file, one entry named like the share) and its hash. */
export interface FileManifest {
  readonly header: ManifestHeader;
  readonly headerBytes: Bytes;
  readonly entry: ManifestEntry;
  readonly entryBytes: Bytes;
  readonly manifestHash: Bytes;
}

/**
 * The one-entry manifest `fields` describe, owned by `ownerFingerprint`; undefined when the name
 * cannot be a manifest path (F4.1: `a:b`, `CON`, a trailing dot, over 255 bytes), in which case
 * the file is shared without one and no proof can be kept.
 */
export function fileManifestOf(
  ownerFingerprint: Bytes,
  fields: FileManifestFields,
): FileManifest | undefined {
  if (componentProblem(fields.name) !== undefined) return undefined;
  const header: ManifestHeader = {
    ownerFingerprint,
    name: fields.name,
    root: "file",
    createdAt: fields.createdAt,
    entryCount: 1,
    totalBytes: fields.size,
  };
  const entry: ManifestEntry = {
    path: fields.name,
    kind: "file",
    executable: fields.executable,
    size: fields.size,
    mtime: fields.mtime,
    sha256: fields.sha256,
  };
  const headerBytes = encodeManifestHeader(header);
  const entryBytes = encodeManifestEntry(entry);
  const manifestHash = new ManifestHasher(headerBytes).update(entryBytes).digest();
  return { header, headerBytes, entry, entryBytes, manifestHash };
}

/**
 * The sender's side: the signatures a MANIFEST carries for `fields` (both algorithms, as every
 * manifest), or none when the name cannot be a manifest path.
 */
export async function signFileManifest(
  identity: Identity,
  fields: FileManifestFields,
): Promise<{ manifest?: FileManifest; signatures: Signatures }> {
  const manifest = fileManifestOf(identity.public.fingerprint, fields);
  if (manifest === undefined) return { signatures: {} };
  return { manifest, signatures: await signManifest(identity, manifest.manifestHash) };
}

/**
 * The receiver's side: rebuilds the one-entry manifest of a received MANIFEST and verifies the
 * owner's signatures over it (both required, BAD_SIGNATURE). Returns undefined when the name
 * cannot be a manifest path and no signature came (nothing to keep a proof of); a signature for
 * such a name is BAD_MESSAGE, a missing one for any other name BAD_SIGNATURE.
 */
export async function verifyFileManifest(
  owner: PublicIdentity,
  message: Manifest,
): Promise<FileManifest | undefined> {
  const manifest = fileManifestOf(owner.fingerprint, message);
  const signed = message.manifestSignatures.rsa !== undefined ||
    message.manifestSignatures.ed25519 !== undefined;
  if (manifest === undefined) {
    if (signed) {
      throw new SfsError("BAD_MESSAGE", "Malformed manifest: a signature for an unportable name");
    }
    return undefined;
  }
  await verifyManifest(owner, manifest.header, manifest.manifestHash, message.manifestSignatures);
  return manifest;
}
