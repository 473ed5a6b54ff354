/** Addresses and connections for the CLI: `HOST:PORT` parsing, connect with a deadline. */
import { SfsError } from "../errors.ts";

/** A parsed `HOST:PORT`. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Default bound on establishing a TCP connection. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** Parses `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all interfaces). */
export function parseHostPort(text: string, what: string, defaultHost = "0.0.0.0"): HostPort {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    throw new SfsError("USAGE", `${what} must be HOST:PORT, got "${text}"`);
  }
  return { host: match[1] ?? (match[2] || defaultHost), port };
}

/** Formats a host and port, bracketing IPv6. */
export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** True for the wildcard addresses a listener binds to "all interfaces". */
export function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "";
}

/**
 * The address other machines most likely reach us at: the first non-loopback IPv4 address,
 * else loopback. Only used to fill in a ticket when listening on all interfaces.
 */
export function primaryAddress(): string {
  try {
    const candidates = Deno.networkInterfaces().filter((i) =>
      i.family === "IPv4" && !i.address.startsWith("127.") && !i.address.startsWith("169.254.")
    );
    return candidates[0]?.address ?? "127.0.0.1";
  } catch {
    return "127.0.0.1";
  }
}

/** Connects over TCP, failing with TIMEOUT or CONNECTION_FAILED and a clear message. */
export async function connect(
  target: HostPort,
  timeoutMs: number = CONNECT_TIMEOUT_MS,
): Promise<Deno.TcpConn> {
  const attempt = Deno.connect({ hostname: target.host, port: target.port });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // If the connect succeeds after all, close it rather than leak it.
      attempt.then((conn) => conn.close(), () => {});
      reject(
        new SfsError(
          "TIMEOUT",
          `No answer from ${formatHostPort(target)} within ${timeoutMs / 1000} s`,
        ),
      );
    }, timeoutMs);
  });
  try {
    const conn = await Promise.race([attempt, deadline]);
    conn.setNoDelay(true);
    return conn;
  } catch (err) {
    if (err instanceof SfsError) throw err;
    throw new SfsError("CONNECTION_FAILED", `Cannot connect to ${formatHostPort(target)}`, {
      cause: err,
      hint: "Is the sender still running, and is the address reachable from here?",
    });
  } finally {
    clearTimeout(timer);
  }
}
