/** The local identity file `SFS_HOME/identity.json`: atomic writes, mode 0600, passphrase prompts. */
import { join } from "../../path.ts";
import { isSfsError, SfsError } from "../../errors.ts";
import type { Identity, PublicIdentity } from "../../crypto/identity.ts";
import {
  exportIdentity,
  importIdentity,
  importPublicIdentity,
  isEncrypted,
} from "../../crypto/keystore.ts";
import { writeFileAtomic } from "../../fs.ts";
import { readSettingsText } from "./json_file.ts";
import { useSecretInput } from "../secret_input.ts";

/** Name of the identity file inside the sfs home. */
export const IDENTITY_FILE = "identity.json";

/** Path of the identity file in `home`. */
export function identityPath(home: string): string {
  return join(home, IDENTITY_FILE);
}

/** Reads the identity file's text; NO_IDENTITY with a hint when there is none. */
export async function readIdentityText(home: string): Promise<string> {
  const text = await readSettingsText(identityPath(home));
  if (text === undefined) {
    throw new SfsError("NO_IDENTITY", `No identity in "${home}"`, {
      hint: "Create one with: sfs keygen",
    });
  }
  return text;
}

/**
 * Saves `identity` to `path` atomically with mode 0600, encrypted when `passphrase` is given.
 * The folder must exist.
 */
export async function writeIdentityFile(
  path: string,
  identity: Identity,
  options: { passphrase?: string } = {},
): Promise<void> {
  await writeFileAtomic(path, await exportIdentity(identity, options));
}

/**
 * Loads the full identity, asking for the passphrase when it is encrypted: `SFS_PASSPHRASE`
 * first, else a no-echo prompt on a terminal, else a clear error (never a hang).
 */
export async function loadIdentity(home: string): Promise<Identity> {
  const text = await readIdentityText(home);
  if (!isEncrypted(text)) return await importIdentity(text);
  return await useSecretInput(
    {
      env: "SFS_PASSPHRASE",
      question: "Passphrase for the sfs identity: ",
      empty: "value",
      hint: "Set SFS_PASSPHRASE, or run sfs in a terminal to be asked",
    },
    (passphrase) => importIdentity(text, passphrase),
    (err) => isSfsError(err, "BAD_PASSPHRASE"),
  );
}

/** Loads only the public half; needs no passphrase. */
export async function loadPublicIdentity(home: string): Promise<PublicIdentity> {
  return await importPublicIdentity(await readIdentityText(home));
}

/** Creates the sfs home folder, private to this user where the OS supports modes. */
export async function ensureHome(home: string): Promise<void> {
  await Deno.mkdir(home, { recursive: true, mode: 0o700 });
}
