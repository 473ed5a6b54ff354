/**
 * Vectors for manifests (docs/design/folders.md F3): header, pages, manifest hash, share id and
 * the owner's signatures. Built field by field from the design's layouts, like the rest (see
 * scripts/gen_vectors.ts); signatures come from ./signer.ts.
 */
import { type Bytes, concat } from "../../src/crypto/bytes.ts";
import { draw, fileId, labelled, type Scenario, sha256, w } from "./common.ts";
import { type Fields, ownerIdentity, ownerSign, signatureFields, signerFields } from "./signer.ts";

interface Entry {
  path: string;
  type: 1 | 2;
  flags: number;
  size: number;
  mtime: number;
  sha256: Uint8Array;
}

interface Manifest {
  fingerprint: Uint8Array;
  name: string;
  root: 1 | 2;
  createdAt: number;
  /** Entries per page, in order. */
  pages: Entry[][];
  /** Announced count and total; the real ones unless given. */
  count?: number;
  total?: number;
}

/** F3.2: text path ‖ u8 type ‖ u8 flags ‖ u64 size ‖ u64 mtime ‖ [32] SHA-256. */
function entryBytes(e: Entry): Bytes {
  return w().text(e.path).u8(e.type).u8(e.flags).u64(e.size).u64(e.mtime).raw(e.sha256).finish();
}

/** F3.1 and F3.3, then F3.4's hash over header ‖ entries. */
async function encode(m: Manifest) {
  const entries = m.pages.flat();
  const header = w().u8(1).raw(m.fingerprint).text(m.name).u8(m.root).u64(m.createdAt)
    .u64(m.count ?? entries.length).u64(m.total ?? entries.reduce((s, e) => s + e.size, 0))
    .finish();
  let first = 0;
  const pages = m.pages.map((page) => {
    const bytes = concat(w().u64(first).u16(page.length).finish(), ...page.map(entryBytes));
    first += page.length;
    return bytes;
  });
  const hash = await sha256(labelled("sfs/v1/manifest", header, ...entries.map(entryBytes)));
  return { header, pages, hash };
}

const folder = (path: string): Entry => ({
  path,
  type: 2,
  flags: 0,
  size: 0,
  mtime: 1_789_000_000_000,
  sha256: new Uint8Array(32),
});

async function file(path: string, size: number, executable = false): Promise<Entry> {
  return {
    path,
    type: 1,
    flags: executable ? 1 : 0,
    size,
    mtime: 1_789_999_999_123,
    sha256: await draw(`manifest/content/${path}`, 32),
  };
}

/** Signed manifests, and ones a receiver must refuse (F3.5). */
export async function manifestScenarios(): Promise<Scenario[]> {
  const owner = await ownerIdentity();
  const base = { fingerprint: owner.fingerprint, createdAt: 1_790_000_000_000 };
  const ok: [string, string, Manifest][] = [
    ["tree", "a folder in two pages: nested and empty folders, executable, non-ASCII names", {
      ...base,
      name: "holiday",
      root: 2,
      pages: [
        [folder("docs"), await file("docs/r\u00e9sum\u00e9.pdf", 70_000)],
        [folder("empty"), await file("run.sh", 12, true), await file("\u{1f600}.txt", 0)],
      ],
    }],
    ["single-file", "one file: the only entry, named like the share", {
      ...base,
      name: "holiday.mov",
      root: 1,
      pages: [[await file("holiday.mov", 3 * 256 * 1024 + 5)]],
    }],
    ["empty-folder", "an empty folder: no entries, no pages", {
      ...base,
      name: "nothing",
      root: 2,
      pages: [],
    }],
  ];
  const scenarios: Scenario[] = [];
  for (const [suffix, note, m] of ok) {
    const { header, pages, hash } = await encode(m);
    const signed = await ownerSign("sfs/v1/manifest-signature", hash);
    scenarios.push({
      name: `manifest-${suffix}`,
      expect: "ok",
      kind: "manifest",
      note,
      fields: [
        ...await signerFields(),
        ["header", header],
        ...pages.map((p): Fields[number] => ["page", p]),
        ["manifest_hash", hash],
        ["share_id", await fileId(m.fingerprint, hash, m.name)],
        ["signed", signed.signed],
        ["required", "both"],
        ...signatureFields(signed),
      ],
    });
  }
  const tree = (pages: Entry[][], over: Partial<Manifest> = {}): Manifest => ({
    ...base,
    name: "holiday",
    root: 2,
    pages,
    ...over,
  });
  const a = await file("a", 1);
  const bad: [string, string, string, Manifest, "both" | "ed25519" | "flip"][] = [
    [
      "traversal",
      "UNSAFE_NAME",
      "an entry a/../../x",
      tree([[folder("a"), await file("a/../../x", 1)]]),
      "both",
    ],
    ["absolute", "UNSAFE_NAME", "an entry /etc/x", tree([[await file("/etc/x", 1)]]), "both"],
    ["windows-device", "UNSAFE_NAME", "an entry CON", tree([[await file("CON", 1)]]), "both"],
    [
      "case-collision",
      "NAME_COLLISION",
      "README and readme",
      tree([[await file("README", 1), await file("readme", 1)]]),
      "both",
    ],
    ["duplicate", "NAME_COLLISION", "the same path twice", tree([[a], [a]]), "both"],
    ["out-of-order", "BAD_MESSAGE", "b before a", tree([[await file("b", 1), a]]), "both"],
    [
      "more-entries",
      "BAD_MESSAGE",
      "two entries, one announced",
      tree([[a, await file("b", 1)]], { count: 1 }),
      "both",
    ],
    [
      "other-owner",
      "KEY_MISMATCH",
      "signed by the owner, naming another key",
      tree([[a]], { fingerprint: await draw("manifest/other-owner", 32) }),
      "both",
    ],
    [
      "flipped-ed25519",
      "BAD_SIGNATURE",
      "Ed25519 signature with one bit flipped",
      tree([[a]]),
      "flip",
    ],
    [
      "missing-rsa",
      "BAD_SIGNATURE",
      "no RSA-PSS signature (both are required)",
      tree([[a]]),
      "ed25519",
    ],
  ];
  for (const [suffix, code, note, m, signing] of bad) {
    const { header, pages, hash } = await encode(m);
    const signed = await ownerSign("sfs/v1/manifest-signature", hash);
    const sigs = signatureFields(signed, signing === "ed25519" ? "ed25519" : "both");
    if (signing === "flip") {
      sigs[1] = ["ed25519_signature", signed.ed25519.with(0, signed.ed25519[0] ^ 1)];
    }
    scenarios.push({
      name: `manifest-error-${suffix}`,
      expect: `error ${code}`,
      kind: "manifest",
      note: `${note}; signed correctly unless the signature is the point`,
      fields: [
        ["signer_identity", owner.identity],
        ["header", header],
        ...pages.map((p): Fields[number] => ["page", p]),
        ["required", "both"],
        ...sigs,
      ],
    });
  }
  return scenarios;
}
