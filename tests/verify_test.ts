/**
 * `sfs verify` end to end: a real sfs process checks a file against a proof made by the fixture
 * (the transfer does not write proofs yet), offline, and exits as a verification would.
 */
import assert from "node:assert/strict";
import { formatFingerprint } from "../src/crypto/identity.ts";
import { testIdentity } from "./identities.ts";
import { makeProof } from "./proof_fixture.ts";
import { runSfs, tempDir } from "./harness.ts";
import { errorOf } from "./peers.ts";

Deno.test("sfs verify passes an intact file and fails a changed one with exit 3", async () => {
  await using dir = await tempDir();
  const owner = await testIdentity("alice");
  const fingerprint = formatFingerprint(owner.public.fingerprint);
  const file = `${dir.path}/report.txt`;
  await Deno.writeTextFile(file, "the report");
  await makeProof(owner, file);
  const home = { home: `${dir.path}/home` };

  const intact = await runSfs(["verify", file, "--owner", fingerprint, "--json"], home);
  assert.equal(intact.code, 0, intact.stderr);
  const verified = intact.events.find((e) => e.event === "verified");
  assert.equal(verified?.signer, fingerprint);
  assert.equal(verified?.differences, 0);

  const other = formatFingerprint(new Uint8Array(32));
  const wrongOwner = await runSfs(["verify", file, "--owner", other, "--json"], home);
  assert.equal(wrongOwner.code, 3, wrongOwner.stderr);
  assert.equal(errorOf(wrongOwner).code, "KEY_MISMATCH");

  await Deno.writeTextFile(file, "the rep0rt");
  const changed = await runSfs(["verify", file, "--json"], home);
  assert.equal(changed.code, 3, changed.stderr);
  assert.equal(errorOf(changed).code, "HASH_MISMATCH");

  const noProof = await runSfs(["verify", file, "--proof", `${file}.nope`, "--json"], home);
  assert.equal(noProof.code, 1, noProof.stderr);
  assert.equal(errorOf(noProof).code, "NOT_FOUND");
});
