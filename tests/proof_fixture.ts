/**
 * Test fixture: the proof a receiver will write after a verified transfer (docs/design/folders.md
 * F9), made here straight from the disk, since the transfer does not send signed manifests yet.
 * Used by src/peer/proof_test.ts and tests/verify_test.ts.
 */
import { createHash } from "node:crypto";
import type { Bytes } from "../src/crypto/bytes.ts";
import type { Identity } from "../src/crypto/identity.ts";
import {
  encodeManifestEntry,
  encodeManifestHeader,
  type ManifestEntry,
  ManifestHasher,
  signManifest,
} from "../src/peer/manifest.ts";
import { encodeProof, PROOF_SUFFIX } from "../src/peer/proof.ts";
import { walkTree } from "../src/peer/tree_walk.ts";

/** Writes `target + ".sfs-proof"` for the file or folder at `target`, signed by `identity`. */
export async function makeProof(
  identity: Identity,
  target: string,
  options: { createdAt?: number } = {},
): Promise<string> {
  const name = target.slice(target.lastIndexOf("/") + 1);
  const info = await Deno.stat(target);
  const entries: ManifestEntry[] = [];
  if (info.isFile) {
    entries.push(await entryOf(target, name, info));
  } else {
    for await (const e of walkTree(target)) {
      entries.push(await entryOf(`${target}/${e.path}`, e.path, e.info));
    }
  }
  const headerBytes = encodeManifestHeader({
    ownerFingerprint: identity.public.fingerprint,
    name,
    root: info.isFile ? "file" : "folder",
    createdAt: options.createdAt ?? Date.now(),
    entryCount: entries.length,
    totalBytes: entries.reduce((sum, e) => sum + e.size, 0),
  });
  const encoded = entries.map(encodeManifestEntry);
  const hasher = new ManifestHasher(headerBytes);
  for (const bytes of encoded) hasher.update(bytes);
  const signatures = await signManifest(identity, hasher.digest());
  const path = target + PROOF_SUFFIX;
  await Deno.writeFile(
    path,
    encodeProof(identity.public.encoded, signatures, headerBytes, encoded),
  );
  return path;
}

async function entryOf(
  path: string,
  relative: string,
  info: Deno.FileInfo,
): Promise<ManifestEntry> {
  if (info.isDirectory) {
    const sha256: Bytes = new Uint8Array(32);
    return { path: relative, kind: "folder", executable: false, size: 0, mtime: 0, sha256 };
  }
  const content = await Deno.readFile(path);
  return {
    path: relative,
    kind: "file",
    executable: ((info.mode ?? 0) & 0o111) !== 0,
    size: content.length,
    mtime: Math.max(0, info.mtime?.getTime() ?? 0),
    sha256: new Uint8Array(createHash("sha256").update(content).digest()),
  };
}
