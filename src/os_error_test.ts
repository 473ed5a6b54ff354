import assert from "node:assert/strict";
import { join } from "node:path";
import { type ErrorCode, SfsError } from "./errors.ts";
import { fromFolderError, fromOsError } from "./os_error.ts";

/** The error a real syscall throws, or fails the test if it succeeds. */
async function thrownBy(syscall: () => Promise<unknown>): Promise<unknown> {
  try {
    await syscall();
  } catch (err) {
    return err;
  }
  throw new Error("The syscall was expected to fail");
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sfs-os-error-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("fromOsError() gives errors from real syscalls their own codes and hints", async (t) => {
  await withTempDir(async (dir) => {
    const file = join(dir, "file");
    await Deno.writeTextFile(file, "x");
    const cases: Array<[string, () => Promise<unknown>, ErrorCode]> = [
      [
        "a path under a regular file",
        () => Deno.open(join(file, "x"), { write: true, create: true }),
        "NOT_A_FOLDER",
      ],
      ["a folder opened for writing", () => Deno.open(dir, { write: true }), "IS_A_FOLDER"],
      ["a missing file", () => Deno.readFile(join(dir, "missing")), "NOT_FOUND"],
      ["a file created twice", () => Deno.open(file, { write: true, createNew: true }), "EXISTS"],
    ];
    // ENOSPC and EROFS need a full or read-only file system: tests/receive_errors_test.ts mounts
    // real ones where it may (Deno refuses /dev/full without --allow-all).
    for (const [what, syscall, code] of cases) {
      await t.step(`${what}: ${code}`, async () => {
        const err = await thrownBy(syscall);
        const e = fromOsError(err);
        assert.equal(e?.code, code);
        assert.equal(e?.cause, err);
        if (code !== "NOT_FOUND" && code !== "EXISTS") assert.ok(e?.hint, "a hint");
      });
    }
  });
});

Deno.test("fromOsError() refines an IO SfsError by the real OS error behind it", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "file");
    await Deno.writeTextFile(file, "x");
    const cause = await thrownBy(() =>
      Deno.readDir(join(file, "sub"))[Symbol.asyncIterator]().next()
    );
    const wrapped = new SfsError("IO", `Cannot read "${file}/sub"`, { cause });
    const refined = fromOsError(wrapped);
    assert.equal(refined?.code, "NOT_A_FOLDER");
    assert.equal(refined?.message, wrapped.message);
    assert.equal(refined?.cause, cause);
  });
});

Deno.test("fromOsError() passes other SfsErrors through and knows nothing else", () => {
  const plainIo = new SfsError("IO", "Shrank", { cause: new Error("no errno") });
  assert.equal(fromOsError(plainIo), plainIo);
  const other = new SfsError("EXISTS", "There");
  assert.equal(fromOsError(other), other);
  assert.equal(fromOsError(new Error("not from the OS")), undefined);
  assert.equal(fromOsError(Object.assign(new Error("x"), { code: "constructor" })), undefined);
});

Deno.test("fromFolderError() tells a folder that is a file from one that exists", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "file");
    await Deno.writeTextFile(file, "x");
    // mkdir of a path that is a file fails with EEXIST, which alone reads as "already exists".
    const err = await thrownBy(() => Deno.mkdir(file, { recursive: true }));
    assert.equal((await fromFolderError(err, file))?.code, "NOT_A_FOLDER");
    const exists = await thrownBy(() => Deno.mkdir(dir));
    assert.equal((await fromFolderError(exists, dir))?.code, "EXISTS");
  });
});
