/**
 * The index half of `sfs send`'s command line (send_run.ts), checked before the (possibly long)
 * hashing so that a typo fails at once: which index to announce on, the canonical keyword and
 * `--to` lists, and the options that need an index or exclude each other.
 */
import { SfsError } from "../../errors.ts";
import { canonicalLists } from "../../index/protocol/announcement.ts";
import { MAX_ADDRESSES } from "../../index/protocol/limits.ts";
import { formatHostPort, type HostPort } from "../../net/address.ts";
import type { IndexFlags } from "../index_connect.ts";
import { type IndexTarget, resolveIndex } from "../settings/config.ts";
import type { CodeRequest } from "./send_code.ts";

/** The options of `sfs send` a plan checks. */
export interface PlanOptions extends Pick<IndexFlags, "server"> {
  home: string;
  /** The paths to share (at least one): one file, one folder, or several of either. */
  files: string[];
  /** Stay in direct mode even when an index is configured. @default false */
  noIndex?: boolean;
  /** Search keywords for the announcements (index mode only). */
  keywords?: string[];
  /** Users who alone may see and fetch the files (index mode only). */
  to?: string[];
  /** Share by short code (§14): one file, to the one receiver who knows the code. */
  code?: CodeRequest;
  /** Where receivers connect, replacing the interface addresses (§10.1); at most 8. */
  advertise?: HostPort[];
}

/** The index half of the command line, checked before the (possibly long) hashing. */
export interface Plan {
  /** The index to announce on; undefined in direct mode. */
  readonly target?: IndexTarget;
  /** Keywords and `--to` users in canonical form (empty in direct mode). */
  readonly lists: { keywords: string[]; recipients: string[] };
}

/** Finds the index (unless `noIndex`) and checks the index-only options against it. */
export async function planShare(options: PlanOptions): Promise<Plan> {
  const target = options.noIndex
    ? undefined
    : await resolveIndex(options.home, { server: options.server });
  const keywords = options.keywords ?? [];
  const to = options.to ?? [];
  if (options.code !== undefined) checkCodePlan(options, target);
  if (target === undefined && (keywords.length > 0 || to.length > 0)) {
    throw new SfsError("USAGE", "--keyword and --to need an index server", {
      hint: "Register with sfs register, or pass --server HOST:PORT",
    });
  }
  if (options.files.length === 0) throw new SfsError("USAGE", "No file to send");
  const advertise = options.advertise ?? [];
  if (advertise.length > MAX_ADDRESSES) {
    throw new SfsError("USAGE", `--advertise may be given at most ${MAX_ADDRESSES} times`);
  }
  if (new Set(advertise.map((a) => formatHostPort(a).toLowerCase())).size < advertise.length) {
    throw new SfsError("USAGE", "--advertise names one address twice");
  }
  // Check the lists before the (possibly long) hashing, so a typo fails at once.
  return { target, lists: canonicalLists(keywords, to) };
}

/** `--code` needs an index, one file, and no `--to` (the code says who receives). */
function checkCodePlan(options: PlanOptions, target: IndexTarget | undefined): void {
  if (target === undefined) {
    throw new SfsError("USAGE", "--code needs an index server", {
      hint: "Pass --server HOST:PORT, or register with sfs register",
    });
  }
  if ((options.to ?? []).length > 0) {
    throw new SfsError("USAGE", "--code and --to exclude each other");
  }
  if (options.files.length !== 1) {
    throw new SfsError("USAGE", "--code shares exactly one file", {
      hint: "Send the other files with another code",
    });
  }
}
