/** `sfs ls [--mine]`: everything on the index the viewer may see, newest first. */
import type { IndexFlags } from "../index_connect.ts";
import type { Output } from "../output.ts";
import { showListings } from "./search_run.ts";

/** Options of `sfs ls`. */
export interface LsOptions extends IndexFlags {
  home: string;
  /** Only the configured user's own files. @default false */
  mine?: boolean;
  /** Most results. @default 50 */
  limit?: number;
}

/** Lists visible files. */
export async function runLs(options: LsOptions, out: Output): Promise<void> {
  await showListings(
    options,
    out,
    (client) => client.list({ mine: options.mine, limit: options.limit }),
    options.mine ?? false,
  );
}
