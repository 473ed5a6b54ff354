/**
 * This machine's network interfaces, as far as sfs needs to know them: the direct candidates a
 * sender advertises (docs/PROTOCOL.md §10.1).
 */
import { type HostPort, isIPv4, isIPv6, isWildcard } from "./address.ts";

/** The part of `Deno.NetworkInterfaceInfo` that decides whether an address is a candidate. */
export interface InterfaceAddress {
  readonly family: "IPv4" | "IPv6";
  readonly address: string;
}

/** Options of {@link candidateAddresses}. */
export interface CandidateOptions {
  /** The interfaces to choose from. @default Deno.networkInterfaces(), or none when refused */
  readonly interfaces?: readonly InterfaceAddress[];
  /** Most candidates (a ticket or announcement bounds them). @default no limit */
  readonly max?: number;
}

/**
 * Where other machines may reach a listener bound to `listen` with port `port`: the listening host
 * itself when it is one address, else every usable interface address of the families the
 * wildcard covers (`0.0.0.0` IPv4 only, `::` both), IPv4 first, in the system's order. Loopback
 * is left out unless nothing else is there, since on another machine it names that machine;
 * link-local addresses are left out since they mean nothing without a zone id (§10).
 */
export function candidateAddresses(
  listen: HostPort,
  port: number,
  options: CandidateOptions = {},
): HostPort[] {
  if (!isWildcard(listen.host)) return [{ host: listen.host, port }];
  const withV6 = listen.host !== "0.0.0.0";
  const all = options.interfaces ?? systemInterfaces();
  const usable = (i: InterfaceAddress) =>
    i.family === "IPv4"
      ? isIPv4(i.address) && !i.address.startsWith("169.254.")
      : withV6 && isIPv6(i.address) && !/^fe[89ab]/i.test(i.address);
  const isLoopback = (i: InterfaceAddress) => i.address.startsWith("127.") || i.address === "::1";
  const ordered = [
    ...all.filter((i) => usable(i) && !isLoopback(i) && i.family === "IPv4"),
    ...all.filter((i) => usable(i) && !isLoopback(i) && i.family === "IPv6"),
  ];
  const chosen = ordered.length > 0 ? ordered : all.filter((i) => usable(i) && isLoopback(i));
  const hosts = [...new Set(chosen.map((i) => i.address.toLowerCase()))];
  if (hosts.length === 0) hosts.push("127.0.0.1");
  return hosts.slice(0, options.max ?? Infinity).map((host) => ({ host, port }));
}

function systemInterfaces(): InterfaceAddress[] {
  try {
    return Deno.networkInterfaces();
  } catch {
    // No permission to list them: loopback is all we can name.
    return [];
  }
}
