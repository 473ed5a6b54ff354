import assert from "node:assert/strict";
import { isSfsError } from "../errors.ts";
import { testIdentity } from "../../tests/identities.ts";
import { makeProof } from "../../tests/proof_fixture.ts";
import { encodeProof, PROOF_SUFFIX, proofEntries, verifyWithProof } from "./proof.ts";
import {
  encodeManifestEntry,
  encodeManifestHeader,
  type ManifestEntry,
  ManifestHasher,
  signManifest,
} from "./manifest.ts";

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

Deno.test("proofEntries() holds no page of entries while they are taken one by one", async () => {
  // Issue 11: a receiver takes a file per entry of its part folder's manifest. Each page's entries
  // were copied into an array each and decoded into one array, held until the last was taken:
  // native memory that outlived the young generation, ~10 MB for 40,000 entries of ~200 bytes.
  const identity = await testIdentity("alice");
  const folder = `folder-${"x".repeat(150)}`;
  const entries: ManifestEntry[] = [
    {
      path: folder,
      kind: "folder",
      executable: false,
      size: 0,
      mtime: 0,
      sha256: new Uint8Array(32),
    },
  ];
  for (let i = 0; i < 40_000; i++) {
    entries.push({
      path: `${folder}/file-${String(i).padStart(6, "0")}`,
      kind: "file",
      executable: false,
      size: 1,
      mtime: i,
      sha256: new Uint8Array(32).fill(i & 0xff),
    });
  }
  const headerBytes = encodeManifestHeader({
    ownerFingerprint: identity.public.fingerprint,
    name: "share",
    root: "folder",
    createdAt: 1,
    entryCount: entries.length,
    totalBytes: 40_000,
  });
  const encoded = entries.map(encodeManifestEntry);
  const hasher = new ManifestHasher(headerBytes);
  for (const bytes of encoded) hasher.update(bytes);
  const signatures = await signManifest(identity, hasher.digest());
  const dir = await Deno.makeTempDir({ prefix: "sfs-proof-entries-" });
  try {
    const path = `${dir}/share${PROOF_SUFFIX}`;
    await Deno.writeFile(
      path,
      encodeProof(identity.public.encoded, signatures, headerBytes, encoded),
    );
    encoded.length = 0;
    entries.length = 1;
    const before = Deno.memoryUsage().external;
    let most = before;
    let taken = 0;
    for await (const entry of proofEntries(path)) {
      taken++;
      assert.equal(entry.kind === "file" ? entry.mtime : 0, Math.max(0, taken - 2));
      if (taken % 100 === 0) most = Math.max(most, Deno.memoryUsage().external);
    }
    assert.equal(taken, 40_001);
    const grew = most - before;
    assert.ok(grew < 4 * 1024 * 1024, `external memory grew by ${grew} bytes`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
