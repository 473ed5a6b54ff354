/**
 * What the operator of a real `sfs server` sees: a log that no client can write terminal escape
 * sequences or look-alike characters into, and files at rest that only the operator can read.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { toHex } from "../src/crypto/bytes.ts";
import { isSfsError } from "../src/errors.ts";
import { parseFingerprint } from "../src/crypto/identity.ts";
import { constantTimeEqual } from "../src/crypto/bytes.ts";
import { signProof } from "../src/index/protocol/proof.ts";
import { initiate } from "../src/wire/handshake.ts";
import { MessageType } from "../src/wire/messages.ts";
import { type SfsProcess, startSfs, tempDir } from "./harness.ts";
import { testIdentity } from "./identities.ts";
import {
  eventually,
  madeUpAnnouncement,
  PASSWORD,
  seedServerIdentity,
  type ServerProcess,
  startServer,
} from "./index_fixture.ts";
import { IndexClient } from "../src/index/client/client.ts";

/** What a hostile client puts in names: an OSC title sequence, bidi, odd spaces and breaks. */
const HOSTILE_USERNAMES = [
  "x\x1b]0;pwned\x07y",
  "bob\u202egnp.exe",
  "bob\u2028root",
  "bob\u00a0admin",
  "a\x9b31mred",
];
/** A file name an announcement may carry (no C0/C1/bidi) that still must not reach a terminal raw. */
const ODD_NAME = "q3\u2028report\u00a0final\u200b\u3000é.txt";

/** Characters that must never reach the operator's terminal raw (newline ends each entry). */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Z}\p{Co}\p{Cs}\p{Cn}]/u;

/** Starts `sfs server` in text mode; resolves with its port once it says it listens. */
async function startTextServer(dir: string): Promise<{ proc: SfsProcess; port: number }> {
  await seedServerIdentity(dir);
  const proc = startSfs(["server", "--listen", "127.0.0.1:0", "--db", join(dir, "index.db")], {
    home: dir,
  });
  let port = 0;
  await eventually(
    () => {
      port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(proc.stdoutText())?.[1] ?? 0);
      return Promise.resolve(port > 0);
    },
    30_000,
    "the server listens",
  );
  return { proc, port };
}

/** Sends AUTH requests with hostile usernames on one raw channel; returns the reply codes. */
async function hostileAuths(port: number): Promise<string[]> {
  const mallory = await testIdentity("mallory");
  const codes: string[] = [];
  for (const username of HOSTILE_USERNAMES) {
    const channel = await initiate(await Deno.connect({ hostname: "127.0.0.1", port }), mallory, {
      verifyResponder: () => {},
    });
    try {
      await channel.send({
        type: MessageType.AUTH,
        username,
        proof: await signProof(mallory, channel.authHash, username, "ed25519"),
      });
      // An ERROR reply is thrown as an SfsError with its code.
      codes.push(
        await channel.receive().then(
          (reply) => `reply ${reply.type}`,
          (e) => isSfsError(e) ? e.code : String(e),
        ),
      );
    } finally {
      channel.close();
    }
  }
  return codes;
}

/** Registers alice in-process and announces a file named {@link ODD_NAME}. */
async function announceOddName(port: number, fingerprint?: string): Promise<string> {
  const alice = await testIdentity("alice");
  const client = await IndexClient.connect(
    await Deno.connect({ hostname: "127.0.0.1", port }),
    alice,
    {
      verifyServer: (s) => {
        if (fingerprint && !constantTimeEqual(s.fingerprint, parseFingerprint(fingerprint))) {
          throw new Error("Unexpected server key");
        }
      },
    },
  );
  try {
    await client.register("alice", PASSWORD);
    const { signed, fileId } = await madeUpAnnouncement(alice, { user: "alice", name: ODD_NAME });
    await client.announce(signed);
    return toHex(fileId);
  } finally {
    client.close();
  }
}

Deno.test("sfs server's text log escapes what clients send", async () => {
  await using dir = await tempDir();
  const { proc, port } = await startTextServer(join(dir.path, "server"));
  await using _ = proc;
  const codes = await hostileAuths(port);
  const id = await announceOddName(port);
  await eventually(
    () => Promise.resolve(proc.stderrText().includes(id)),
    5_000,
    "the announcement is logged",
  );
  const log = proc.stderrText();
  for (const line of log.split("\n")) {
    assert.ok(!UNSAFE.test(line.replaceAll(" ", "")), `raw in the log: ${JSON.stringify(line)}`);
  }
  const entry = log.split("\n").find((line) => line.includes(id))!;
  assert.ok(entry.includes(String.raw`q3\u2028report\u00a0final\u200b\u3000é.txt`), entry);
  // An invalid username is refused before anything is looked up or logged.
  assert.ok(!log.includes("pwned") && !log.includes("gnp"), "no hostile username is logged");
  assert.deepEqual(codes, HOSTILE_USERNAMES.map(() => "USAGE"));
});

Deno.test("sfs server's JSON log stays JSON and keeps names exact", async () => {
  await using dir = await tempDir();
  await seedServerIdentity(join(dir.path, "server"));
  await using server: ServerProcess = await startServer(join(dir.path, "server"));
  assert.deepEqual(await hostileAuths(server.port), HOSTILE_USERNAMES.map(() => "USAGE"));
  const id = await announceOddName(server.port, server.fingerprint);
  await eventually(
    () => Promise.resolve(server.proc.stdoutText().includes(id)),
    5_000,
    "the announcement is logged",
  );
  const lines = server.proc.stdoutText().split("\n").filter((line) => line !== "");
  const events = lines.map((line) => JSON.parse(line));
  assert.equal(events.find((e) => e.event === "announce" && e.id === id)?.name, ODD_NAME);
  for (const line of lines) assert.ok(!/[\p{Cc}]/u.test(line), JSON.stringify(line));
});

Deno.test("sfs server keeps its database and identity private in an existing folder", async () => {
  await using dir = await tempDir();
  const folder = join(dir.path, "server");
  // A folder anyone may read, as an operator might make it by hand.
  await Deno.mkdir(folder, { mode: 0o755 });
  await Deno.chmod(folder, 0o755);
  await using server = await startServer(folder);
  // One write, so the WAL and shared-memory files exist.
  await announceOddName(server.port, server.fingerprint);
  for (const name of ["index.db", "index.db-wal", "index.db-shm", "server-identity.json"]) {
    const mode = (await Deno.stat(join(folder, name))).mode! & 0o777;
    assert.equal(mode.toString(8), "600", name);
  }
});
