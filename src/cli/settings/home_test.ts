import assert from "node:assert/strict";
import { isSfsError } from "../../errors.ts";
import { join } from "../../path.ts";
import { type HomeProblemKind, homeProblems, resolveHome } from "./home.ts";

const envOf = (vars: Record<string, string>) => (name: string): string | undefined => vars[name];

Deno.test("resolveHome() prefers --home over SFS_HOME", async () => {
  const env = envOf({ SFS_HOME: "/from/env" });
  assert.equal(
    await resolveHome({ flag: "/from/flag", env, os: "linux", homeDir: "/h" }),
    "/from/flag",
  );
});

Deno.test("resolveHome() uses SFS_HOME on every platform", async () => {
  for (const os of ["linux", "darwin", "windows"]) {
    const env = envOf({ SFS_HOME: "/from/env", APPDATA: "C:\\AppData" });
    assert.equal(await resolveHome({ env, os, homeDir: "/h" }), "/from/env", os);
  }
});

Deno.test("resolveHome() treats empty values as unset", async () => {
  const env = envOf({ SFS_HOME: "", XDG_CONFIG_HOME: "" });
  assert.equal(
    await resolveHome({ flag: "", env, os: "linux", homeDir: "/home/a" }),
    "/home/a/.config/sfs",
  );
});

Deno.test("resolveHome() uses XDG_CONFIG_HOME on Linux", async () => {
  const env = envOf({ XDG_CONFIG_HOME: "/xdg" });
  assert.equal(await resolveHome({ env, os: "linux", homeDir: "/home/a" }), "/xdg/sfs");
});

Deno.test("resolveHome() ignores a relative XDG_CONFIG_HOME", async () => {
  const env = envOf({ XDG_CONFIG_HOME: "xdg" });
  assert.equal(await resolveHome({ env, os: "linux", homeDir: "/home/a" }), "/home/a/.config/sfs");
});

Deno.test("resolveHome() falls back to ~/.config/sfs on Linux and other Unixes", async () => {
  assert.equal(
    await resolveHome({ env: envOf({}), os: "linux", homeDir: "/home/a" }),
    "/home/a/.config/sfs",
  );
  assert.equal(
    await resolveHome({ env: envOf({}), os: "freebsd", homeDir: "/home/a" }),
    "/home/a/.config/sfs",
  );
  assert.equal(
    await resolveHome({ env: envOf({ HOME: "/home/b" }), os: "linux" }),
    "/home/b/.config/sfs",
  );
});

Deno.test("resolveHome() uses Application Support on macOS", async () => {
  const env = envOf({ XDG_CONFIG_HOME: "/xdg" });
  assert.equal(
    await resolveHome({ env, os: "darwin", homeDir: "/Users/a" }),
    "/Users/a/Library/Application Support/sfs",
  );
});

Deno.test("resolveHome() uses %APPDATA% on Windows", async () => {
  const env = envOf({ APPDATA: "C:\\Users\\a\\AppData\\Roaming" });
  assert.equal(await resolveHome({ env, os: "windows" }), "C:\\Users\\a\\AppData\\Roaming\\sfs");
});

Deno.test("resolveHome() falls back to the profile on Windows without %APPDATA%", async () => {
  const env = envOf({ USERPROFILE: "C:\\Users\\a" });
  assert.equal(await resolveHome({ env, os: "windows" }), "C:\\Users\\a\\AppData\\Roaming\\sfs");
});

Deno.test("resolveHome() throws USAGE when there is no home directory", async () => {
  await assert.rejects(
    () => resolveHome({ env: envOf({}), os: "linux", homeDir: "" }),
    (e: unknown) => isSfsError(e, "USAGE"),
  );
});

Deno.test("resolveHome() reads Deno.env and Deno.build.os by default", async () => {
  const explicit = await resolveHome({ env: (name) => Deno.env.get(name), os: Deno.build.os });
  assert.equal(await resolveHome(), explicit);
  assert.notEqual(explicit, "");
});

Deno.test("resolveHome() asks the OS only when neither the option nor the environment has a home", async () => {
  const asked: string[] = [];
  const osHomeDir = (answer: string | undefined) => () => {
    asked.push(String(answer));
    return Promise.resolve(answer);
  };
  const linux = { env: envOf({ HOME: "/home/env" }), os: "linux" };
  assert.equal(
    await resolveHome({ ...linux, osHomeDir: osHomeDir("/os") }),
    "/home/env/.config/sfs",
  );
  assert.deepEqual(asked, []);
  assert.equal(
    await resolveHome({ env: envOf({}), os: "linux", osHomeDir: osHomeDir("/os") }),
    "/os/.config/sfs",
  );
  const windows = { env: envOf({}), os: "windows", osHomeDir: osHomeDir("C:\\Users\\os") };
  assert.equal(await resolveHome(windows), "C:\\Users\\os\\AppData\\Roaming\\sfs");
  assert.deepEqual(asked, ["/os", "C:\\Users\\os"]);
  await assert.rejects(
    () => resolveHome({ env: envOf({}), os: "darwin", osHomeDir: osHomeDir(undefined) }),
    (e: unknown) => isSfsError(e, "USAGE"),
  );
});

/** A fresh private home with a 0600 identity.json; removed after `fn`. */
async function withHome(fn: (home: string, identity: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sfs-home-test-" });
  try {
    const home = join(dir, "home");
    await Deno.mkdir(home, { mode: 0o700 });
    const identity = join(home, "identity.json");
    await Deno.writeTextFile(identity, "{}", { mode: 0o600 });
    await fn(home, identity);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const kinds = (home: string): HomeProblemKind[] => homeProblems(home).map((p) => p.kind);

Deno.test({
  name: "homeProblems() reports a home or identity.json others can write, and a linked identity",
  ignore: Deno.build.os === "windows", // No Unix modes; ACLs are not checked.
  fn: async (t) => {
    await t.step("a private home and identity: none", () =>
      withHome(async (home) => {
        assert.deepEqual(kinds(home), []);
        await Deno.chmod(home, 0o755); // Readable is fine: nothing in it can be replaced.
        assert.deepEqual(kinds(home), []);
      }));
    await t.step("a missing home: none", () =>
      withHome((home) => {
        assert.deepEqual(kinds(join(home, "absent")), []);
        return Promise.resolve();
      }));
    for (const mode of [0o770, 0o707, 0o1777]) {
      await t.step(`home mode ${mode.toString(8)}`, () =>
        withHome(async (home) => {
          await Deno.chmod(home, mode);
          assert.deepEqual(kinds(home), ["HOME_WRITABLE"]);
        }));
    }
    for (const mode of [0o620, 0o602, 0o666]) {
      await t.step(`identity mode ${mode.toString(8)}`, () =>
        withHome(async (home, identity) => {
          await Deno.chmod(identity, mode);
          assert.deepEqual(kinds(home), ["IDENTITY_WRITABLE"]);
        }));
    }
    await t.step(
      "identity.json a link to a private file",
      () =>
        withHome(async (home, identity) => {
          const target = join(home, "..", "elsewhere.json");
          await Deno.rename(identity, target);
          await Deno.symlink(target, identity);
          assert.deepEqual(kinds(home), ["IDENTITY_SYMLINK"]);
          await Deno.chmod(target, 0o666); // The target is what others would write.
          assert.deepEqual(kinds(home), ["IDENTITY_SYMLINK", "IDENTITY_WRITABLE"]);
        }),
    );
    await t.step("identity.json a dangling link", () =>
      withHome(async (home, identity) => {
        await Deno.remove(identity);
        await Deno.symlink(join(home, "nowhere"), identity);
        assert.deepEqual(kinds(home), ["IDENTITY_SYMLINK"]);
      }));
  },
});
