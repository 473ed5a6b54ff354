/** `sfs get TICKET`: fetch one file from a sender, verify everything, then store it. */
import { formatFingerprint } from "../crypto/identity.ts";
import type { SignaturePolicy } from "../crypto/sign.ts";
import { fetchFile } from "../peer/receiver.ts";
import { parseTicket } from "../peer/ticket.ts";
import { loadIdentity } from "./identity_file.ts";
import { connect } from "./net.ts";
import type { Output } from "./output.ts";
import { Progress } from "./progress.ts";

/** Options of `sfs get`. */
export interface GetOptions {
  home: string;
  ticket: string;
  outDir: string;
  force?: boolean;
  require?: SignaturePolicy;
  idleTimeoutMs?: number;
}

/** Downloads the file a ticket names. */
export async function runGet(options: GetOptions, out: Output): Promise<void> {
  const ticket = parseTicket(options.ticket);
  const identity = await loadIdentity(options.home);
  const conn = await connect(ticket);
  const progress = new Progress({ quiet: out.quiet || out.json });
  const require = options.require ?? "both";
  try {
    const result = await fetchFile(conn, identity, {
      fileId: ticket.fileId,
      expectedFingerprint: ticket.fingerprint,
      outDir: options.outDir,
      force: options.force,
      require,
      idleTimeoutMs: options.idleTimeoutMs,
      onStart: (manifest) => {
        out.event("start", { name: manifest.name, size: manifest.size });
        progress.start(manifest.name, manifest.size);
      },
      onProgress: (received) => progress.update(received),
    });
    progress.finish();
    const sender = formatFingerprint(result.sender.fingerprint);
    const signatures = require === "both"
      ? "RSA-PSS and Ed25519"
      : require === "rsa"
      ? "RSA-PSS"
      : "Ed25519";
    out.event("done", {
      path: result.path,
      bytes: result.bytes,
      sha256: result.sha256,
      sender,
      verified: ["sender-key", "chunks", "size", "sha256", `signature:${require}`],
    });
    out.info(`Saved ${result.path} (${result.bytes} bytes)`);
    out.info(`SHA-256  ${result.sha256}`);
    out.info(`Verified sender ${sender}, every chunk, size, SHA-256 and ${signatures} signatures`);
  } finally {
    progress.finish();
  }
}
