/** `sfs keygen` and `sfs whoami`: create the local identity, show its fingerprint. */
import { SfsError } from "../../errors.ts";
import { formatFingerprint, generateIdentity, type Identity } from "../../crypto/identity.ts";
import {
  ensureHome,
  identityPath,
  loadIdentity,
  loadPublicIdentity,
  writeIdentityFile,
} from "../settings/identity_file.ts";
import type { Output } from "../output.ts";
import { readSecretInput } from "../secret_input.ts";

/** Options of `sfs keygen`. */
export interface KeygenOptions {
  home: string;
  /** Replace an existing identity. @default false */
  force?: boolean;
}

/** Creates an identity; refuses to replace one without `force`. */
export async function runKeygen(options: KeygenOptions, out: Output): Promise<void> {
  const path = identityPath(options.home);
  if (!options.force && await exists(path)) {
    throw new SfsError("EXISTS", `An identity already exists at "${path}"`, {
      hint: "Use --force to replace it (the old keys are lost)",
    });
  }
  await createIdentity(options.home, out);
}

/**
 * Generates an identity, asks for a passphrase to protect it (see {@link choosePassphrase}),
 * saves it to `home` and reports it: as results, or with `asSideEffect` (`sfs get`
 * creating one when there is none) as notes on stderr. Overwrites: callers check first.
 */
export async function createIdentity(
  home: string,
  out: Output,
  options: { asSideEffect?: boolean } = {},
): Promise<Identity> {
  const path = identityPath(home);
  const passphrase = await choosePassphrase(out);
  out.note("Generating RSA-3072 (OAEP and PSS) and Ed25519 keys…");
  const identity = await generateIdentity();
  await ensureHome(home);
  await writeIdentityFile(path, identity, { passphrase });
  const fingerprint = formatFingerprint(identity.public.fingerprint);
  if (options.asSideEffect) {
    // stdout carries the command's own results; the new identity is news for the person.
    out.note(`Identity saved to ${path}; your fingerprint is ${fingerprint}`);
    return identity;
  }
  out.event("identity", { fingerprint, path, encrypted: passphrase !== undefined });
  out.info(`Identity saved to ${path}`);
  out.info(`Fingerprint: ${fingerprint}`);
  return identity;
}

/**
 * The identity in `home`, created first when there is none (as `sfs keygen` would: a passphrase
 * asked on a terminal, none without one), so a receiver's first `sfs get` needs no keygen. Told
 * on stderr.
 */
export async function loadOrCreateIdentity(home: string, out: Output): Promise<Identity> {
  if (await hasIdentity(home)) return await loadIdentity(home);
  out.note(`No identity in "${home}" yet; creating one (as sfs keygen does)`);
  return await createIdentity(home, out, { asSideEffect: true });
}

/** True when `home` holds an identity file. */
export function hasIdentity(home: string): Promise<boolean> {
  return exists(identityPath(home));
}

/** Prints the local fingerprint. */
export async function runWhoami(options: { home: string }, out: Output): Promise<void> {
  const identity = await loadPublicIdentity(options.home);
  const fingerprint = formatFingerprint(identity.fingerprint);
  out.event("identity", { fingerprint, path: identityPath(options.home) });
  out.info(fingerprint);
}

/**
 * `SFS_PASSPHRASE` when set (empty means none); else asked twice on a terminal (empty means
 * none); else none, said out loud, because scripts and CI must never hang on a prompt.
 */
function choosePassphrase(out: Output): Promise<string | undefined> {
  return readSecretInput({
    env: "SFS_PASSPHRASE",
    question: "Passphrase to encrypt the keys (empty for none): ",
    empty: "none",
    repeat: { question: "Repeat the passphrase: ", mismatch: "The passphrases do not match" },
    onNone: (reason) =>
      out.warn(
        reason === "no terminal"
          ? "No terminal and no SFS_PASSPHRASE: the private keys are stored unencrypted"
          : "No passphrase: the private keys are stored unencrypted",
      ),
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
