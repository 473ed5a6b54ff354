/**
 * A proxy that holds the sender's stream at a chosen chunk, so a test knows a receiver is
 * mid-transfer (with some verified chunks on disk) when it acts.
 *
 * @module
 */

import { join } from "node:path";
import { DEFAULT_CHUNK_SIZE } from "../src/crypto/stream.ts";
import { FrameKind } from "../src/wire/frame.ts";
import { type SfsProcess, startSfs } from "./harness.ts";
import { type Proxy, type Sharing, startProxy, withPort } from "./peers.ts";

/**
 * Resolves once `proxy` holds the stream, or throws with the receiver's stderr if the receiver
 * exits first (so a test fails instead of waiting forever).
 */
export async function stalledOrExited(proxy: StallingProxy, receiver: SfsProcess): Promise<void> {
  const outcome = await Promise.race([proxy.reached, receiver.status]);
  if (outcome === undefined) return;
  await receiver.drained();
  throw new Error(`The receiver exited (${outcome.code}) first:\n${receiver.stderrText()}`);
}

/** A proxy that stops forwarding at one chunk until released; `await using` closes it. */
export interface StallingProxy extends Proxy {
  /** Resolves once the stream is held (chunks before `atChunk` were forwarded). */
  readonly reached: Promise<void>;
  /** Lets the stream go on. */
  release(): void;
}

/**
 * Forwards chunks 0 … `atChunk - 1` (each after `delayMs`), then holds the stream until
 * {@link StallingProxy.release}; meant for one connection (chunks are counted per proxy).
 */
export function startStallingProxy(
  targetPort: number,
  atChunk: number,
  options: { delayMs?: number } = {},
): StallingProxy {
  const reached = Promise.withResolvers<void>();
  const gate = Promise.withResolvers<void>();
  let released = false;
  let chunks = 0;
  const proxy = startProxy(targetPort, {
    onFrame: async (frame) => {
      if (frame.kind !== FrameKind.CHUNK || released) return;
      const index = chunks++;
      if (index >= atChunk) {
        reached.resolve();
        await gate.promise;
        return;
      }
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    },
  });
  return {
    port: proxy.port,
    reached: reached.promise,
    release() {
      released = true;
      gate.resolve();
    },
    async [Symbol.asyncDispose]() {
      released = true;
      gate.resolve();
      await proxy[Symbol.asyncDispose]();
    },
  };
}

/**
 * Waits (up to 20 s) until the part file at `path` holds at least `bytes` bytes. The GET rides
 * in the handshake (docs/PROTOCOL.md §6.4), so chunks flow while the receiver still finishes it:
 * a proxy that stalled after some chunks does not mean the receiver stored any yet.
 */
export async function partHolds(path: string, bytes: number): Promise<void> {
  for (let waited = 0; waited < 20_000; waited += 50) {
    const size = await Deno.stat(path).then((info) => info.size, () => 0);
    if (size >= bytes) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${path} never held ${bytes} bytes`);
}

/** A receiver held mid-transfer by a stalling proxy; `await using` stops both. */
export interface StalledGet extends AsyncDisposable {
  readonly proxy: StallingProxy;
  readonly receiver: SfsProcess;
}

/**
 * Starts bob's `sfs get --out OUT --json` of `s`'s file `name` through a proxy that stalls at
 * chunk `atChunk`, and resolves once the receiver has stored at least one chunk of its part file.
 */
export async function stalledGet(
  s: Sharing,
  name: string,
  out: string,
  atChunk: number,
): Promise<StalledGet> {
  const proxy = startStallingProxy(s.ready.port, atChunk);
  const receiver = startSfs(
    ["get", withPort(s.ready.ticket, proxy.port), "--out", out, "--json"],
    { home: s.bob },
  );
  const stop = async () => {
    await receiver[Symbol.asyncDispose]();
    await proxy[Symbol.asyncDispose]();
  };
  try {
    await stalledOrExited(proxy, receiver);
    await partHolds(join(out, `${name}.sfs-part`), DEFAULT_CHUNK_SIZE);
  } catch (e) {
    await stop();
    throw e;
  }
  return { proxy, receiver, [Symbol.asyncDispose]: stop };
}
