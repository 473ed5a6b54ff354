/** `sfs register` and `sfs login`: create or open an account on an index server. */
import { isSfsError, SfsError } from "../../errors.ts";
import { constantTimeEqual } from "../../crypto/bytes.ts";
import { formatFingerprint, type Identity } from "../../crypto/identity.ts";
import type { IndexClient } from "../../index/client/client.ts";
import { validateUsername } from "../../index/protocol/usernames.ts";
import { readConfig, resolveIndex, updateConfig } from "../settings/config.ts";
import { loadIdentity } from "../settings/identity_file.ts";
import { type IndexFlags, withIndex } from "../index_connect.ts";
import { createIdentity, hasIdentity } from "./keygen_run.ts";
import type { Output } from "../output.ts";
import { readPassword, usePassword } from "../secret_input.ts";

/** Options of `sfs register` and `sfs login`. */
export interface AccountOptions extends IndexFlags {
  home: string;
  /** `--user NAME`; defaults to the configured user. */
  user?: string;
  /** `sfs login --rotate-keys`: register this identity's keys instead of the old ones. */
  rotateKeys?: boolean;
}

/** Registers the local identity (created if missing) under a new username. */
export async function runRegister(options: AccountOptions, out: Output): Promise<void> {
  const { target, user } = await accountTarget(options);
  // The password first: without one there is no point in generating keys.
  const password = await readPassword({ repeat: true });
  const identity = await hasIdentity(options.home)
    ? await loadIdentity(options.home)
    : await createIdentity(options.home, out);
  const session = { home: options.home, target, identity, flags: options, out, anonymous: true };
  const server = await withIndex(session, async (client) => {
    await client.register(user, password);
    return client.server;
  }).catch(async (err) => {
    if (!isSfsError(err, "EXISTS")) throw err;
    // Taken by this very identity: a second register is a mistake with a clear remedy.
    const mine = await withIndex(session, (client) => registeredKeyMatches(client, user, identity))
      .catch(() => false);
    if (!mine) throw err;
    throw new SfsError(
      "ALREADY_REGISTERED",
      `You are already registered as "${user}"; use sfs login`,
      {
        hint: `sfs login --server ${target.server} --user ${user} saves it as your default`,
      },
    );
  });
  const account = await saveAccount(options.home, target.server, user, identity);
  out.event("registered", { ...account, serverFingerprint: formatFingerprint(server.fingerprint) });
  out.info(`Registered "${user}" on ${target.server} with key ${account.fingerprint}`);
}

/** Logs in with the password; with `rotateKeys` registers the local identity's keys. */
export async function runLogin(options: AccountOptions, out: Output): Promise<void> {
  const { target, user } = await accountTarget(options);
  const identity = await loadIdentity(options.home);
  const session = { home: options.home, target, identity, flags: options, out, anonymous: true };
  const matches = await usePassword((password) =>
    withIndex(session, async (client) => {
      await client.login(user, password, { rotateKeys: options.rotateKeys });
      return await registeredKeyMatches(client, user, identity);
    })
  );
  const account = await saveAccount(options.home, target.server, user, identity);
  const { fingerprint } = account;
  out.event("logged_in", { ...account, rotated: !!options.rotateKeys, keysMatch: matches });
  out.info(`Logged in as "${user}" on ${target.server}`);
  if (options.rotateKeys) out.info(`Registered key is now ${fingerprint}`);
  if (!matches) {
    out.warn(
      `The index holds other keys for "${user}" than this identity's (${fingerprint}); ` +
        "run sfs login --rotate-keys to register this identity",
    );
  }
}

async function accountTarget(options: AccountOptions) {
  const target = await resolveIndex(options.home, { server: options.server });
  if (target === undefined) {
    throw new SfsError("USAGE", "No index server given", {
      hint: "Pass --server HOST:PORT (or set SFS_SERVER)",
    });
  }
  const user = options.user ?? (await readConfig(options.home)).user;
  if (user === undefined) {
    throw new SfsError("USAGE", "No username given", { hint: "Pass --user NAME" });
  }
  validateUsername(user);
  return { target, user };
}

/** Saves the server and user as the defaults; returns the fields both commands report. */
async function saveAccount(
  home: string,
  server: string,
  user: string,
  identity: Identity,
): Promise<{ server: string; user: string; fingerprint: string }> {
  await updateConfig(home, { server, user });
  return { server, user, fingerprint: formatFingerprint(identity.public.fingerprint) };
}

async function registeredKeyMatches(
  client: IndexClient,
  user: string,
  identity: Identity,
): Promise<boolean> {
  const registered = (await client.userKeys([user])).get(validateUsername(user));
  return registered !== undefined &&
    constantTimeEqual(registered.fingerprint, identity.public.fingerprint);
}
