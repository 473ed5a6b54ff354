/**
 * Addresses that fail in the two ways a direct candidate can (docs/PROTOCOL.md §10.1): a port
 * that refuses connections, and a black hole that accepts and never answers.
 *
 * @module
 */
import { closeQuietly } from "../src/closable.ts";

/** A port on 127.0.0.1 where connecting is refused. */
export function refusingPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/** A listener that accepts and never answers (a black hole), counting what it accepted. */
export function blackHole(): AsyncDisposable & { port: number; accepted: number } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const state = { port: listener.addr.port, accepted: 0 };
  const loop = (async () => {
    for await (const conn of listener) {
      state.accepted++;
      held.push(conn);
    }
  })().catch(() => {});
  return Object.assign(state, {
    async [Symbol.asyncDispose]() {
      closeQuietly(listener);
      for (const conn of held) closeQuietly(conn);
      await loop;
    },
  });
}
