/**
 * Direct first, relay when needed (docs/PROTOCOL.md §10.1): dial every direct candidate at once,
 * start the relay after a short delay (at once when every direct attempt has failed), and keep the
 * first connection whose peer handshake completes. The others are aborted or closed.
 *
 * Winning on the completed handshake, not on the TCP connect, is what makes a black-holed address
 * harmless: a NAT or firewall that accepts and never answers wins a connect race but never a
 * handshake, so it costs the user at most the relay delay. Nothing here knows about handshakes:
 * the caller passes `establish`, and the relay is one more dialer (src/index/client).
 */
import { clearTimer, setTimer, type Timer } from "../timer.ts";
import { closeQuietly } from "../closable.ts";
import { codeInfo, SfsError } from "../errors.ts";
import { formatHostPort, type HostPort } from "./address.ts";
import { CONNECT_TIMEOUT_MS } from "./connect.ts";

/** How a connection reached the peer. */
export type Route = "direct" | "relay";

/** One way to reach the peer: a direct address, or the relay. */
export interface Candidate {
  /** Names the candidate in errors and notes, e.g. `192.0.2.7:4444`. */
  readonly label: string;
  /** Opens a connection; must give up when `signal` aborts (the race is over). */
  readonly dial: (signal: AbortSignal) => Promise<Deno.Conn>;
}

/** Default wait before the relay is dialled while direct attempts are still running (ms). */
export const RELAY_DELAY_MS = 2_000;

/** Options of {@link raceConnections}. */
export interface RaceOptions<T> {
  /** Direct candidates, all dialled at once. */
  readonly direct: readonly Candidate[];
  /** Dialled after `relayDelayMs`, or at once when every direct attempt failed (or none exist). */
  readonly relay?: Candidate;
  /**
   * Runs the peer handshake on a fresh connection; the first to resolve wins. It may close the
   * connection when it fails; the race closes it in any case. It may call `claim` at the moment
   * the peer proved its key and before this side reveals anything more (§10.1): that attempt
   * wins there and then, every other one is closed, and `claim` throws in an attempt that came
   * second. Resolving without claiming claims at that point.
   */
  readonly establish: (conn: Deno.Conn, route: Route, claim: () => void) => Promise<T>;
  /** Releases a value established after another attempt had won (closes it). */
  readonly discard: (value: T) => void;
  /** @default RELAY_DELAY_MS */
  readonly relayDelayMs?: number;
  /** Stops the race: every attempt is abandoned and the race fails with INTERRUPTED. */
  readonly signal?: AbortSignal;
}

/** The attempt that won. */
export interface RaceWinner<T> {
  readonly value: T;
  readonly route: Route;
  readonly label: string;
}

/** One attempt that failed, kept to explain a race that nobody won. */
interface Failure {
  readonly route: Route;
  readonly label: string;
  readonly error: unknown;
}

/**
 * Races the candidates; resolves with the first attempt whose `establish` completed. Fails when
 * every attempt failed (with the most telling of their errors, see {@link raceError}), or with
 * INTERRUPTED when `signal` aborts. When it settles, no dial, connection or timer of a losing
 * attempt is left behind: dials are aborted, connections closed, late winners discarded.
 */
export function raceConnections<T>(options: RaceOptions<T>): Promise<RaceWinner<T>> {
  if (options.direct.length === 0 && options.relay === undefined) {
    return Promise.reject(new SfsError("USAGE", "No address to connect to"));
  }
  return new Promise((resolve, reject) => new Race(options, resolve, reject).start());
}

/** The state of one {@link raceConnections} call; settles its promise exactly once. */
class Race<T> {
  readonly #options: RaceOptions<T>;
  readonly #resolve: (winner: RaceWinner<T>) => void;
  readonly #reject: (error: unknown) => void;
  readonly #over = new AbortController();
  readonly #open = new Set<Deno.Conn>();
  readonly #failures: Failure[] = [];
  #settled = false;
  #running = 0;
  #directLeft: number;
  #relayTimer: Timer | undefined;
  #relayStarted = false;
  /** The connection of the attempt that claimed the win, before its handshake finished. */
  #claimed: Deno.Conn | undefined;

  constructor(
    options: RaceOptions<T>,
    resolve: (winner: RaceWinner<T>) => void,
    reject: (error: unknown) => void,
  ) {
    this.#options = options;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#directLeft = options.direct.length;
  }

  start(): void {
    const { direct, relay, signal } = this.#options;
    if (signal?.aborted) return this.#interrupt();
    signal?.addEventListener("abort", this.#interrupt, { once: true });
    for (const candidate of direct) void this.#attempt(candidate, "direct");
    if (direct.length === 0) this.#startRelay();
    else if (relay !== undefined) {
      this.#relayTimer = setTimer(
        () => this.#startRelay(),
        this.#options.relayDelayMs ?? RELAY_DELAY_MS,
      );
    }
  }

  #settle(done: () => void): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimer(this.#relayTimer);
    this.#options.signal?.removeEventListener("abort", this.#interrupt);
    this.#over.abort();
    // A handshake still running fails at once on its closed connection.
    for (const conn of this.#open) closeQuietly(conn);
    this.#open.clear();
    done();
  }

  readonly #interrupt = (): void =>
    this.#settle(() => this.#reject(new SfsError("INTERRUPTED", "Interrupted while connecting")));

  /** Makes `conn`'s attempt the winner: nothing else is dialled, every other one is closed. */
  #claimFor(conn: Deno.Conn): () => void {
    return () => {
      if (this.#settled || (this.#claimed !== undefined && this.#claimed !== conn)) {
        throw new SfsError("CONNECTION_CLOSED", "Another connection to the peer was faster");
      }
      this.#claimed = conn;
      clearTimer(this.#relayTimer);
      this.#over.abort();
      for (const other of this.#open) if (other !== conn) closeQuietly(other);
    };
  }

  #startRelay(): void {
    clearTimer(this.#relayTimer);
    const relay = this.#options.relay;
    if (relay === undefined || this.#relayStarted || this.#settled) return;
    if (this.#claimed !== undefined) return;
    this.#relayStarted = true;
    void this.#attempt(relay, "relay");
  }

  async #attempt(candidate: Candidate, route: Route): Promise<void> {
    this.#running++;
    let conn: Deno.Conn | undefined;
    try {
      conn = await candidate.dial(this.#over.signal);
      if (this.#settled || this.#claimed !== undefined) return closeQuietly(conn);
      this.#open.add(conn);
      const value = await this.#options.establish(conn, route, this.#claimFor(conn));
      this.#open.delete(conn);
      if (this.#settled || (this.#claimed !== undefined && this.#claimed !== conn)) {
        return this.#options.discard(value);
      }
      this.#settle(() => this.#resolve({ value, route, label: candidate.label }));
    } catch (error) {
      this.#failed(candidate, route, conn, error);
    } finally {
      this.#running--;
    }
    if (this.#running === 0 && !this.#settled) {
      this.#settle(() => this.#reject(raceError(this.#failures)));
    }
  }

  /** Records a failed attempt (closing its connection) or, for the claimed one, ends the race. */
  #failed(candidate: Candidate, route: Route, conn: Deno.Conn | undefined, error: unknown): void {
    if (conn !== undefined) {
      this.#open.delete(conn);
      closeQuietly(conn);
    }
    if (this.#settled) return;
    // The winner failed after its claim: the others are gone, so that is the outcome.
    if (this.#claimed !== undefined && this.#claimed === conn) {
      return this.#settle(() => this.#reject(error));
    }
    if (this.#claimed !== undefined) return;
    this.#failures.push({ route, label: candidate.label, error });
    // Nothing direct is left to wait for: the relay need not wait out its delay.
    if (route === "direct" && --this.#directLeft === 0) this.#startRelay();
  }
}

/**
 * The error a race that nobody won fails with. An error that is not about the network (the peer
 * answered with a wrong key, refused us, does not have the file) says more than any number of
 * refused connections, so it comes first; then the relay's (it was the last resort); then the
 * first direct one. The message names every address tried.
 */
export function raceError(failures: readonly Failure[]): SfsError {
  const asSfs = (f: Failure): SfsError =>
    f.error instanceof SfsError
      ? f.error
      : new SfsError("CONNECTION_FAILED", `Cannot connect to ${f.label}`, { cause: f.error });
  const telling = failures.find((f) => codeInfo(asSfs(f).code).category !== "network") ??
    failures.find((f) => f.route === "relay") ?? failures[0];
  const chosen = asSfs(telling);
  if (failures.length === 1) return chosen;
  const tried = failures.map((f) => `${f.label} (${asSfs(f).code})`).join(", ");
  return new SfsError(chosen.code, `${chosen.message}; tried ${tried}`, {
    cause: chosen,
    hint: chosen.hint,
    remedy: chosen.remedy,
  });
}

/**
 * A direct TCP candidate: connects to `target` within `timeoutMs`, TIMEOUT after it and
 * CONNECTION_FAILED when refused or unreachable. The race's signal aborts the connect itself, so
 * an address that never answers a SYN leaves nothing pending behind.
 */
export function tcpCandidate(
  target: HostPort,
  options: { timeoutMs?: number } = {},
): Candidate {
  const label = formatHostPort(target);
  const timeoutMs = options.timeoutMs ?? CONNECT_TIMEOUT_MS;
  return {
    label,
    dial: async (signal) => {
      const deadline = new AbortController();
      const timer = setTimer(() => deadline.abort(), timeoutMs);
      try {
        const conn = await Deno.connect({
          hostname: target.host,
          port: target.port,
          signal: AbortSignal.any([signal, deadline.signal]),
        });
        conn.setNoDelay(true);
        return conn;
      } catch (err) {
        if (deadline.signal.aborted && !signal.aborted) {
          throw new SfsError("TIMEOUT", `No answer from ${label} within ${timeoutMs / 1000} s`);
        }
        throw new SfsError("CONNECTION_FAILED", `Cannot connect to ${label}`, {
          cause: err,
          hint: "Is the sender still running, and is the address reachable from here?",
        });
      } finally {
        clearTimer(timer);
      }
    },
  };
}
