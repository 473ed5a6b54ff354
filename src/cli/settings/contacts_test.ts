import assert from "node:assert/strict";
import { join } from "node:path";
import { formatFingerprint } from "../../crypto/identity.ts";
import { type ErrorCode, isSfsError } from "../../errors.ts";
import { CONTACTS_FILE, pinContact, readContacts } from "./contacts.ts";

function code(expected: ErrorCode): (err: unknown) => boolean {
  return (err) => isSfsError(err, expected);
}

const ALICE = new Uint8Array(32).fill(0xa1);
const MALLORY = new Uint8Array(32).fill(0x66);

Deno.test("pinContact() pins a name once and refuses another key for it", async () => {
  const home = await Deno.makeTempDir();
  try {
    assert.deepEqual(await readContacts(home), []);
    assert.equal(await pinContact(home, "Alice", ALICE, "127.0.0.1:7"), true);
    assert.equal(await pinContact(home, "alice", ALICE, "127.0.0.1:7"), false);
    await assert.rejects(pinContact(home, "alice", MALLORY, "127.0.0.1:7"), code("KEY_MISMATCH"));
    assert.deepEqual(await readContacts(home), [
      { name: "alice", fingerprint: formatFingerprint(ALICE), server: "127.0.0.1:7" },
    ]);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("pinContact() refuses a name that is not a valid username", async () => {
  const home = await Deno.makeTempDir();
  try {
    await assert.rejects(pinContact(home, "bob smith", ALICE, "127.0.0.1:7"), code("USAGE"));
    await assert.rejects(pinContact(home, "\u202eevil", ALICE, "127.0.0.1:7"), code("USAGE"));
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("readContacts() refuses a malformed file", async () => {
  const home = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(home, CONTACTS_FILE), '{"version":1,"contacts":{"a":3}}');
    await assert.rejects(readContacts(home), code("USAGE"));
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
