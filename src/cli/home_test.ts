import assert from "node:assert/strict";
import { isSfsError } from "../errors.ts";
import { resolveHome } from "./home.ts";

const envOf = (vars: Record<string, string>) => (name: string): string | undefined => vars[name];

Deno.test("resolveHome() prefers --home over SFS_HOME", () => {
  const env = envOf({ SFS_HOME: "/from/env" });
  assert.equal(resolveHome({ flag: "/from/flag", env, os: "linux", homeDir: "/h" }), "/from/flag");
});

Deno.test("resolveHome() uses SFS_HOME on every platform", () => {
  for (const os of ["linux", "darwin", "windows"]) {
    const env = envOf({ SFS_HOME: "/from/env", APPDATA: "C:\\AppData" });
    assert.equal(resolveHome({ env, os, homeDir: "/h" }), "/from/env", os);
  }
});

Deno.test("resolveHome() treats empty values as unset", () => {
  const env = envOf({ SFS_HOME: "", XDG_CONFIG_HOME: "" });
  assert.equal(
    resolveHome({ flag: "", env, os: "linux", homeDir: "/home/a" }),
    "/home/a/.config/sfs",
  );
});

Deno.test("resolveHome() uses XDG_CONFIG_HOME on Linux", () => {
  const env = envOf({ XDG_CONFIG_HOME: "/xdg" });
  assert.equal(resolveHome({ env, os: "linux", homeDir: "/home/a" }), "/xdg/sfs");
});

Deno.test("resolveHome() ignores a relative XDG_CONFIG_HOME", () => {
  const env = envOf({ XDG_CONFIG_HOME: "xdg" });
  assert.equal(resolveHome({ env, os: "linux", homeDir: "/home/a" }), "/home/a/.config/sfs");
});

Deno.test("resolveHome() falls back to ~/.config/sfs on Linux and other Unixes", () => {
  assert.equal(
    resolveHome({ env: envOf({}), os: "linux", homeDir: "/home/a" }),
    "/home/a/.config/sfs",
  );
  assert.equal(
    resolveHome({ env: envOf({}), os: "freebsd", homeDir: "/home/a" }),
    "/home/a/.config/sfs",
  );
  assert.equal(
    resolveHome({ env: envOf({ HOME: "/home/b" }), os: "linux" }),
    "/home/b/.config/sfs",
  );
});

Deno.test("resolveHome() uses Application Support on macOS", () => {
  const env = envOf({ XDG_CONFIG_HOME: "/xdg" });
  assert.equal(
    resolveHome({ env, os: "darwin", homeDir: "/Users/a" }),
    "/Users/a/Library/Application Support/sfs",
  );
});

Deno.test("resolveHome() uses %APPDATA% on Windows", () => {
  const env = envOf({ APPDATA: "C:\\Users\\a\\AppData\\Roaming" });
  assert.equal(resolveHome({ env, os: "windows" }), "C:\\Users\\a\\AppData\\Roaming\\sfs");
});

Deno.test("resolveHome() falls back to the profile on Windows without %APPDATA%", () => {
  const env = envOf({ USERPROFILE: "C:\\Users\\a" });
  assert.equal(resolveHome({ env, os: "windows" }), "C:\\Users\\a\\AppData\\Roaming\\sfs");
});

Deno.test("resolveHome() throws USAGE when there is no home directory", () => {
  assert.throws(
    () => resolveHome({ env: envOf({}), os: "linux", homeDir: "" }),
    (e: unknown) => isSfsError(e, "USAGE"),
  );
});

Deno.test("resolveHome() reads Deno.env and Deno.build.os by default", () => {
  const explicit = resolveHome({ env: (name) => Deno.env.get(name), os: Deno.build.os });
  assert.equal(resolveHome(), explicit);
  assert.notEqual(explicit, "");
});
