/**
 * `sfs server`: the command line; the work is in server_run.ts, the only one to load SQLite and
 * the PostgreSQL driver.
 */
import type { OptionSpec } from "../args.ts";
import { formatHostPort, parseHostPort } from "../../net/address.ts";
import { CODE_MODES, type CodeMode } from "../../index/protocol/code_modes.ts";
import type { CommandSpec } from "./command.ts";
import { parseCount, parseDuration } from "./options.ts";

interface ServerFlags {
  listen: string;
  db?: string;
  identity?: string;
  maxConnections: string;
  idleTimeout: string;
  maxListingsPerUser: string;
  maxRegistrationsPerAddress: string;
  relay: boolean;
  relayMaxSessions: string;
  relayMaxPerUser: string;
  relayMaxPerAddress: string;
  relayPairingTimeout: string;
  relayIdleTimeout: string;
  relayAddress?: string;
  listingTtl: string;
  codes: CodeMode;
  codeTtl: string;
  maxOpenCodes: string;
  maxCodeClaimsPerAddress: string;
}

/** Runs an index server. */
export const SERVER_COMMAND: CommandSpec<ServerFlags, []> = {
  name: "server",
  describe: "run an index server (accounts, announcements, search, presence)",
  options: [
    {
      long: "listen",
      value: "<host:port>",
      describe: "address to listen on",
      default: "0.0.0.0:9999",
    },
    {
      long: "db",
      value: "<path|url>",
      describe:
        "SQLite file, or postgres://USER@HOST:PORT/DB (default: $SFS_DB, else index.db in the sfs home)",
    },
    {
      long: "identity",
      value: "<file>",
      describe: "server identity file (default: next to the SQLite file, or in the sfs home)",
    },
    count("max-connections", "connections served at once", "256"),
    {
      long: "idle-timeout",
      value: "<seconds>",
      describe: "close connections silent this long",
      default: "60",
    },
    count("max-listings-per-user", "listings one account may have", "1000"),
    count("max-registrations-per-address", "new accounts per address an hour", "10"),
    { long: "no-relay", describe: "do not relay transfers between peers" },
    count("relay-max-sessions", "relayed transfers at once, in total", "64"),
    count("relay-max-per-user", "relayed transfers at once per sharing user", "8"),
    count("relay-max-per-address", "relayed transfers at once per receiver address", "4"),
    {
      long: "relay-pairing-timeout",
      value: "<seconds>",
      describe: "time a sender has to reach the relay",
      default: "5",
    },
    {
      long: "relay-idle-timeout",
      value: "<seconds>",
      describe: "end a relayed transfer silent this long",
      default: "60",
    },
    {
      long: "relay-address",
      value: "<host:port>",
      describe:
        "address senders on other servers of the index dial to reach this one's relay (default: --listen, unless 0.0.0.0 or ::)",
    },
    {
      long: "listing-ttl",
      value: "<duration>",
      describe: "forget listings offline this long (1s … 365d)",
      default: "3d",
    },
    {
      long: "codes",
      value: "<who>",
      describe: "who may open short codes: accounts, open (anyone, quotas per address) or off",
      choices: CODE_MODES,
      default: "accounts",
    },
    {
      long: "code-ttl",
      value: "<duration>",
      describe: "short codes expire after this long (1s … 1d)",
      default: "10m",
    },
    count(
      "max-open-codes",
      "short codes open at once per account (per address in open mode)",
      "8",
    ),
    count("max-code-claims-per-address", "short codes one address may try in 10 minutes", "20"),
  ],
  async run({ flags }, { home, out }) {
    const { runServer } = await import("./server_run.ts");
    await runServer({
      home,
      listen: parseHostPort(flags.listen, "--listen", { listener: true }),
      db: flags.db ?? (Deno.env.get("SFS_DB") || undefined),
      identity: flags.identity,
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
      relay: flags.relay
        ? {
          maxSessions: parseCount(flags.relayMaxSessions, "--relay-max-sessions", 65_535),
          maxPerUser: parseCount(flags.relayMaxPerUser, "--relay-max-per-user", 65_535),
          maxPerAddress: parseCount(flags.relayMaxPerAddress, "--relay-max-per-address", 65_535),
          pairingTimeoutMs: parseCount(flags.relayPairingTimeout, "--relay-pairing-timeout", 600) *
            1000,
          idleTimeoutMs: parseCount(flags.relayIdleTimeout, "--relay-idle-timeout", 86_400) * 1000,
        }
        : false,
      listingTtlMs: parseDuration(flags.listingTtl, "--listing-ttl", 365),
      codes: {
        mode: flags.codes,
        ttlMs: parseDuration(flags.codeTtl, "--code-ttl", 1),
        maxPerOwner: parseCount(flags.maxOpenCodes, "--max-open-codes", 65_535),
        maxClaimsPerAddress: parseCount(
          flags.maxCodeClaimsPerAddress,
          "--max-code-claims-per-address",
          1_000_000,
        ),
      },
      relayAddress: flags.relayAddress === undefined
        ? undefined
        : formatHostPort(parseHostPort(flags.relayAddress, "--relay-address")),
    }, out);
  },
};

/** An option taking a whole number `<n>`, with its default. */
function count(long: string, describe: string, value: string): OptionSpec {
  return { long, value: "<n>", describe, default: value };
}
