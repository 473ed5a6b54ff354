/** `sfs server`: the command line; the work is in server_run.ts, the only one to load SQLite. */
import { parseHostPort } from "../../net/address.ts";
import type { CommandSpec } from "./command.ts";
import { parseCount, parseDuration } from "./options.ts";

interface ServerFlags {
  listen: string;
  db?: string;
  maxConnections: string;
  idleTimeout: string;
  maxListingsPerUser: string;
  maxRegistrationsPerAddress: string;
  listingTtl: string;
}

/** Runs an index server. */
export const SERVER_COMMAND: CommandSpec<ServerFlags, []> = {
  name: "server",
  describe: "run an index server (accounts, announcements, search, presence)",
  configure: (command) =>
    command
      .option("--listen <host:port>", "address to listen on", "0.0.0.0:9999")
      .option("--db <path>", "SQLite database (default: index.db in the sfs home)")
      .option("--max-connections <n>", "connections served at once", "256")
      .option("--idle-timeout <seconds>", "close connections silent this long", "60")
      .option("--max-listings-per-user <n>", "listings one account may have", "1000")
      .option("--max-registrations-per-address <n>", "new accounts per address an hour", "10")
      .option("--listing-ttl <duration>", "forget listings offline this long (1s … 365d)", "3d"),
  async run({ flags }, { home, out }) {
    const { runServer } = await import("./server_run.ts");
    await runServer({
      home,
      listen: parseHostPort(flags.listen, "--listen", { listener: true }),
      db: flags.db,
      maxConnections: parseCount(flags.maxConnections, "--max-connections", 65_535),
      idleTimeoutMs: parseCount(flags.idleTimeout, "--idle-timeout", 86_400) * 1000,
      maxListingsPerUser: parseCount(
        flags.maxListingsPerUser,
        "--max-listings-per-user",
        100_000_000,
      ),
      maxRegistrationsPerAddress: parseCount(
        flags.maxRegistrationsPerAddress,
        "--max-registrations-per-address",
        1_000_000,
      ),
      listingTtlMs: parseDuration(flags.listingTtl, "--listing-ttl", 365),
    }, out);
  },
};
