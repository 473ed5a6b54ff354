/**
 * Network addresses: the one `HOST:PORT` grammar every layer uses (tickets §10, announcements
 * §12.5, `--listen`, `--advertise`, `--server`), and the one way to print an address.
 *
 * HOST is a DNS name, a dotted-quad IPv4 address or an IPv6 address in brackets; PORT is decimal
 * 1–65535 without leading zeros. The grammar is strict so that an address has one spelling: it
 * round-trips through {@link formatHostPort}, and a signed announcement cannot carry an address
 * that one resolver reads differently from another (`010.0.0.1`, `1.2.3`, `0x7f.1`).
 *
 * Pure: no I/O.
 */
import { SfsError } from "../errors.ts";

/** A parsed `HOST:PORT`; an IPv6 host is held without brackets. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Options of {@link parseHostPort} and {@link tryParseHostPort}. */
export interface ParseHostPortOptions {
  /** The port when the text names only a host (`HOST`, `[IPv6]`); without it PORT is required. */
  readonly defaultPort?: number;
  /**
   * The text is an address to listen on: `:PORT` means all interfaces (`0.0.0.0`) and port 0
   * means any free port. @default false
   */
  readonly listener?: boolean;
}

/** The host `:PORT` stands for when listening: all IPv4 interfaces. */
export const ALL_INTERFACES = "0.0.0.0";
/** Longest DNS name in characters (RFC 1035 §2.3.4, without the trailing dot). */
const MAX_DNS_NAME = 253;
const PORT_RE = /^(?:0|[1-9][0-9]{0,4})$/;
// 0 to 255 without leading zeros: some resolvers read `010` as octal.
const OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
const IPV4_RE = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
// A label (RFC 1123 §2.1): letters, digits and inner hyphens, 1 to 63 characters.
const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const DNS_NAME_RE = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const NUMERIC_LABEL_RE = /(?:^|\.)[0-9]+$/;
const HEX_GROUP_RE = /^[0-9A-Fa-f]{1,4}$/;

/**
 * Parses `HOST:PORT` or `[IPv6]:PORT` typed or pasted by a person, ignoring surrounding white
 * space. Throws SfsError USAGE naming `what` (e.g. `"--listen"`) when the text is not an address.
 */
export function parseHostPort(
  text: string,
  what: string,
  options: ParseHostPortOptions = {},
): HostPort {
  const parsed = tryParseHostPort(text.trim(), options);
  if (typeof parsed === "string") {
    throw new SfsError("USAGE", `${what} must be HOST:PORT, got "${text}"`);
  }
  return parsed;
}

/**
 * Parses an address exactly as given (no white space allowed, for data that must be canonical
 * such as tickets and signed announcements). Returns the address, or a short phrase saying what
 * is wrong with it.
 */
export function tryParseHostPort(
  text: string,
  options: ParseHostPortOptions = {},
): HostPort | string {
  if (text === "") return "the address is empty";
  const split = splitHostPort(text);
  if (typeof split === "string") return split;
  const { host, bracketed, port: rawPort } = split;
  let port: number;
  if (rawPort === undefined) {
    if (options.defaultPort === undefined) return "expected HOST:PORT";
    port = options.defaultPort;
  } else {
    if (!PORT_RE.test(rawPort)) return "the port must be a decimal number without leading zeros";
    port = Number(rawPort);
  }
  if (port > 65535 || (port === 0 && !options.listener) || !Number.isInteger(port)) {
    return `port ${port} out of range`;
  }
  if (host === "" && !bracketed) {
    return options.listener ? { host: ALL_INTERFACES, port } : "the host is missing";
  }
  if (bracketed ? !isIPv6(host) : !isIPv4(host) && !isDnsName(host)) {
    return bracketed
      ? "the part in brackets is not an IPv6 address"
      : "the host is not a DNS name or IPv4 address";
  }
  return { host, port };
}

/** Formats an address as `HOST:PORT`, bracketing an IPv6 host. */
export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Formats the address of a socket end (e.g. `conn.remoteAddr`) as `HOST:PORT`. */
export function formatNetAddr(addr: Deno.NetAddr): string {
  return formatHostPort({ host: addr.hostname, port: addr.port });
}

/** True for the wildcard hosts a listener binds to mean "all interfaces". */
export function isWildcard(host: string): boolean {
  return host === ALL_INTERFACES || host === "::" || host === "";
}

/** True for a dotted-quad IPv4 address without leading zeros. */
export function isIPv4(text: string): boolean {
  return IPV4_RE.test(text);
}

/**
 * True for an IPv6 address in RFC 4291 §2.2 text form (hex groups, at most one `::`, an optional
 * dotted-quad tail). Zone ids (`fe80::1%eth0`) are refused: they name an interface of one machine,
 * which means nothing in a ticket or announcement read on another.
 */
export function isIPv6(text: string): boolean {
  return ipv6Groups(text) !== undefined;
}

/**
 * The eight 16-bit groups of an IPv6 address in the text form {@link isIPv6} accepts (`::`
 * expanded, a dotted-quad tail as the last two groups), or undefined for anything else.
 */
export function ipv6Groups(text: string): number[] | undefined {
  let hex = text;
  const lastColon = text.lastIndexOf(":");
  if (lastColon < 0) return undefined;
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    // An embedded IPv4 address takes the place of the last two groups.
    if (!isIPv4(tail)) return undefined;
    const [a, b, c, d] = tail.split(".").map(Number);
    hex = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${
      ((c << 8) | d).toString(16)
    }`;
  }
  const halves = hex.split("::");
  if (halves.length > 2) return undefined;
  const lists = halves.map((half) => half === "" ? [] : half.split(":"));
  if (!lists.every((list) => list.every((g) => HEX_GROUP_RE.test(g)))) return undefined;
  const [head, rest = []] = lists.map((list) => list.map((g) => parseInt(g, 16)));
  const count = head.length + rest.length;
  // "::" stands for at least one zero group.
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined;
  return [...head, ...new Array<number>(8 - count).fill(0), ...rest];
}

/**
 * True for a DNS name of letters, digits and hyphens. A name whose last label is numeric must be
 * an IPv4 address instead: resolvers read `1.2.3` or `123` as one (WHATWG URL, "ends in a number").
 */
function isDnsName(text: string): boolean {
  return text.length <= MAX_DNS_NAME && DNS_NAME_RE.test(text) && !NUMERIC_LABEL_RE.test(text);
}

/** Splits off the port; a phrase saying what is wrong when the shape is off. */
function splitHostPort(
  text: string,
): { host: string; bracketed: boolean; port?: string } | string {
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) return "a bracket is not closed";
    const rest = text.slice(close + 1);
    if (rest !== "" && !rest.startsWith(":")) return "expected HOST:PORT";
    return {
      host: text.slice(1, close),
      bracketed: true,
      port: rest === "" ? undefined : rest.slice(1),
    };
  }
  const colon = text.lastIndexOf(":");
  if (colon < 0) return { host: text, bracketed: false };
  const host = text.slice(0, colon);
  if (host.includes(":")) return "an IPv6 address must be in brackets";
  return { host, bracketed: false, port: text.slice(colon + 1) };
}
