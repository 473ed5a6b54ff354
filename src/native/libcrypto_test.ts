/** The libcrypto loader: which files it may load, the version gate, SFS_CRYPTO, the flags. */
import assert from "node:assert/strict";
import { isSfsError } from "../errors.ts";
import {
  allLibcryptoPaths,
  backendChoice,
  chooseAeadBackend,
  LIBCRYPTO_PATHS,
  LIGHT_JOB_BYTES,
  loadLibcrypto,
  parseCryptoSetting,
  versionOf,
} from "./libcrypto.ts";
import { NO_OPENSSL, openssl } from "./test_backends.ts";

Deno.test("LIBCRYPTO_PATHS names only full paths of a libcrypto 3, never an unversioned one", () => {
  for (const path of LIBCRYPTO_PATHS.linux) assert.match(path, /^\/[^,]*\/libcrypto\.so\.3$/);
  // /usr/lib/libcrypto.dylib on macOS is LibreSSL's stub that aborts the process when loaded.
  for (const path of LIBCRYPTO_PATHS.darwin) assert.match(path, /^\/[^,]*\/libcrypto\.3\.dylib$/);
  for (const path of LIBCRYPTO_PATHS.windows) {
    assert.match(path, /^C:\\[^,]*\\libcrypto-3-x64\.dll$/);
  }
});

Deno.test("versionOf() accepts OpenSSL 3 only", () => {
  assert.equal(versionOf(0x30000130), "OpenSSL 3.0.19");
  assert.equal(versionOf(0x30500010), "OpenSSL 3.5.1");
  assert.equal(versionOf(0x1010117f), undefined); // OpenSSL 1.1.1w
  assert.equal(versionOf(0x20000000), undefined); // LibreSSL reports 2.0.0
  assert.equal(versionOf(0x40000000), undefined); // a future major: not checked yet
  assert.equal(versionOf(0), undefined);
});

Deno.test("loadLibcrypto() skips paths it may not load, without prompting", () => {
  // Not in --allow-ffi: refused by the permission query before any dlopen.
  assert.equal(loadLibcrypto(["/nonexistent/libcrypto.so.3", "libcrypto.so.3"]), undefined);
  assert.equal(loadLibcrypto([]), undefined);
});

Deno.test({
  name: "loadLibcrypto() loads OpenSSL 3 from the table where the OS has one",
  ignore: NO_OPENSSL,
  fn: () => {
    openssl();
    const loaded = loadLibcrypto();
    assert.ok(loaded);
    assert.ok(allLibcryptoPaths().includes(loaded.path));
    assert.match(loaded.version, /^OpenSSL 3\.\d+\.\d+$/);
    assert.equal(loaded.aead.name, "openssl");
  },
});

Deno.test("parseCryptoSetting() reads SFS_CRYPTO strictly", () => {
  assert.equal(parseCryptoSetting(undefined), "auto");
  assert.equal(parseCryptoSetting(""), "auto");
  assert.equal(parseCryptoSetting("auto"), "auto");
  assert.equal(parseCryptoSetting("openssl"), "openssl");
  assert.equal(parseCryptoSetting("webcrypto"), "webcrypto");
  for (const bad of ["WebCrypto", "ssl", "webcrypto ", "none"]) {
    assert.throws(() => parseCryptoSetting(bad), (err) => isSfsError(err, "USAGE"), bad);
  }
});

Deno.test("chooseAeadBackend() falls back quietly, unless OpenSSL is demanded", () => {
  const missing = () => undefined;
  assert.equal(chooseAeadBackend("auto", missing).backend.name, "webcrypto");
  assert.equal(chooseAeadBackend("webcrypto").backend.name, "webcrypto");
  assert.throws(() => chooseAeadBackend("openssl", missing), (err) => isSfsError(err, "USAGE"));
  const loaded = () => FAKE_LIBCRYPTO;
  assert.equal(chooseAeadBackend("auto", loaded).backend, FAKE_OPENSSL);
  assert.equal(chooseAeadBackend("openssl", loaded).backend, FAKE_OPENSSL);
  // The override wins even where OpenSSL would load.
  assert.equal(chooseAeadBackend("webcrypto", loaded).backend.name, "webcrypto");
});

Deno.test("backendChoice() keeps a small job off a library not loaded yet, under auto only", () => {
  let loads = 0;
  const loaded = () => {
    loads++;
    return FAKE_LIBCRYPTO;
  };
  const small = { bytes: LIGHT_JOB_BYTES - 1 };
  const auto = backendChoice("auto", loaded);
  assert.equal(auto.choose(small).name, "webcrypto");
  assert.equal(auto.choose({}), FAKE_OPENSSL); // no size said: not small
  assert.equal(loads, 1);
  // Loaded once, the library serves small jobs too: it costs nothing more.
  assert.equal(auto.choose(small), FAKE_OPENSSL);
  assert.equal(auto.choose({ bytes: LIGHT_JOB_BYTES }), FAKE_OPENSSL);
  assert.equal(loads, 1);

  const fresh = backendChoice("auto", loaded);
  assert.equal(fresh.choose({ bytes: LIGHT_JOB_BYTES }), FAKE_OPENSSL);
  // SFS_CRYPTO=openssl is what runs, whatever the size; it loads before any key.
  const demanded = backendChoice("openssl", loaded);
  assert.equal(loads, 3);
  assert.equal(demanded.choose(small), FAKE_OPENSSL);
  assert.equal(backendChoice("webcrypto", loaded).choose({}).name, "webcrypto");
});

Deno.test("backendChoice() keeps a light job (a transfer's records) off a library not loaded yet", () => {
  let loads = 0;
  const loaded = () => {
    loads++;
    return FAKE_LIBCRYPTO;
  };
  const auto = backendChoice("auto", loaded);
  assert.equal(auto.choose({ light: true }).name, "webcrypto");
  assert.equal(loads, 0);
  assert.equal(auto.choose({ bytes: LIGHT_JOB_BYTES }), FAKE_OPENSSL);
  assert.equal(auto.choose({ light: true }), FAKE_OPENSSL);
  assert.equal(loads, 1);
  assert.equal(backendChoice("openssl", loaded).choose({ light: true }), FAKE_OPENSSL);
});

/** Stands for a loaded library in the choice logic only; it is never asked to seal. */
const FAKE_OPENSSL = {
  name: "openssl",
  description: "test",
  importKey: () => Promise.reject(new Error("not for sealing")),
} as const;

Deno.test("deno.json grants --allow-ffi for exactly the libcrypto paths, never unscoped", async () => {
  const config = JSON.parse(
    await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
  ) as { tasks: Record<string, string> };
  const expected = `"--allow-ffi=${allLibcryptoPaths().join(",")}"`;
  for (const task of ["sfs", "test", "demo", "bench", "bench:smoke", "bench:aead"]) {
    assert.ok(config.tasks[task].includes(` ${expected} `), `task "${task}" lacks ${expected}`);
  }
  for (const [name, task] of Object.entries(config.tasks)) {
    assert.doesNotMatch(task, /--allow-ffi(\s|$)|--allow-all|\s-A\s/, `task "${name}"`);
    const grants = task.match(/--allow-ffi=[^"\s]*/g) ?? [];
    assert.ok(grants.length <= 1, `task "${name}" has ${grants.length} --allow-ffi flags`);
  }
});

/** A loaded library for the choice logic only: it is never asked to seal or hash. */
const FAKE_LIBCRYPTO = {
  path: "/x",
  version: "OpenSSL 3.0.0",
  aead: FAKE_OPENSSL,
  sha256: () => {
    throw new Error("not for hashing");
  },
};
