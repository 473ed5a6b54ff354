import assert from "node:assert/strict";
import { isSfsError } from "../errors.ts";
import { testIdentity } from "../../tests/identities.ts";
import { makeProof } from "../../tests/proof_fixture.ts";
import { PROOF_SUFFIX, verifyWithProof } from "./proof.ts";

/** The owner: a test identity, made once per run (RSA-3072 keygen takes ~1.5 s). */
const ownerIdentity = () => testIdentity("alice");

/** A temporary folder, removed when the test's `using` scope ends. */
function tempDir(): { path: string } & Disposable {
  const path = Deno.makeTempDirSync({ prefix: "sfs-proof-" });
  return { path, [Symbol.dispose]: () => Deno.removeSync(path, { recursive: true }) };
}

/** A small tree: nested and empty folders, an executable, an empty file, a non-ASCII name. */
async function makeTree(root: string): Promise<void> {
  await Deno.mkdir(`${root}/docs/empty`, { recursive: true });
  await Deno.writeTextFile(`${root}/docs/r\u00e9sum\u00e9.txt`, "curriculum");
  await Deno.writeTextFile(`${root}/run.sh`, "#!/bin/sh\n", { mode: 0o755 });
  await Deno.writeFile(`${root}/empty`, new Uint8Array());
}

const problems = (check: { differences: readonly { path: string; problem: string }[] }) =>
  check.differences.map((d) => `${d.problem} ${d.path}`);

Deno.test("verifyWithProof() passes an intact file and names who signed it", async () => {
  using dir = tempDir();
  const identity = await ownerIdentity();
  const file = `${dir.path}/report.pdf`;
  await Deno.writeTextFile(file, "the report");
  await makeProof(identity, file);
  const check = await verifyWithProof(file, file + PROOF_SUFFIX, {
    expectedOwner: identity.public.fingerprint,
  });
  assert.equal(check.differenceCount, 0);
  assert.deepEqual(check.owner.fingerprint, identity.public.fingerprint);
  assert.equal(check.header.name, "report.pdf");
  assert.equal(check.header.root, "file");
});

Deno.test("verifyWithProof() finds a file changed after it was received", async () => {
  using dir = tempDir();
  const file = `${dir.path}/report.pdf`;
  await Deno.writeTextFile(file, "the report");
  await makeProof(await ownerIdentity(), file);
  await Deno.writeTextFile(file, "the rep0rt");
  assert.deepEqual(problems(await verifyWithProof(file, file + PROOF_SUFFIX)), [
    "content report.pdf",
  ]);
  await Deno.writeTextFile(file, "short");
  assert.deepEqual(problems(await verifyWithProof(file, file + PROOF_SUFFIX)), [
    "size report.pdf",
  ]);
});

Deno.test("verifyWithProof() passes an intact tree and lists every change to a modified one", async () => {
  using dir = tempDir();
  using outside = tempDir();
  const root = `${dir.path}/share`;
  await makeTree(root);
  await makeProof(await ownerIdentity(), root);
  const proof = root + PROOF_SUFFIX;
  const intact = await verifyWithProof(root, proof);
  assert.equal(intact.differenceCount, 0);
  assert.equal(intact.header.entryCount, 5);

  await Deno.writeTextFile(`${root}/docs/r\u00e9sum\u00e9.txt`, "curriculux");
  await Deno.remove(`${root}/docs/empty`);
  await Deno.writeTextFile(`${root}/docs/added.txt`, "new");
  await Deno.remove(`${root}/empty`);
  await Deno.mkdir(`${root}/empty`);
  await Deno.writeTextFile(`${outside.path}/secret`, "s");
  await Deno.symlink(`${outside.path}/secret`, `${root}/link`);
  await Deno.chmod(`${root}/run.sh`, 0o644);
  const check = await verifyWithProof(root, proof);
  assert.deepEqual(problems(check), [
    "extra docs/added.txt",
    "missing docs/empty",
    "content docs/r\u00e9sum\u00e9.txt",
    "type empty",
    "skipped (symlink)",
  ]);
  assert.equal(check.differenceCount, 5);
  assert.deepEqual(check.notes.map((n) => `${n.problem} ${n.path}`), ["executable run.sh"]);
});

Deno.test("verifyWithProof() refuses a proof signed by someone else", async () => {
  using dir = tempDir();
  const file = `${dir.path}/a.txt`;
  await Deno.writeTextFile(file, "a");
  await makeProof(await ownerIdentity(), file);
  await assert.rejects(
    verifyWithProof(file, file + PROOF_SUFFIX, { expectedOwner: new Uint8Array(32) }),
    (err) => isSfsError(err, "KEY_MISMATCH"),
  );
});

Deno.test("verifyWithProof() refuses a tampered or malformed proof", async (t) => {
  using dir = tempDir();
  const root = `${dir.path}/share`;
  await makeTree(root);
  await makeProof(await ownerIdentity(), root);
  const proof = root + PROOF_SUFFIX;
  const good = await Deno.readFile(proof);
  const cases: Array<[string, string, Uint8Array]> = [
    // The last 32 bytes are the last entry's SHA-256: a proof claiming other content.
    ["another hash in an entry", "BAD_SIGNATURE", good.with(good.length - 1, good.at(-1)! ^ 1)],
    ["a cut proof", "BAD_MESSAGE", good.subarray(0, good.length - 1)],
    ["a byte after the last entry", "BAD_MESSAGE", Uint8Array.of(...good, 0)],
    ["another file type", "BAD_MESSAGE", new TextEncoder().encode("%PDF-1.7\n")],
    ["another version", "BAD_MESSAGE", good.with(10, 2)],
  ];
  for (const [name, code, bytes] of cases) {
    await t.step(name, async () => {
      await Deno.writeFile(proof, bytes);
      await assert.rejects(
        verifyWithProof(root, proof),
        (err) => isSfsError(err, code as "BAD_MESSAGE"),
      );
    });
  }
});
