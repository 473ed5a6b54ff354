/**
 * The second read of a proof (proof.ts): each entry compared with the disk. A tree's comparison
 * is a merge of two sequences in the same canonical order (the proof's entries and a walk of the
 * tree), so memory stays bounded however many entries there are.
 */
import { type Bytes, constantTimeEqual } from "../crypto/bytes.ts";
import type { ManifestEntry } from "./manifest.ts";
import type { Difference, ProofCheck } from "./proof.ts";
import { comparePaths } from "./tree_paths.ts";
import { walkTree } from "./tree_walk.ts";

/** Differences listed in full; the rest are only counted. */
const MAX_LISTED = 100;

/** Differences found so far: the first ones listed, all counted. */
export class Findings {
  readonly #differences: Difference[] = [];
  readonly #notes: Difference[] = [];
  #count = 0;

  add(path: string, problem: Difference["problem"]): void {
    if (problem === "executable" || problem === "mtime") {
      if (this.#notes.length < MAX_LISTED) this.#notes.push({ path, problem });
      return;
    }
    this.#count++;
    if (this.#differences.length < MAX_LISTED) this.#differences.push({ path, problem });
  }

  result(): Pick<ProofCheck, "differences" | "differenceCount" | "notes"> {
    return { differences: this.#differences, differenceCount: this.#count, notes: this.#notes };
  }
}

/** Compares one file entry with the file at `path` (stat: the one path the user typed may link). */
export async function compareFile(
  path: string,
  entry: ManifestEntry,
  shown: string,
  found: Findings,
  info?: Deno.FileInfo,
): Promise<void> {
  let stat = info;
  try {
    stat ??= await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return found.add(shown, "missing");
    throw err;
  }
  if (!stat.isFile) return found.add(shown, "type");
  if (stat.size !== entry.size) return found.add(shown, "size");
  if (!constantTimeEqual(await sha256OfFile(path), entry.sha256)) {
    return found.add(shown, "content");
  }
  const executable = ((stat.mode ?? 0) & 0o111) !== 0;
  if (stat.mode !== null && executable !== entry.executable) found.add(shown, "executable");
  if (stat.mtime !== null && stat.mtime.getTime() !== entry.mtime) found.add(shown, "mtime");
}

/** Merges the proof's entries with a walk of `root`, both in canonical order. */
export async function compareTree(
  root: string,
  entries: AsyncGenerator<ManifestEntry>,
  found: Findings,
): Promise<void> {
  const walk = walkTree(root);
  const disk = walk[Symbol.asyncIterator]();
  let have = await disk.next();
  for await (const entry of entries) {
    const want = entry.path.split("/");
    // Everything on disk before this entry is not in the proof.
    while (!have.done && comparePaths(have.value.path.split("/"), want) < 0) {
      found.add(have.value.path, "extra");
      have = await disk.next();
    }
    if (have.done || comparePaths(have.value.path.split("/"), want) > 0) {
      found.add(entry.path, "missing");
      continue;
    }
    const onDisk = have.value;
    have = await disk.next();
    if (onDisk.kind !== entry.kind) {
      found.add(entry.path, "type");
    } else if (entry.kind === "file") {
      await compareFile(`${root}/${entry.path}`, entry, entry.path, found, onDisk.info);
    }
  }
  for (; !have.done; have = await disk.next()) found.add(have.value.path, "extra");
  const { excluded: _, ...skipped } = walk.skipped;
  for (const [kind, count] of Object.entries(skipped)) {
    for (let i = 0; i < count; i++) found.add(`(${kind})`, "skipped");
  }
}

async function sha256OfFile(path: string): Promise<Bytes> {
  // Loaded here, not at the top: a receiver loads this module for proof.ts's format alone
  // (issue 12).
  const { hashContent } = await import("./content_hash.ts");
  using file = await Deno.open(path, { read: true });
  // Nothing resumes from this hash: no states kept (content_hash.ts).
  return (await hashContent(file, { keepStates: false })).sha256;
}
