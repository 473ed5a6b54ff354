/**
 * `sfs get TICKET|ID|NAME`: fetch one file from its sender, verify everything, then store it. A
 * ticket names the sender's address and key itself (direct mode); a file id or name is resolved
 * through the index, whose listing is trusted only as far as the owner's signature and the
 * locally pinned owner key go.
 */
import { isSfsError, SfsError } from "../../errors.ts";
import type { Bytes } from "../../crypto/bytes.ts";
import { formatFingerprint, type Identity } from "../../crypto/identity.ts";
import type { SignaturePolicy } from "../../crypto/sign.ts";
import { fetchFileVia, type FetchResult } from "../../peer/receiver.ts";
import { parseTicket, ticketCandidates } from "../../peer/ticket.ts";
import { resolveIndex } from "../settings/config.ts";
import type { IndexFlags } from "../index_connect.ts";
import { loadOrCreateIdentity } from "./keygen_run.ts";
import type { Route } from "../../net/race.ts";
import { racingConnect, type Reachable, type RouteChoice } from "./get_route.ts";
import type { RelayAsker } from "./get_relay.ts";
import type { JsonValue, Output } from "../output.ts";
import { onStopSignal } from "../interrupt.ts";
import { transferDisplay } from "./get_display.ts";
import { withResumeHint } from "../resume_hint.ts";
import { checkOutDir } from "../paths.ts";
import type { ShortCode } from "../../peer/code.ts";

/** Options of `sfs get`. */
export interface GetOptions extends IndexFlags {
  home: string;
  /** What to fetch: a ticket (`sfs://…`), or with an index configured a file id or exact name. */
  what: string;
  outDir: string;
  force?: boolean;
  /** Keep the proof of origin beside the download (F9). @default true */
  proof?: boolean;
  /** Say each file of a folder as it is verified (`file` events with --json). */
  verbose?: boolean;
  require?: SignaturePolicy;
  idleTimeoutMs?: number;
  /** Which routes to try (§10.1). @default "any" */
  route?: RouteChoice;
  /** With a code: also pin the sender under this name (`--as`). */
  as?: string;
}

/** What to fetch from whom, however it was found. */
export interface Source extends Reachable {
  readonly fileId: Bytes;
  readonly fingerprint: Bytes;
  /** Extra fields for the `done` event (index mode: id and owner). */
  readonly extra?: Record<string, JsonValue>;
  /** Index mode: the verified announcement's description, which the manifest must match. */
  readonly listing?: { name: string; size: number; sha256: Bytes };
}

/** Downloads the file a ticket, file id or name designates. */
export async function runGet(options: GetOptions, out: Output): Promise<void> {
  const what = options.what.trim();
  await checkOutDir(options.outDir);
  // Anything that looks like a ticket is one, malformed or not, and never a code or a name to
  // look up; only the rest needs the short codes' rules (and their word list) loaded.
  const isTicket = /^sfs:/i.test(what);
  if (!isTicket) {
    const { looksLikeCode, parseCode } = await import("../../peer/code.ts");
    if (looksLikeCode(what)) return await fetchByCode(parseCode(what), options, out);
  }
  const target = isTicket
    ? undefined
    : await resolveIndex(options.home, { server: options.server });
  if (target === undefined) {
    // Not an index lookup: it must be a ticket, and parseTicket says clearly if it is not.
    const ticket = parseTicket(what);
    const identity = await loadOrCreateIdentity(options.home, out);
    // The relay's rules (and the server pins) load only for a ticket that names a relay.
    const relay = ticket.relay &&
      (await import("./get_relay.ts")).ticketRelay(
        asker(options, out),
        ticket.relay,
        ticket.fileId,
      );
    return await fetchFrom(identity, options, out, {
      candidates: ticketCandidates(ticket),
      ...(relay !== undefined ? { relay } : {}),
      fileId: ticket.fileId,
      fingerprint: ticket.fingerprint,
    });
  }
  const identity = await loadOrCreateIdentity(options.home, out);
  // The index client and listings load only for a lookup on the index, not for a ticket.
  const { resolveThroughIndex } = await import("./get_index.ts");
  const source = await resolveThroughIndex(identity, target, what, options, out);
  await fetchFrom(identity, options, out, source);
}

/** `sfs get CODE` (§14): the exchange of get_code.ts, then the fetch as for a ticket. */
async function fetchByCode(code: ShortCode, options: GetOptions, out: Output): Promise<void> {
  // The PAKE (and its npm curves) loads only for a code.
  const { exchangeCode } = await import("./get_code.ts");
  const source = await exchangeCode(code, options, out);
  await fetchFrom(source.identity, options, out, source);
  await source.pinSender();
}

function asker(options: GetOptions, out: Output): RelayAsker {
  return { home: options.home, flags: options, out };
}

async function fetchFrom(
  identity: Identity,
  options: GetOptions,
  out: Output,
  source: Source,
): Promise<void> {
  using interrupt = onStopSignal();
  let connected: { route: Route; label: string } | undefined;
  const connect = racingConnect(source, {
    choice: options.route ?? "any",
    identity,
    signal: interrupt.signal,
    onConnected: (route, label) => connected = { route, label },
  });
  const display = transferDisplay(out, options);
  const require = options.require ?? "both";
  try {
    const result = await fetchFileVia(connect, identity, {
      fileId: source.fileId,
      expectedFingerprint: source.fingerprint,
      expectListing: source.listing,
      outDir: options.outDir,
      force: options.force,
      proof: options.proof ?? true,
      require,
      idleTimeoutMs: options.idleTimeoutMs,
      signal: interrupt.signal,
      // A resume that must start over connects by the same race (§10.1).
      reconnect: connect,
      onStart: display.onStart,
      onTreeStart: display.onTreeStart,
      onFile: display.onFile,
      onProgress: display.onProgress,
      onNote: (text) => out.note(text),
    }).catch((err) => {
      throw fetchFailure(err, interrupt.signal.aborted, display.kept);
    });
    display.finish();
    reportDone(out, result, require, source, connected!);
  } finally {
    // A failed download's bar goes: the error says how far it got.
    display.remove();
  }
}

/** The error a failed fetch ends with: a resume hint, or INTERRUPTED after Ctrl-C. */
function fetchFailure(
  err: unknown,
  interrupted: boolean,
  kept: { bytes: number; total: number },
): unknown {
  if (!interrupted) return withResumeHint(err, kept);
  if (isSfsError(err, "INTERRUPTED")) return err;
  // Stopped before any chunk arrived: whatever an earlier run kept is still there.
  return new SfsError("INTERRUPTED", "Interrupted; run the same command again to resume", {
    cause: err,
  });
}

/** Prints where the file went and everything that was verified. */
function reportDone(
  out: Output,
  result: FetchResult,
  require: SignaturePolicy,
  source: Source,
  connected: { route: Route; label: string },
): void {
  const sender = formatFingerprint(result.sender.fingerprint);
  const signatures = require === "both"
    ? "RSA-PSS and Ed25519"
    : require === "rsa"
    ? "RSA-PSS"
    : "Ed25519";
  const what = result.kind === "tree"
    ? { kind: "tree", files: result.files, manifest_hash: result.manifestHash }
    : { sha256: result.sha256 };
  out.event("done", {
    path: result.path,
    bytes: result.bytes,
    ...what,
    sender,
    verified: result.kind === "tree"
      ? [
        "sender-key",
        "manifest-signature:both",
        "chunks",
        "sizes",
        "sha256",
        `signature:${require}`,
      ]
      : ["sender-key", "chunks", "size", "sha256", `signature:${require}`],
    resumed_from: result.resumedFrom,
    route: connected.route,
    ...(result.proof !== undefined ? { proof: result.proof } : {}),
    ...source.extra,
  });
  if (result.kind === "tree") {
    out.info(
      `Saved ${result.path} (${result.files} files, ${result.bytes} bytes` +
        (result.resumedFrom > 0 ? `, resumed with ${result.resumedFrom} bytes kept)` : ")"),
    );
    out.info(`Manifest SHA-256  ${result.manifestHash}`);
    out.info(
      `Verified sender ${sender}, the owner's signed manifest, every chunk, each file's size ` +
        `and SHA-256, and ${signatures} signatures`,
    );
  } else {
    out.info(
      `Saved ${result.path} (${result.bytes} bytes` +
        (result.resumedFrom > 0 ? `, resumed from byte ${result.resumedFrom})` : ")"),
    );
    out.info(`SHA-256  ${result.sha256}`);
    out.info(`Verified sender ${sender}, every chunk, size, SHA-256 and ${signatures} signatures`);
  }
  if (result.proof !== undefined) {
    out.info(`Proof of origin kept in ${result.proof} (check it later with sfs verify)`);
  }
  out.info(
    connected.route === "relay"
      ? `Route: relayed through the index server (${connected.label}); it saw only ciphertext`
      : `Route: direct, to ${connected.label}`,
  );
}
