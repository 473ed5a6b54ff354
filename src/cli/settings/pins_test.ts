import assert from "node:assert/strict";
import { join } from "node:path";
import { type ErrorCode, isSfsError } from "../../errors.ts";
import { formatFingerprint } from "../../crypto/identity.ts";
import { Output } from "../output.ts";
import { KNOWN_SERVERS_FILE, KNOWN_USERS_FILE, pinServer, trustServer, trustUser } from "./pins.ts";

const FP_A = new Uint8Array(32).fill(1);
const FP_B = new Uint8Array(32).fill(2);
const SERVER = "192.0.2.1:9999";

function code(expected: ErrorCode): (err: unknown) => boolean {
  return (err) => isSfsError(err, expected);
}

function output() {
  let stderr = "";
  const sink = (append: (t: string) => void) => ({
    writeSync(p: Uint8Array) {
      append(new TextDecoder().decode(p));
      return p.length;
    },
  });
  const out = new Output({
    json: false,
    quiet: true,
    debug: false,
    stdout: sink(() => {}),
    stderr: sink((t) => stderr += t),
  });
  return { out, stderr: () => stderr };
}

async function withHome(fn: (home: string) => Promise<void>): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "sfs-pins-test-" });
  try {
    await fn(home);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test("trustServer() accepts a new key only when the person agrees", async (t) => {
  await withHome(async (home) => {
    const { out } = output();
    const never = () => Promise.resolve(false);
    await t.step("nobody to ask: USAGE", async () => {
      await assert.rejects(trustServer(home, SERVER, FP_A, { out, ask: never }), code("USAGE"));
    });
    await t.step("--yes", async () => {
      assert.equal(await trustServer(home, SERVER, FP_A, { out, yes: true, ask: never }), true);
    });
    await t.step("a matching --server-fingerprint", async () => {
      const expected = formatFingerprint(FP_A);
      assert.equal(await trustServer(home, SERVER, FP_A, { out, expected, ask: never }), true);
    });
    await t.step("a different --server-fingerprint: KEY_MISMATCH", async () => {
      const expected = formatFingerprint(FP_B);
      await assert.rejects(
        trustServer(home, SERVER, FP_A, { out, expected, yes: true }),
        code("KEY_MISMATCH"),
      );
    });
    await t.step("a yes on the prompt", async () => {
      assert.equal(
        await trustServer(home, SERVER, FP_A, { out, ask: () => Promise.resolve(true) }),
        true,
      );
    });
  });
});

Deno.test("trustServer() refuses a changed key even with --yes, and warns with both keys", async () => {
  await withHome(async (home) => {
    const { out, stderr } = output();
    await pinServer(home, SERVER, FP_A);
    assert.equal(await trustServer(home, SERVER, FP_A, { out }), false);
    await assert.rejects(trustServer(home, SERVER, FP_B, { out, yes: true }), code("KEY_MISMATCH"));
    assert.match(stderr(), new RegExp(formatFingerprint(FP_A)));
    assert.match(stderr(), new RegExp(formatFingerprint(FP_B)));
    // Another address is another server.
    assert.equal(await trustServer(home, "192.0.2.1:1", FP_B, { out, yes: true }), true);
  });
});

Deno.test("trustServer() refuses to guess when known_servers.json is damaged", async () => {
  await withHome(async (home) => {
    await Deno.writeTextFile(join(home, KNOWN_SERVERS_FILE), "{not json");
    await assert.rejects(
      trustServer(home, SERVER, FP_A, { out: output().out, yes: true }),
      code("USAGE"),
    );
  });
});

Deno.test("trustUser() pins a first contact and refuses a changed key", async () => {
  await withHome(async (home) => {
    const { out, stderr } = output();
    const never = () => Promise.resolve(false);
    await assert.rejects(
      trustUser(home, SERVER, "alice", FP_A, { out, ask: never }),
      code("USAGE"),
    );
    await trustUser(home, SERVER, "alice", FP_A, { out, yes: true });
    await trustUser(home, SERVER, "alice", FP_A, { out, ask: never });
    await assert.rejects(
      trustUser(home, SERVER, "alice", FP_B, { out, yes: true }),
      code("KEY_MISMATCH"),
    );
    assert.match(stderr(), /HAS CHANGED/);
    // Pins are per server.
    await trustUser(home, "192.0.2.2:9999", "alice", FP_B, { out, yes: true });
  });
});

Deno.test("trustUser() pins users named like Object.prototype members", async (t) => {
  const never = () => Promise.resolve(false);
  for (const name of ["constructor", "__proto__", "hasOwnProperty", "toString"]) {
    await t.step(name, async () => {
      await withHome(async (home) => {
        const { out } = output();
        // Another pin first, so the server's entry exists when `name` is looked up in it.
        await trustUser(home, SERVER, "alice", FP_B, { out, yes: true });
        await assert.rejects(
          trustUser(home, SERVER, name, FP_A, { out, ask: never }),
          code("USAGE"),
        );
        await trustUser(home, SERVER, name, FP_A, { out, yes: true });
        // Pinned: no question asked, and a changed key is refused.
        await trustUser(home, SERVER, name, FP_A, { out, ask: never });
        await assert.rejects(
          trustUser(home, SERVER, name, FP_B, { out, yes: true }),
          code("KEY_MISMATCH"),
        );
        const file = JSON.parse(await Deno.readTextFile(join(home, KNOWN_USERS_FILE)));
        assert.ok(Object.hasOwn(file.users[SERVER], name));
        assert.equal(file.users[SERVER][name], formatFingerprint(FP_A));
        assert.equal(file.users[SERVER].alice, formatFingerprint(FP_B));
      });
    });
  }
});

Deno.test("trustServer() and trustUser() pin servers named like Object.prototype members", async () => {
  await withHome(async (home) => {
    const { out } = output();
    const never = () => Promise.resolve(false);
    for (const server of ["constructor", "__proto__"]) {
      assert.equal(await trustServer(home, server, FP_A, { out, yes: true }), true);
      await pinServer(home, server, FP_A);
      assert.equal(await trustServer(home, server, FP_A, { out, ask: never }), false);
      await trustUser(home, server, "alice", FP_A, { out, yes: true });
      await trustUser(home, server, "alice", FP_A, { out, ask: never });
    }
  });
});

Deno.test("pinServer() refuses to replace a key another process pinned meanwhile", async () => {
  await withHome(async (home) => {
    const { out } = output();
    assert.equal(await trustServer(home, SERVER, FP_B, { out, yes: true }), true);
    await pinServer(home, SERVER, FP_A); // The other process finished its handshake first.
    await assert.rejects(pinServer(home, SERVER, FP_B, { out }), code("KEY_MISMATCH"));
    await pinServer(home, SERVER, FP_A);
    assert.equal(await trustServer(home, SERVER, FP_A, { out }), false);
  });
});

Deno.test("trustUser() keeps a key pinned while its question was open", async () => {
  await withHome(async (home) => {
    const { out } = output();
    // While this process waits for an answer, another pins a different key for alice.
    const ask = async () => {
      await trustUser(home, SERVER, "alice", FP_B, { out, yes: true });
      return true;
    };
    await assert.rejects(
      trustUser(home, SERVER, "alice", FP_A, { out, ask }),
      code("KEY_MISMATCH"),
    );
    const file = JSON.parse(await Deno.readTextFile(join(home, KNOWN_USERS_FILE)));
    assert.equal(file.users[SERVER].alice, formatFingerprint(FP_B));
  });
});
