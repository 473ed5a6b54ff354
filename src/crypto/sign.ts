/**
 * Signatures (docs/PROTOCOL.md §5): RSA-PSS-SHA256 (salt 32 bytes) and Ed25519 over
 * `label ‖ 0x00 ‖ data`. The signer chooses which algorithms to use, the verifier which it
 * requires; a signature that is present but wrong always fails, required or not.
 */
import { SfsError } from "../errors.ts";
import type { Bytes } from "./bytes.ts";
import type { Identity, PublicIdentity } from "./identity.ts";
import { labelled } from "./labels.ts";

/** Which signature algorithms to produce or require. */
export type SignaturePolicy = "rsa" | "ed25519" | "both";
/** Accepted spellings of a policy, for option parsing. */
export const SIGNATURE_POLICIES: readonly SignaturePolicy[] = ["rsa", "ed25519", "both"];

/** Up to two signatures over the same labelled data. */
export interface Signatures {
  readonly rsa?: Bytes;
  readonly ed25519?: Bytes;
}

const PSS = { name: "RSA-PSS", saltLength: 32 } as const;

/** Signs `label ‖ 0x00 ‖ data` with the algorithms `policy` names. */
export async function sign(
  identity: Identity,
  label: string,
  data: Uint8Array,
  policy: SignaturePolicy = "both",
): Promise<Signatures> {
  const message = labelled(label, data);
  const [rsa, ed25519] = await Promise.all([
    policy === "ed25519" ? undefined : crypto.subtle.sign(PSS, identity.pssPrivate, message),
    policy === "rsa" ? undefined : crypto.subtle.sign("Ed25519", identity.ed25519Private, message),
  ]);
  return {
    rsa: rsa && new Uint8Array(rsa),
    ed25519: ed25519 && new Uint8Array(ed25519),
  };
}

/**
 * Verifies signatures made by {@link sign}: every present signature must verify and the ones
 * `required` names must be present. Throws SfsError BAD_SIGNATURE naming what failed.
 */
export async function verify(
  signer: PublicIdentity,
  label: string,
  data: Uint8Array,
  signatures: Signatures,
  required: SignaturePolicy = "both",
): Promise<void> {
  const message = labelled(label, data);
  const what = label.replace(/^sfs\/v[0-9]+\//, "");
  const needRsa = required !== "ed25519";
  const needEd = required !== "rsa";
  if ((needRsa && !signatures.rsa) || (needEd && !signatures.ed25519)) {
    throw new SfsError(
      "BAD_SIGNATURE",
      `Missing ${needRsa && !signatures.rsa ? "RSA-PSS" : "Ed25519"} ${what}`,
      { remedy: "fewer-signatures" },
    );
  }
  const [rsaOk, edOk] = await Promise.all([
    signatures.rsa ? crypto.subtle.verify(PSS, signer.pss, signatures.rsa, message) : true,
    signatures.ed25519
      ? crypto.subtle.verify("Ed25519", signer.ed25519, signatures.ed25519, message)
      : true,
  ]);
  if (!rsaOk) throw new SfsError("BAD_SIGNATURE", `Invalid RSA-PSS ${what}`);
  if (!edOk) throw new SfsError("BAD_SIGNATURE", `Invalid Ed25519 ${what}`);
}
