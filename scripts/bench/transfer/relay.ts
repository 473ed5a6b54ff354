/**
 * The relayed row of the transfer benchmark (issue 10): an `sfs server` on 127.0.0.1 whose relay
 * carries a transfer of the same file as the direct row, in the same run. The sender shares
 * through the index (its own registered home, so the direct row's sender stays in direct mode);
 * the receiver fetches the ticket with `--relay`, without an account.
 *
 * @module
 */

import { join } from "node:path";
import { SFS_CMD } from "../../lib/sfs_process.ts";
import type { Log } from "../run.ts";
import type { Resources } from "./resources.ts";

/** A running index server that relays, and a sender home registered on it. */
export interface RelayIndex {
  /** The server's `HOST:PORT`. */
  readonly server: string;
  /** The home of the sharing sender, registered on the server. */
  readonly senderHome: string;
}

const PASSWORD = "bench relay password";
/** Bound on starting the server (it generates its identity first) and on registering. */
const SETUP_MS = 120_000;

/**
 * Starts `sfs server` and registers a sender on it; returns why not when that fails (the row is
 * then skipped with that reason, the rest of the benchmark runs).
 */
export async function startRelayIndex(
  res: Resources,
  root: string,
  log: Log,
): Promise<RelayIndex | string> {
  const home = join(root, "home-index");
  const senderHome = join(root, "home-relay-sender");
  log("starting an index server for the relayed row…");
  const server = res.spawn(
    [...SFS_CMD, "server", "--listen", "127.0.0.1:0", "--db", join(home, "index.db"), "--json"],
    { home },
  );
  let listening;
  try {
    listening = await server.nextEvent((e) => e.event === "listening", SETUP_MS);
  } catch (err) {
    return `sfs server did not start: ${String(err).split("\n")[0]}`;
  }
  const address = `127.0.0.1:${listening.port}`;
  await using keygen = res.spawn([...SFS_CMD, "keygen", "--json", "--quiet"], {
    home: senderHome,
    env: { SFS_PASSPHRASE: "" },
  });
  if (!(await keygen.status).success) return `sfs keygen failed: ${keygen.stderrText()}`;
  await using register = res.spawn([
    ...SFS_CMD,
    "register",
    "--server",
    address,
    "--user",
    "benchsender",
    "--server-fingerprint",
    String(listening.fingerprint),
    "--json",
    "--quiet",
  ], { home: senderHome, env: { SFS_PASSWORD: PASSWORD } });
  if (!(await register.status).success) {
    return `sfs register failed: ${register.stderrText().trim().split("\n").at(-1)}`;
  }
  return { server: address, senderHome };
}
