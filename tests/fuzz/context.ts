/** Shared, lazily built state of the slower targets: identities and a recorded transfer. */
import { testIdentity } from "../identities.ts";
import { type IdentityMaterial, identityMaterial } from "./identity_material.ts";
import { type Recording, recordSession, type SessionSetup, sessionSetup } from "./session.ts";

/**
 * What the slower targets need, built on first use: test identities (RSA keygen is slow, so
 * tests/identities.ts caches them per run) and a recorded transfer in a temporary folder.
 */
export class FuzzContext {
  #material?: Promise<IdentityMaterial>;
  #session?: Promise<{ setup: SessionSetup; recording: Recording }>;
  #root?: string;

  /** Two test identities turned into mutation material. */
  material(): Promise<IdentityMaterial> {
    this.#material ??=
      (async () => identityMaterial(await testIdentity("alice"), await testIdentity("bob")))();
    return this.#material;
  }

  /** A file shared by bob, fetched once by alice and recorded. */
  session(): Promise<{ setup: SessionSetup; recording: Recording }> {
    this.#session ??= (async () => {
      const setup = await sessionSetup(await testIdentity("bob"), await testIdentity("alice"));
      this.#root = setup.root;
      return { setup, recording: await recordSession(setup) };
    })();
    return this.#session;
  }

  /** Removes the temporary folder, if one was made. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#session?.catch(() => {});
    if (this.#root) await Deno.remove(this.#root, { recursive: true }).catch(() => {});
  }
}
