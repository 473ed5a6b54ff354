/**
 * `sfs verify PATH [--proof FILE] [--owner FINGERPRINT]` (docs/design/folders.md F9): checks a
 * file or folder against the owner's signed manifest kept as its proof, with no network. Prints
 * who signed what and when, then every difference; fails with HASH_MISMATCH when the disk does
 * not match, so a script sees exit status 3 like any failed verification.
 */
import { SfsError } from "../../errors.ts";
import { toHex } from "../../crypto/bytes.ts";
import { formatFingerprint, parseFingerprint } from "../../crypto/identity.ts";
import { constantTimeEqual } from "../../crypto/bytes.ts";
import { readUsers } from "../settings/pins.ts";
import { PROOF_SUFFIX, verifyWithProof } from "../../peer/proof.ts";
import type { Output } from "../output.ts";

/** Options of {@link runVerify}. */
export interface VerifyOptions {
  /** The file or folder to check. */
  path: string;
  /** The proof file. @default `${path}.sfs-proof` */
  proof?: string;
  /**
   * The fingerprint the signer must have; without it the signer is looked up among the users
   * pinned in `home` (§12.7), and shown either way.
   */
  owner?: string;
  /** The sfs home whose pinned users name a signer when `owner` is not given. */
  home?: string;
}

/** Runs `sfs verify`. */
export async function runVerify(options: VerifyOptions, out: Output): Promise<void> {
  const path = options.path.replace(/(?<=.)\/+$/, "");
  const proof = options.proof ?? path + PROOF_SUFFIX;
  const expectedOwner = options.owner === undefined ? undefined : parseFingerprint(options.owner);
  const check = await verifyWithProof(path, proof, { expectedOwner }).catch((err) => {
    if (err instanceof Deno.errors.NotFound) {
      throw new SfsError("NOT_FOUND", `No proof at "${proof}"`, {
        hint: "Give the proof with --proof FILE",
      });
    }
    throw err;
  });
  const { header } = check;
  const signer = formatFingerprint(check.owner.fingerprint);
  const created = new Date(header.createdAt).toISOString();
  // Without --owner, a user whose key was pinned (sfs get NAME, sfs trust) names the signer: the
  // pin is a fingerprint the person already decided to trust.
  const pinnedAs = expectedOwner || options.home === undefined
    ? []
    : await pinnedUsers(options.home, check.owner.fingerprint);
  const known = pinnedAs.length > 0
    ? ` (pinned as ${pinnedAs.map((p) => `${p.user} on ${p.server}`).join(", ")})`
    : "";
  out.info(`Signed by ${signer}${expectedOwner ? " (as expected)" : known}`);
  if (!expectedOwner && pinnedAs.length === 0) {
    out.warn("The signer was not checked against a fingerprint you trust", {
      hint: "Compare it with the owner's, or pass --owner FINGERPRINT",
    });
  }
  const what = header.root === "file"
    ? `"${header.name}", ${header.totalBytes} bytes`
    : `folder "${header.name}", ${header.entryCount} entries, ${header.totalBytes} bytes`;
  out.info(`Signed ${what} on ${created}`);
  for (const d of check.differences) out.warn(`${d.problem}: ${d.path}`);
  if (check.differenceCount > check.differences.length) {
    const more = check.differenceCount - check.differences.length;
    out.warn(`… and ${plural(more, "more difference")}`);
  }
  for (const note of check.notes) out.note(`${note.problem} differs (not checked): ${note.path}`);
  out.event("verified", {
    path,
    proof,
    signer,
    ownerChecked: expectedOwner !== undefined,
    pinnedAs,
    name: header.name,
    root: header.root,
    entries: header.entryCount,
    bytes: header.totalBytes,
    createdAt: header.createdAt,
    manifestHash: toHex(check.manifestHash),
    differences: check.differenceCount,
  });
  if (check.differenceCount > 0) {
    throw new SfsError(
      "HASH_MISMATCH",
      `"${path}" differs from its proof (${plural(check.differenceCount, "difference")})`,
    );
  }
  out.info(`"${path}" matches its proof`);
}

/** The pinned users (per server) whose key is `fingerprint`; none when the pins cannot be read. */
async function pinnedUsers(
  home: string,
  fingerprint: Uint8Array,
): Promise<Array<{ server: string; user: string }>> {
  const found: Array<{ server: string; user: string }> = [];
  const users = await readUsers(home).catch(() => new Map<string, Map<string, string>>());
  for (const [server, pins] of users) {
    for (const [user, pinned] of pins) {
      let key: Uint8Array;
      try {
        key = parseFingerprint(pinned);
      } catch {
        continue;
      }
      if (constantTimeEqual(key, fingerprint)) found.push({ server, user });
    }
  }
  return found;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
