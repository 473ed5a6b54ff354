import assert from "node:assert/strict";
import { codeInfo, ErrorCode } from "./errors.ts";
import { exitCodeFor } from "./cli/output.ts";

type Property = "resumable" | "fatal-to-connection" | "unanswerable" | "permanent";

/**
 * What each code means today, written out by hand: the exit status `sfs` ends with, and the
 * properties the layers above decide on. Typed by code, so a new code needs a row here too.
 */
const EXPECTED: { readonly [C in ErrorCode]: readonly [number, readonly Property[]] } = {
  USAGE: [2, ["permanent"]],
  BAD_TICKET: [2, []],
  BAD_CODE: [1, []],
  BAD_FINGERPRINT: [1, []],
  NOT_FOUND: [1, []],
  FILE_CHANGED: [1, []],
  EXISTS: [1, []],
  ALREADY_REGISTERED: [1, []],
  UNSAFE_NAME: [1, []],
  NAME_COLLISION: [1, []],
  TREE_LIMIT: [1, []],
  IO: [1, ["resumable"]],
  NO_SPACE: [1, ["resumable"]],
  READ_ONLY: [1, []],
  NOT_A_FOLDER: [1, []],
  IS_A_FOLDER: [1, []],
  PERMISSION_DENIED: [1, []],
  INTERRUPTED: [130, []],
  NO_IDENTITY: [1, []],
  BAD_IDENTITY: [1, []],
  BAD_PASSPHRASE: [1, []],
  BAD_KEY: [1, []],
  KEY_MISMATCH: [3, ["permanent"]],
  FRAME_TOO_LARGE: [1, ["fatal-to-connection"]],
  BAD_FRAME: [1, ["fatal-to-connection"]],
  BAD_MESSAGE: [1, ["fatal-to-connection"]],
  UNEXPECTED_MESSAGE: [1, ["fatal-to-connection", "unanswerable"]],
  VERSION_MISMATCH: [1, []],
  TIMEOUT: [4, ["resumable", "fatal-to-connection"]],
  CONNECTION_CLOSED: [4, ["resumable", "fatal-to-connection", "unanswerable"]],
  CONNECTION_FAILED: [4, []],
  BUSY: [1, []],
  BAD_SIGNATURE: [3, ["permanent"]],
  DECRYPT_FAILED: [3, ["resumable", "fatal-to-connection"]],
  CHUNK_AUTH_FAILED: [3, ["resumable"]],
  TRUNCATED: [3, ["resumable"]],
  TRAILING_DATA: [3, []],
  SIZE_MISMATCH: [3, []],
  HASH_MISMATCH: [3, []],
  LISTING_MISMATCH: [3, []],
  MANIFEST_MISMATCH: [3, []],
  PAKE_FAILED: [3, []],
  REFUSED: [1, ["permanent"]],
  REMOTE_ERROR: [1, []],
  AUTH_FAILED: [1, ["permanent"]],
  RATE_LIMITED: [1, []],
  QUOTA_EXCEEDED: [1, []],
  WITHDRAWN: [1, []],
  RELAY_OFF: [1, ["permanent"]],
  CODE_UNKNOWN: [1, []],
  CODE_EXPIRED: [1, []],
  CODES_OFF: [1, ["permanent"]],
  INTERNAL: [1, []],
};

Deno.test("exitCodeFor() gives every code its exit status", async (t) => {
  for (const code of Object.values(ErrorCode)) {
    await t.step(code, () => assert.equal(exitCodeFor(code), EXPECTED[code][0]));
  }
});

Deno.test("codeInfo() gives every code the properties its handlers decide on", async (t) => {
  for (const code of Object.values(ErrorCode)) {
    await t.step(code, () => {
      const info = codeInfo(code);
      const has = (p: Property) => EXPECTED[code][1].includes(p);
      assert.equal(info.resumable, has("resumable"), "resumable");
      assert.equal(info.fatalToConnection, has("fatal-to-connection"), "fatal-to-connection");
      assert.equal(info.unanswerable, has("unanswerable"), "unanswerable");
      assert.equal(info.permanent, has("permanent"), "permanent");
      assert.ok(info.wireText.length > 0, "wire text");
    });
  }
});
