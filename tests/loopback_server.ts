/**
 * The listener of every stand-in server in the tests (lying senders and indexes, relays,
 * proxies): one accept loop, src/net/listener.ts's, and one clean-up. Each connection runs
 * `session`; its failure is the expected outcome of a hostile test, so it is swallowed.
 */
import { closeQuietly } from "../src/closable.ts";
import { acceptAll } from "../src/net/listener.ts";

/** A server on 127.0.0.1; `await using` closes it and every connection it tracked. */
export interface LoopbackServer extends AsyncDisposable {
  readonly port: number;
}

/**
 * Accepts connections on 127.0.0.1 (a free port) and runs `session` for each until disposed;
 * the connection is closed when its session ends. `track` registers another connection (such
 * as a relay's onward one) to be closed at disposal.
 */
export function serveLoopback(
  session: (conn: Deno.TcpConn, track: (other: Deno.Conn) => void) => Promise<void>,
): LoopbackServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const sessions = new Set<Promise<void>>();
  const track = (conn: Deno.Conn) => conns.add(conn);
  const accepting = (async () => {
    for await (const conn of acceptAll(listener)) {
      track(conn);
      sessions.add(session(conn, track).catch(() => {}).finally(() => closeQuietly(conn)));
    }
  })();
  return {
    port: listener.addr.port,
    async [Symbol.asyncDispose]() {
      closeQuietly(listener);
      for (const conn of conns) closeQuietly(conn);
      await accepting;
      await Promise.allSettled(sessions);
    },
  };
}
