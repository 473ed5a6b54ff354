/**
 * What `sfs get` shows while a download runs: the `start` event, one progress line for a file or
 * a whole folder (bytes, files done, the latest file), the `file` events of `--verbose`, and how
 * much a failure leaves kept (for the resume hint).
 *
 * @module
 */
import type { FetchOptions } from "../../peer/receiver.ts";
import type { TreeFileEvent } from "../../peer/receiver_options.ts";
import { escapeForDisplay } from "../../text.ts";
import type { Output } from "../output.ts";
import {
  progressFor,
  type ProgressOptions,
  type ProgressRow,
  type RowOptions,
} from "../progress.ts";

/** The callbacks a fetch reports to, and the progress line they draw. */
export interface TransferDisplay
  extends Required<Pick<FetchOptions, "onStart" | "onTreeStart" | "onFile" | "onProgress">> {
  /** Bytes kept on disk of the total, for the resume hint of a failure. */
  readonly kept: { bytes: number; total: number };
  /** The download is done: its last line stays. */
  finish(): void;
  /** The line goes (after a failure, the error says how far it got). */
  remove(): void;
}

/** Options of {@link transferDisplay}. */
export interface TransferDisplayOptions {
  /**
   * A `file` event (or line) per file of a folder.
   * @default {false}
   */
  verbose?: boolean;
  /**
   * The progress board's options (a test's clock and terminal).
   * @default {the terminal's}
   */
  progress?: ProgressOptions;
}

/** A display for one `sfs get`. */
export function transferDisplay(out: Output, options: TransferDisplayOptions): TransferDisplay {
  const progress = progressFor(out, options.progress);
  let row: ProgressRow | undefined;
  // A folder's files done so far and the latest one, for its one progress line.
  let folder: { filesDone: number; current?: string } | undefined;
  // A folder's line until its first progress report, which says what an earlier run left.
  let treeRow: RowOptions | undefined;
  const kept = { bytes: 0, total: 0 };
  return {
    kept,
    onStart: (manifest) => {
      out.event("start", { name: manifest.name, size: manifest.size });
      Object.assign(kept, { bytes: manifest.offset, total: manifest.size });
      // A download that starts over (the sender refused the resume point) starts again here.
      treeRow = undefined;
      row?.remove();
      row = progress.add({
        label: manifest.name,
        total: manifest.size,
        // A resumed download's rate counts only what this run receives.
        from: manifest.offset,
        fields: { phase: "transfer", name: manifest.name },
      });
    },
    onTreeStart: (tree) => {
      out.event("start", {
        name: tree.name,
        size: tree.totalBytes,
        kind: "tree",
        files: tree.files,
        entries: tree.entries,
      });
      Object.assign(kept, { bytes: 0, total: tree.totalBytes });
      row?.remove();
      treeRow = {
        label: tree.name,
        total: tree.totalBytes,
        files: tree.files,
        fields: { phase: "transfer", name: tree.name },
      };
      row = progress.add(treeRow);
      folder = { filesDone: 0 };
    },
    onFile: (file) => {
      folder = { filesDone: file.filesDone, current: file.path };
      if (options.verbose) reportFile(out, file);
    },
    onProgress: (received) => {
      kept.bytes = received;
      if (treeRow !== undefined) {
        // A folder's first report comes before any byte of this run (tree_receive_stream.ts):
        // the files an earlier run left are done already, and the rate counts only what follows.
        row?.remove();
        row = progress.add({ ...treeRow, from: received });
        treeRow = undefined;
      }
      row?.update(received, folder);
    },
    finish: () => row?.finish(),
    remove: () => row?.remove(),
  };
}

/** One file of a folder, verified (`--verbose`): a `file` event, or a line naming it. */
function reportFile(out: Output, file: TreeFileEvent): void {
  out.event("file", {
    path: file.path,
    size: file.size,
    sha256: file.sha256,
    kept: file.kept,
    files_done: file.filesDone,
  });
  // The path is the sender's: only display-safe text reaches the terminal.
  out.info(
    `${file.kept ? "Kept" : "Verified"} ${escapeForDisplay(file.path)} (${file.size} bytes)`,
  );
}
