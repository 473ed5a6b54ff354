/** Dialling a TCP peer with a deadline, so an unreachable address fails fast and clearly. */
import { clearTimer, setTimer, type Timer } from "../timer.ts";
import { SfsError } from "../errors.ts";
import { formatHostPort, type HostPort } from "./address.ts";

/** Default bound on establishing a TCP connection. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** Connects over TCP, failing with TIMEOUT or CONNECTION_FAILED and a clear message. */
export async function connect(
  target: HostPort,
  timeoutMs: number = CONNECT_TIMEOUT_MS,
): Promise<Deno.TcpConn> {
  const attempt = Deno.connect({ hostname: target.host, port: target.port });
  let timer: Timer | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimer(() => {
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
    clearTimer(timer);
  }
}
