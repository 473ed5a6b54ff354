/** `sfs send FILE`: share one file directly and serve it to receivers that hold the ticket. */
import { SfsError } from "../errors.ts";
import { toHex } from "../crypto/bytes.ts";
import { formatFingerprint } from "../crypto/identity.ts";
import type { SignaturePolicy } from "../crypto/sign.ts";
import { prepareFile, serveTransfer } from "../peer/sender.ts";
import { formatTicket } from "../peer/ticket.ts";
import { loadIdentity } from "./identity_file.ts";
import { formatHostPort, type HostPort, isWildcard, primaryAddress } from "./net.ts";
import type { Output } from "./output.ts";
import { Progress } from "./progress.ts";

/** Most receivers served at once; more are turned away so the sender stays responsive. */
export const MAX_CONCURRENT_TRANSFERS = 32;

/** Options of `sfs send`. */
export interface SendOptions {
  home: string;
  file: string;
  listen: HostPort;
  advertise?: HostPort;
  once?: boolean;
  sign?: SignaturePolicy;
  idleTimeoutMs?: number;
}

/** Shares the file until interrupted, or until one transfer succeeded with `once`. */
export async function runSend(options: SendOptions, out: Output): Promise<void> {
  const identity = await loadIdentity(options.home);
  out.note(`Hashing "${options.file}"…`);
  const file = await prepareFile(options.file, identity.public);
  const listener = listen(options.listen);
  const bound = listener.addr as Deno.NetAddr;
  const host = options.advertise?.host ??
    (isWildcard(options.listen.host) ? primaryAddress() : options.listen.host);
  const port = options.advertise?.port ?? bound.port;
  const ticket = formatTicket({
    host,
    port,
    fileId: file.id,
    fingerprint: identity.public.fingerprint,
  });
  const fingerprint = formatFingerprint(identity.public.fingerprint);
  out.event("ready", {
    ticket,
    port: bound.port,
    host: bound.hostname,
    fingerprint,
    id: toHex(file.id),
    name: file.name,
    size: file.size,
    sha256: toHex(file.sha256),
  });
  out.info(ticket);
  out.note(
    `Sharing "${file.name}" (${file.size} bytes) on ${
      formatHostPort({ host: bound.hostname, port: bound.port })
    }; give the receiver the ticket above. Ctrl-C stops.`,
  );

  const progress = new Progress({ quiet: out.quiet || out.json });
  let active = 0;
  let finished = false;
  const transfers = new Set<Promise<void>>();
  for await (const conn of acceptAll(listener)) {
    if (active >= MAX_CONCURRENT_TRANSFERS) {
      // Turned away before any work: closing is cheaper than a handshake to say "busy".
      conn.close();
      continue;
    }
    active++;
    conn.setNoDelay(true);
    const peer = formatHostPort({
      host: (conn.remoteAddr as Deno.NetAddr).hostname,
      port: (conn.remoteAddr as Deno.NetAddr).port,
    });
    const transfer = serveTransfer(conn, identity, {
      lookup: (id) => toHex(id) === toHex(file.id) ? file : undefined,
      sign: options.sign,
      idleTimeoutMs: options.idleTimeoutMs,
      onStart: (shared, receiver) => {
        out.event("start", {
          peer,
          receiver: formatFingerprint(receiver.fingerprint),
          name: shared.name,
        });
        progress.start(`→ ${peer}`, shared.size);
      },
      onProgress: (sent) => progress.update(sent),
    }).then((result) => {
      progress.finish();
      out.event("sent", {
        peer,
        receiver: formatFingerprint(result.receiver.fingerprint),
        bytes: result.bytesSent,
      });
      out.note(
        `Sent "${file.name}" to ${peer} (${formatFingerprint(result.receiver.fingerprint)})`,
      );
      if (options.once && !finished) {
        finished = true;
        listener.close();
      }
    }, (err) => {
      progress.finish();
      const e = err instanceof SfsError ? err : new SfsError("INTERNAL", String(err));
      out.event("transfer_failed", { peer, code: e.code, message: e.message });
      out.warn(`Transfer to ${peer} failed: ${e.message}`);
    }).finally(() => {
      active--;
      transfers.delete(transfer);
    });
    transfers.add(transfer);
  }
  // With --once, let any other transfer in flight finish rather than cut it off.
  await Promise.allSettled([...transfers]);
}

function listen(address: HostPort): Deno.TcpListener {
  try {
    return Deno.listen({ hostname: address.host, port: address.port, transport: "tcp" });
  } catch (err) {
    throw new SfsError("CONNECTION_FAILED", `Cannot listen on ${formatHostPort(address)}`, {
      cause: err,
      hint: err instanceof Deno.errors.AddrInUse ? "The port is in use; pick another" : undefined,
    });
  }
}

/** Accepted connections until the listener is closed; a failed accept does not end the loop. */
async function* acceptAll(listener: Deno.TcpListener): AsyncGenerator<Deno.TcpConn> {
  for (;;) {
    try {
      yield await listener.accept();
    } catch (err) {
      if (err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted) return;
      // Out of file descriptors and the like: back off briefly instead of spinning.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
