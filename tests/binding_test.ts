/**
 * `sfs get ID` must fetch the file with that id and no other: the server resolves a 32-hex query
 * by id only (never by a name that happens to spell the id), and the client refuses a listing
 * that does not answer its query, however validly signed, so a compromised index cannot hand it
 * another file or another owner's file.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Bytes, fromHex, toHex } from "../src/crypto/bytes.ts";
import { formatFingerprint } from "../src/crypto/identity.ts";
import { SfsError } from "../src/errors.ts";
import { type FileAnnouncement, signAnnouncement } from "../src/index/protocol/announcement.ts";
import { respond } from "../src/wire/handshake.ts";
import { fileIdOf } from "../src/crypto/file_id.ts";
import { MessageType } from "../src/wire/messages.ts";
import { type WireListing } from "../src/wire/index_messages.ts";
import { randomFile, tempDir } from "./harness.ts";
import { testHome, testIdentity } from "./identities.ts";
import { serveLoopback } from "./loopback_server.ts";
import {
  assertFails,
  connectClient,
  PASSWORD,
  seedServerIdentity,
  sfs,
  startServer,
} from "./index_fixture.ts";
import { listTree, readyOf, startSender } from "./peers.ts";

/** An announcement of `fields.name` by the named test user, signed with their keys. */
async function announcementBy(
  user: string,
  fields: { name: string; size: number; sha256: Bytes; address: string },
): Promise<{ listing: WireListing; announcement: FileAnnouncement }> {
  const identity = await testIdentity(user);
  const announcement: FileAnnouncement = {
    fileId: await fileIdOf(identity.public.fingerprint, fields.sha256, fields.name),
    owner: user,
    ownerFingerprint: identity.public.fingerprint,
    name: fields.name,
    size: fields.size,
    sha256: fields.sha256,
    keywords: [],
    recipients: [],
    address: fields.address,
    createdAt: Date.now(),
  };
  const signed = await signAnnouncement(identity, announcement);
  return {
    announcement,
    listing: {
      announcement: signed.bytes,
      signatures: signed.signatures,
      ownerIdentity: identity.public.encoded,
      online: true,
      lastSeen: Date.now(),
    },
  };
}

Deno.test("sfs server resolves a file id by id only, never by a name spelling that id", async () => {
  await using dir = await tempDir();
  await seedServerIdentity(join(dir.path, "server"));
  await using server = await startServer(join(dir.path, "server"));
  // The id bob will ask for: alice's file, which is not (or no longer) on the index.
  const alice = await testIdentity("alice");
  const wanted = toHex(await fileIdOf(alice.public.fingerprint, new Uint8Array(32), "a.txt"));
  // mallory publishes a file whose *name* is that id.
  const publisher = await connectClient(server, "mallory");
  let mallorysId: string;
  try {
    await publisher.register("mallory", PASSWORD);
    const { listing, announcement } = await announcementBy("mallory", {
      name: wanted,
      size: 1,
      sha256: new Uint8Array(32).fill(7),
      address: "127.0.0.1:9",
    });
    await publisher.announce({ bytes: listing.announcement, signatures: listing.signatures });
    mallorysId = toHex(announcement.fileId);
  } finally {
    publisher.close();
  }
  const bob = await connectClient(server, "bob");
  try {
    assert.deepEqual(await bob.resolve(wanted), [], "no listing has the id: nothing");
    assert.deepEqual(await bob.resolve(wanted.toUpperCase()), [], "nor in upper case");
    // The control: the same listing is found by its own id.
    assert.equal((await bob.resolve(mallorysId)).length, 1);
  } finally {
    bob.close();
  }
});

Deno.test("sfs get refuses a validly signed listing of another file from a lying index", async (t) => {
  await using dir = await tempDir();
  const bob = await testHome(dir.path, "bob");
  const mallory = await testHome(dir.path, "mallory");
  // mallory really serves evil.sh, so a receiver that accepted her listing would download it.
  const evil = join(dir.path, "evil.sh");
  await randomFile(evil, 4321);
  await using sender = startSender(mallory, evil);
  const ready = await readyOf(sender);
  const mallorys = await announcementBy("mallory", {
    name: "evil.sh",
    size: ready.size,
    sha256: fromHex(ready.sha256)!,
    address: `127.0.0.1:${ready.port}`,
  });
  assert.equal(toHex(mallorys.announcement.fileId), ready.id, "the file mallory serves");
  await using index = await startLyingIndex([mallorys.listing]);
  const alice = await testIdentity("alice");
  const wanted = toHex(await fileIdOf(alice.public.fingerprint, new Uint8Array(32), "a.txt"));

  const cases: Array<[string, string]> = [
    ["asked by id, answered with another id", wanted],
    ["asked by name, answered with another name", "report.pdf"],
  ];
  const getThroughIndex = (query: string, out: string) =>
    sfs(bob, [
      "get",
      query,
      "--server",
      index.address,
      "--server-fingerprint",
      index.fingerprint,
      "--yes",
      "--out",
      out,
      "--json",
    ]);
  let n = 0;
  for (const [what, query] of cases) {
    await t.step(what, async () => {
      const out = join(dir.path, `out-${n++}`);
      assertFails(await getThroughIndex(query, out), "LISTING_MISMATCH", 3);
      assert.deepEqual(await listTree(out), [], "nothing downloaded");
    });
  }
  await t.step("asked for the id the listing has: the control downloads it", async () => {
    const out = join(dir.path, "out-control");
    const result = await getThroughIndex(ready.id, out);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(await listTree(out), ["evil.sh", "evil.sh.sfs-proof"]);
  });
});

/** An index that answers every RESOLVE with `listings`, whatever was asked. */
async function startLyingIndex(
  listings: WireListing[],
): Promise<AsyncDisposable & { address: string; fingerprint: string }> {
  const identity = await testIdentity("server");
  const serve = async (conn: Deno.Conn): Promise<void> => {
    const channel = await respond(conn, identity, { idleTimeoutMs: 10_000 });
    try {
      for (;;) {
        const request = await channel.receive();
        if (request.type !== MessageType.RESOLVE) {
          await channel.fail(new SfsError("REFUSED", "This index only resolves"));
          return;
        }
        await channel.send({ type: MessageType.LISTINGS, listings });
      }
    } finally {
      channel.close();
    }
  };
  const server = serveLoopback(serve);
  return {
    address: `127.0.0.1:${server.port}`,
    fingerprint: formatFingerprint(identity.public.fingerprint),
    [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
  };
}
