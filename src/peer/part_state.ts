/**
 * The resume state file next to a part file (`NAME.sfs-state`, part_file.ts): created at its
 * full size once, then rewritten in place through our handle, and removed only while its name
 * still names our file.
 */
import { writeAll } from "../fs.ts";
import { chunkCount } from "../crypto/stream.ts";
import { removeIfSame, removeName } from "./part_file_paths.ts";
import { encodeResumeState, type ResumeState } from "./resume_state.ts";

/** What the state file records besides the verified byte count. */
export type PartInfo = Omit<ResumeState, "verified">;

/** One download's state file; writes nothing until {@link StateFile.reserve}. */
export class StateFile {
  readonly #path: string;
  #info: PartInfo | undefined;
  #file: Deno.FsFile | undefined;

  constructor(path: string) {
    this.#path = path;
  }

  /**
   * Creates the state file at its full size (the old one, or a link planted under its name,
   * loses its name only) and syncs it, so its blocks are allocated before the disk can fill:
   * later checkpoints rewrite it in place. A crash right here loses only the resume point.
   *
   * A file of one chunk gets none (only the old one goes): it arrives whole or not at all, so
   * there is no resume point to keep, and a small `get` saves a create, a write and a sync.
   */
  async reserve(info: PartInfo, verified: number): Promise<void> {
    this.#info = info;
    await this.remove();
    await removeName(this.#path);
    if (this.oneChunk) return;
    this.#file = await Deno.open(this.#path, { write: true, createNew: true, mode: 0o600 });
    await this.write(verified);
  }

  /**
   * True once {@link reserve} was told of a file of one chunk, which has no resume point (and no
   * state file). Not whether a state file is held: a reopened part has none until it is rewound.
   */
  get oneChunk(): boolean {
    return this.#info !== undefined && chunkCount(this.#info.size, this.#info.chunkSize) === 1;
  }

  /** Rewrites the whole state file in place through our handle and syncs it. */
  async write(verified: number): Promise<void> {
    if (!this.#file || !this.#info) return;
    const bytes = encodeResumeState({ ...this.#info, verified });
    await this.#file.seek(0, Deno.SeekMode.Start);
    await writeAll(this.#file, bytes);
    await this.#file.syncData();
  }

  /** Removes the state file if its name still names ours, and closes it. */
  async remove(): Promise<void> {
    const file = this.#file;
    if (!file) return;
    this.#file = undefined;
    try {
      await removeIfSame(this.#path, await file.stat());
    } finally {
      file.close();
    }
  }

  /** Closes without changing anything on disk. */
  close(): void {
    this.#file?.close();
    this.#file = undefined;
  }
}
