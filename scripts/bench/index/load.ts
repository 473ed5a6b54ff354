/**
 * The benchmark's clients against one server: the corpus's pool dealt out to them, and the
 * {@link LoadGroup}s that drive them, in the bench's main thread or spread over load workers.
 *
 * @module
 */

import type { IndexConfig } from "./config.ts";
import type { Corpus } from "./corpus.ts";
import {
  type ClientSpec,
  type GroupInit,
  LoadGroup,
  type PhasePlan,
  type PhaseResult,
} from "./load_group.ts";
import type { Server } from "./server.ts";
import type { FromWorker, ToWorker } from "./worker.ts";

/** The clients, split over the main thread or some workers. */
export interface Load {
  /** Connect + handshake + AUTH latency of every client, in ms. */
  connect: number[];
  run(plan: PhasePlan): Promise<PhaseResult[]>;
  close(): void;
}

/** Connects `config.clients` authenticated clients to `server`. */
export async function startLoad(
  config: IndexConfig,
  server: Server,
  corpus: Corpus,
): Promise<Load> {
  const specs = clientSpecs(config, corpus);
  const base: Omit<GroupInit, "clients"> = {
    hostname: "127.0.0.1",
    port: server.port,
    fingerprint: server.fingerprint,
    seed: config.seed,
    listings: config.listings,
    totalClients: config.clients,
    crypto: Deno.env.get("SFS_CRYPTO"),
  };
  if (config.loadWorkers === 0) {
    const { group, connect } = await LoadGroup.connect({ ...base, clients: specs });
    return {
      connect,
      run: async (plan) => [await group.run(plan)],
      close: () => group.close(),
    };
  }
  const groups = Array.from(
    { length: config.loadWorkers },
    (_, w) => specs.filter((s) => s.index % config.loadWorkers === w),
  );
  return await startWorkers(groups.map((clients) => ({ ...base, clients })));
}

/** One client per slot, each with its user's share of the announcement pool. */
function clientSpecs(config: IndexConfig, corpus: Corpus): ClientSpec[] {
  const specs: ClientSpec[] = Array.from({ length: config.clients }, (_, c) => {
    const user = corpus.users[c % config.users];
    return { index: c, username: user.name, identityText: user.text, pool: [] };
  });
  // Pool item i belongs to user i % users; each user's items are dealt out to its clients.
  const byUser = Array.from({ length: config.users }, () => [] as ClientSpec[]);
  for (const spec of specs) byUser[spec.index % config.users].push(spec);
  const dealt = new Array<number>(config.users).fill(0);
  for (let i = config.listings; i < corpus.items.length; i++) {
    const u = i % config.users;
    const clients = byUser[u];
    if (clients.length === 0) continue;
    clients[dealt[u]++ % clients.length].pool.push(corpus.items[i]);
  }
  return specs;
}

/** Starts one load worker per group and waits until all of them are connected. */
async function startWorkers(inits: GroupInit[]): Promise<Load> {
  const workers = inits.map(() =>
    new Worker(new URL("./worker.ts", import.meta.url), { type: "module" })
  );
  try {
    const ready = await Promise.all(
      workers.map((worker, w) => call(worker, { type: "init", init: inits[w] })),
    );
    return {
      connect: ready.flatMap((r) => r.type === "ready" ? r.connect : []),
      run: async (plan) => {
        const replies = await Promise.all(
          workers.map((worker) => call(worker, { type: "phase", plan })),
        );
        return replies.flatMap((r) => r.type === "phase" ? [r.result] : []);
      },
      close: () => {
        for (const worker of workers) worker.terminate();
      },
    };
  } catch (err) {
    for (const worker of workers) worker.terminate();
    throw err;
  }
}

/** Sends one message to a worker and waits for its answer (one call at a time per worker). */
function call(worker: Worker, message: ToWorker): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      if (event.data.type === "error") reject(new Error(`Load worker: ${event.data.message}`));
      else resolve(event.data);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(`Load worker failed: ${event.message}`));
    };
    worker.postMessage(message);
  });
}
