/**
 * The proof of origin of a single file (docs/design/folders.md F5.2, F9): its one-entry manifest,
 * rebuilt from the MANIFEST's fields and signed by the owner, kept as `NAME.sfs-proof` beside the
 * file, in the same format as a tree's (proof.ts).
 *
 * @module
 */
import { SfsError } from "../errors.ts";
import type { PublicIdentity } from "../crypto/identity.ts";
import type { Signatures } from "../crypto/sign.ts";
import { lstatOrUndefined, writeBytesAtomic } from "../fs.ts";
import type { FileManifest } from "./file_manifest.ts";
import { encodeProof, PROOF_SUFFIX } from "./proof.ts";

/**
 * Refuses, before anything is received, a proof already beside the file's final name unless
 * `force`: it may be someone's evidence of another file (EXISTS).
 */
export async function refuseExistingProof(finalPath: string, force: boolean): Promise<void> {
  const path = finalPath + PROOF_SUFFIX;
  if (!force && await lstatOrUndefined(path)) {
    throw new SfsError("EXISTS", `"${path}" already exists`, { remedy: "replace-or-elsewhere" });
  }
}

/**
 * Writes the proof beside `finalPath` atomically (a rename: a link planted under its name is
 * replaced, never followed) and returns its path.
 */
export async function keepFileProof(
  finalPath: string,
  owner: PublicIdentity,
  signatures: Signatures,
  manifest: FileManifest,
  force: boolean,
): Promise<string> {
  await refuseExistingProof(finalPath, force);
  const path = finalPath + PROOF_SUFFIX;
  await writeBytesAtomic(
    path,
    encodeProof(owner.encoded, signatures, manifest.headerBytes, [manifest.entryBytes]),
  );
  return path;
}
