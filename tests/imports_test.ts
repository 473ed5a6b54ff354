/**
 * Keeps the import rule of the house honest (README, design): imports run one way,
 *
 *   cli → peer | index/client | index/server → index/protocol → wire → crypto → errors | text | net
 *
 * src/native/ (the FFI loader) is loaded only by main.ts, and only the `server` command loads the
 * server side, so neither `node:sqlite` nor the PostgreSQL driver (`postgres`, an npm package) is
 * ever in the graph of a client command. The test walks the
 * static import graph of main.ts and src/ (every `import … from` and `export … from`, type-only
 * ones included: they are arrows of the design even when erased). main.ts loads the light file of
 * the command argv names with a dynamic `import("…")`, and each loads its implementation the same
 * way when it runs; those arrows are followed separately to check what each command loads.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const SPECIFIER_RE =
  /(?:^|\n)\s*(?:import|export)\b[^"'`;]*?\bfrom\s*["']([^"']+)["']|(?:^|\n)\s*import\s*["']([^"']+)["']/g;
/** A dynamic `import(…)` call (not a method named `import`), capturing its argument's text. */
const DYNAMIC_IMPORT_RE = /(?:\bawait|\breturn|=>?|[(,:?;{|&])\s*import\s*\(\s*([^)]*?)\s*\)/g;
/** A plain string literal: what `deno compile` can read and include. */
const STRING_LITERAL_RE = /^(["'])([^"'`$\\]+)\1$/;

type Layer =
  | "cli"
  | "peer"
  | "index/client"
  | "index/server"
  | "index/protocol"
  | "wire"
  | "crypto"
  | "net"
  | "native"
  | "bottom";

/**
 * What each layer may import besides itself. `bottom` is src/*.ts: errors, text, fs, …; no layer
 * imports `native` (main.ts does).
 */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  "cli": [
    "peer",
    "index/client",
    "index/server",
    "index/protocol",
    "wire",
    "crypto",
    "net",
    "bottom",
  ],
  "peer": ["index/protocol", "wire", "crypto", "net", "bottom"],
  "index/client": ["index/protocol", "wire", "crypto", "net", "bottom"],
  "index/server": ["index/protocol", "wire", "crypto", "net", "bottom"],
  "index/protocol": ["wire", "crypto", "net", "bottom"],
  "wire": ["crypto", "bottom"],
  "crypto": ["bottom"],
  "net": ["bottom"],
  "native": ["crypto", "bottom"],
  "bottom": [],
};

/** The layer of a module path relative to the repository root (`src/…`). */
export function layerOf(path: string): Layer {
  const parts = path.split("/");
  if (parts[0] !== "src") throw new Error(`Not under src/: ${path}`);
  if (parts.length === 2) return "bottom";
  if (parts[1] === "index") {
    if (parts[2] === "client" || parts[2] === "server" || parts[2] === "protocol") {
      return `index/${parts[2]}`;
    }
    throw new Error(`Module outside the index's three sides: ${path}`);
  }
  if (["cli", "peer", "wire", "crypto", "net", "native"].includes(parts[1])) {
    return parts[1] as Layer;
  }
  throw new Error(`Module in no known layer: ${path}`);
}

/** The import specifiers of one module's source text. */
export function specifiersOf(source: string): string[] {
  return [...source.matchAll(SPECIFIER_RE)].map((m) => m[1] ?? m[2]);
}

/** The specifiers of one module's `import type` and `export type` lines: erased when it runs. */
const TYPE_ONLY_RE = /(?:^|\n)\s*(?:import|export)\s+type\b[^"'`;]*?\bfrom\s*["']([^"']+)["']/g;

/** The import specifiers of one module that load something when it runs (no type-only ones). */
export function runtimeSpecifiersOf(source: string): string[] {
  const typeOnly = [...source.matchAll(TYPE_ONLY_RE)].map((m) => m[1]);
  const all = specifiersOf(source);
  for (const specifier of typeOnly) all.splice(all.indexOf(specifier), 1);
  return all;
}

/**
 * The argument texts of one module's dynamic imports, string literals with their quotes (so a
 * computed specifier shows as what it is).
 */
export function dynamicImportsOf(source: string): string[] {
  return [...source.matchAll(DYNAMIC_IMPORT_RE)].map((m) => m[1]);
}

/** Resolves a relative specifier against the importing module's path; others stay as they are. */
function resolve(from: string, specifier: string): string {
  if (!specifier.startsWith(".")) return specifier;
  const parts = from.split("/").slice(0, -1);
  for (const part of specifier.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== ".") parts.push(part);
  }
  return parts.join("/");
}

/** main.ts and every non-test module under src/, each with its source text. */
async function sources(): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  async function walk(dir: string): Promise<void> {
    for await (const entry of Deno.readDir(new URL(`${dir}/`, ROOT))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (path.endsWith(".ts") && !path.endsWith("_test.ts")) {
        found.set(path, await Deno.readTextFile(new URL(path, ROOT)));
      }
    }
  }
  found.set("main.ts", await Deno.readTextFile(new URL("main.ts", ROOT)));
  await walk("src");
  return found;
}

/** Every module under scripts/ (tests included) with its resolved static imports. */
async function scriptsGraph(): Promise<Map<string, string[]>> {
  const modules = new Map<string, string[]>();
  async function walk(dir: string): Promise<void> {
    for await (const entry of Deno.readDir(new URL(`${dir}/`, ROOT))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (path.endsWith(".ts")) {
        const source = await Deno.readTextFile(new URL(path, ROOT));
        modules.set(path, specifiersOf(source).map((s) => resolve(path, s)));
      }
    }
  }
  await walk("scripts");
  return modules;
}

/** Every module of {@link sources} with its resolved static imports. */
async function graph(): Promise<Map<string, string[]>> {
  const modules = new Map<string, string[]>();
  for (const [path, source] of await sources()) {
    modules.set(path, specifiersOf(source).map((s) => resolve(path, s)));
  }
  return modules;
}

/** Every module of {@link sources} with the static imports it loads when it runs. */
async function runtimeGraph(): Promise<Map<string, string[]>> {
  const modules = new Map<string, string[]>();
  for (const [path, source] of await sources()) {
    modules.set(path, runtimeSpecifiersOf(source).map((s) => resolve(path, s)));
  }
  return modules;
}

/** Every module of {@link sources} with its dynamic imports, resolved when they are literals. */
async function lazyGraph(): Promise<Map<string, string[]>> {
  const modules = new Map<string, string[]>();
  for (const [path, source] of await sources()) {
    const specifiers = dynamicImportsOf(source).map((arg) => arg.match(STRING_LITERAL_RE)?.[2]);
    modules.set(path, specifiers.map((s) => s === undefined ? "<computed>" : resolve(path, s)));
  }
  return modules;
}

/** The arrows of `modules` that reach into tests/, as readable lines. */
export function intoTests(modules: Map<string, string[]>): string[] {
  return [...modules].flatMap(([from, imports]) =>
    imports.filter((to) => to.startsWith("tests/")).map((to) => `${from} → ${to}`)
  );
}

/** Modules reachable from `entry`, the entry included. */
function reachable(modules: Map<string, string[]>, entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(modules.get(next) ?? []));
  }
  return seen;
}

/** The arrows of `modules` that break the layer rule, as readable lines. */
export function violations(modules: Map<string, string[]>): string[] {
  const found: string[] = [];
  for (const [from, imports] of modules) {
    if (!from.startsWith("src/")) continue;
    const fromLayer = layerOf(from);
    for (const to of imports) {
      if (!to.startsWith("src/")) continue;
      const toLayer = layerOf(to);
      if (toLayer !== fromLayer && !ALLOWED[fromLayer].includes(toLayer)) {
        found.push(`${from} → ${to} (${fromLayer} may not import ${toLayer})`);
      }
    }
  }
  return found;
}

Deno.test("src/ imports follow the layer rule", async () => {
  assert.deepEqual(violations(await graph()), []);
});

Deno.test("scripts/ never imports tests/ (shared pieces live in scripts/lib/)", async () => {
  assert.deepEqual(intoTests(await scriptsGraph()), []);
});

Deno.test("intoTests() reports an import of a test fixture", () => {
  const modules = new Map([
    ["scripts/fuzz.ts", ["tests/fuzz/run.ts", "scripts/lib/files.ts"]],
    ["scripts/lib/files.ts", ["node:fs"]],
  ]);
  assert.deepEqual(intoTests(modules), ["scripts/fuzz.ts → tests/fuzz/run.ts"]);
});

Deno.test("index/client and index/server never import each other", async () => {
  const modules = await graph();
  const crossing = [...modules].filter(([from]) => from.startsWith("src/")).flatMap(([
    from,
    imports,
  ]) =>
    imports.filter((to) => {
      const sides = [layerOf(from), to.startsWith("src/") ? layerOf(to) : ""].sort().join(" ");
      return sides === "index/client index/server";
    }).map((to) => `${from} → ${to}`)
  );
  assert.deepEqual(crossing, []);
});

/** The database modules only the server command may load. */
const DATABASE_MODULES = ["node:sqlite", "postgres"];

/** The command files main.ts loads, one for the command argv names. */
function commandFiles(lazy: Map<string, string[]>): string[] {
  return (lazy.get("main.ts") ?? []).filter((path) => path.startsWith("src/cli/commands/"));
}

Deno.test("main.ts statically loads no command, command's work, index server or database", async () => {
  const modules = await graph();
  const lazy = await lazyGraph();
  const loaded = reachable(modules, "main.ts");
  const deferred = [...lazy.values()].flat().filter((path) => loaded.has(path));
  assert.deepEqual(deferred, [], "modules meant to load lazily are loaded at start");
  const server = [...loaded].filter((p) =>
    DATABASE_MODULES.includes(p) || p.startsWith("src/index/server/")
  );
  assert.deepEqual(server, []);
  assert.ok(commandFiles(lazy).includes("src/cli/commands/get.ts"), "main.ts loads get.ts");
  assert.ok(!loaded.has("src/cli/commands/send.ts"), "a get does not load the send command");
});

Deno.test("every dynamic import names an existing module with a string literal", async () => {
  const modules = await graph();
  const lazy = await lazyGraph();
  const bad = [...lazy].flatMap(([from, targets]) =>
    targets.filter((to) => !modules.has(to) && !to.startsWith("node:")).map((to) =>
      `${from} → ${to}`
    )
  );
  // deno compile includes only dynamic imports it can read; a computed one would be missing.
  assert.deepEqual(bad, []);
});

Deno.test("no client command loads node:sqlite or the PostgreSQL driver when it runs", async (t) => {
  const modules = await graph();
  const lazy = await lazyGraph();
  const commands = commandFiles(lazy).flatMap((file) => [...reachable(modules, file)]).filter((
    path,
  ) => path.startsWith("src/cli/commands/") && (lazy.get(path) ?? []).length > 0);
  assert.ok(commands.includes("src/cli/commands/get.ts"), "the walk found the commands");
  const whenRun = (command: string) =>
    new Set([command, ...lazy.get(command)!].flatMap((m) => [...reachable(modules, m)]));
  for (const command of commands.filter((path) => path !== "src/cli/commands/server.ts")) {
    await t.step(command, () => {
      const graphOf = whenRun(command);
      for (const module of DATABASE_MODULES) {
        assert.ok(!graphOf.has(module), `${command} reaches ${module}`);
      }
      const server = [...graphOf].filter((path) => path.startsWith("src/index/server/"));
      assert.deepEqual(server, [], `${command} reaches the index server`);
    });
  }
  await t.step("the server command does reach them (the walk sees through re-exports)", () => {
    const server = whenRun("src/cli/commands/server.ts");
    for (const module of DATABASE_MODULES) assert.ok(server.has(module), module);
  });
});

/**
 * Any `node:` module starts Deno's Node compatibility layer, 15–20 ms of a process start
 * (docs/PERFORMANCE.md, tiny12): what every command loads at start must not need it.
 */
function nodeModules(loaded: Set<string>): string[] {
  return [...loaded].filter((module) => module.startsWith("node:"));
}

Deno.test("main.ts statically loads no node: module", async () => {
  const loaded = reachable(await graph(), "main.ts");
  assert.ok(loaded.has("src/cli/settings/home.ts"), "the walk found the settings");
  assert.deepEqual(nodeModules(loaded), []);
});

/** What a by-ticket `get` of one file must not load before it needs it (issue 12). */
const NOT_FOR_ONE_FILE = [
  // Loads Deno's Node compatibility layer and its crypto (~20 ms at start).
  "node:crypto",
  // The Node layer again (src/path.ts has the path rules sfs needs).
  "node:path",
  "node:os",
  // The folder receiver, loaded by receiver.ts only when the sender answers with a tree.
  "src/peer/tree_receiver.ts",
  // The index client, loaded by get_route.ts only to dial a relay.
  "src/index/client/client.ts",
  // The sender's half of the handshake.
  "src/wire/handshake_responder.ts",
  // The short codes' word list, loaded by get_run.ts only for what is not a ticket.
  "src/peer/code_words.ts",
  // The pinned servers and contacts: for a relay or --as only.
  "src/cli/settings/pins.ts",
];

/** What runs when the `entries` run: a type-only import (of the relay's types, say) loads nothing. */
async function loadedAtRun(entries: string[]): Promise<Set<string>> {
  const modules = await runtimeGraph();
  return new Set(entries.flatMap((entry) => [...reachable(modules, entry)]));
}

Deno.test("a ticket get loads neither the Node layer nor the folder receiver before it needs them", async () => {
  const loaded = await loadedAtRun(["src/cli/commands/get.ts", "src/cli/commands/get_run.ts"]);
  assert.ok(loaded.has("src/peer/receiver.ts"), "the walk found the receiver");
  assert.deepEqual(NOT_FOR_ONE_FILE.filter((module) => loaded.has(module)), []);
  assert.deepEqual(nodeModules(loaded), []);
});

Deno.test("a single-file send loads neither the Node layer nor the folder modules before it needs them", async () => {
  // Each `node:` module is ~5 MiB of a process that must stay under 80 MiB at 4 GiB (issue 12).
  const loaded = await loadedAtRun(["src/cli/commands/send.ts", "src/cli/commands/send_run.ts"]);
  assert.ok(loaded.has("src/peer/file_stream.ts"), "the walk found the file stream");
  const folderModules = ["src/peer/tree_stream.ts", "src/peer/tree_manifest.ts"];
  assert.deepEqual(folderModules.filter((module) => loaded.has(module)), []);
  assert.deepEqual(nodeModules(loaded), []);
});

Deno.test("a folder get and a folder send load no node: module", async () => {
  // The same 15–20 ms and ~5 MiB as for one file (with the Node layer, a 1 KiB file in a folder
  // took 67 MiB to get against 58 alone).
  const get = await loadedAtRun(["src/peer/tree_receiver.ts"]);
  assert.ok(get.has("src/peer/tree_receive_stream.ts"), "the walk found the tree stream");
  assert.deepEqual(nodeModules(get), []);
  const send = await loadedAtRun(["src/cli/commands/send_tree.ts", "src/peer/tree_stream.ts"]);
  assert.ok(send.has("src/peer/tree_manifest.ts"), "the walk found the manifest builder");
  assert.deepEqual(nodeModules(send), []);
});

/**
 * Deno 2.9's global setTimeout and setInterval are Node's: the first call loads `node:timers` and
 * the Node layer (~10 ms). A get's modules use src/timer.ts; these two only set one while a bar is
 * drawn or after Ctrl-C, never in a `--quiet` get.
 */
const NODE_TIMERS_ALLOWED = ["src/cli/progress.ts", "src/cli/interrupt.ts"];
const NODE_TIMER_CALL_RE = /(?<![\w.#])(?:setTimeout|setInterval)\s*\(/;

Deno.test("a ticket get's modules set no global timer (src/timer.ts has deadlines without Node)", async () => {
  const modules = await runtimeGraph();
  const text = await sources();
  const loaded = new Set([
    ...reachable(modules, "main.ts"),
    ...reachable(modules, "src/cli/commands/get.ts"),
    ...reachable(modules, "src/cli/commands/get_run.ts"),
  ]);
  assert.ok(loaded.has("src/wire/frame.ts"), "the walk found the frames");
  const calling = [...loaded].filter((path) =>
    !NODE_TIMERS_ALLOWED.includes(path) && NODE_TIMER_CALL_RE.test(text.get(path) ?? "")
  );
  assert.deepEqual(calling, []);
});

Deno.test("specifiersOf() finds multi-line, type-only, re-export and side-effect imports", () => {
  const source = [
    'import { a,\n  b } from "./a.ts";',
    'import type { C } from "../c.ts";',
    'export { d } from "./d.ts";',
    'export * from "./e.ts";',
    'import "./f.ts";',
    ' * import x from "not-a-module.ts" (a comment)',
  ].join("\n");
  assert.deepEqual(specifiersOf(source), ["./a.ts", "../c.ts", "./d.ts", "./e.ts", "./f.ts"]);
});

Deno.test("runtimeSpecifiersOf() leaves out type-only imports and re-exports", () => {
  const source = [
    'import type { A } from "./a.ts";',
    'import { type B, c } from "./b.ts";',
    'export type { D } from "./d.ts";',
    'import "./a.ts";',
  ].join("\n");
  assert.deepEqual(runtimeSpecifiersOf(source), ["./b.ts", "./a.ts"]);
});

Deno.test("dynamicImportsOf() finds import() calls, not methods named import", () => {
  const source = [
    'const { run } = await import("./get_run.ts");',
    "const load = () => import(`./${name}.ts`);",
    "static async import(raw: Bytes) {}",
    "return this.#import();",
    "const cipher = key.import(bytes);",
  ].join("\n");
  assert.deepEqual(dynamicImportsOf(source), ['"./get_run.ts"', "`./${name}.ts`"]);
});

Deno.test("violations() reports an arrow against the rule", () => {
  const modules = new Map([
    ["src/index/client/client.ts", ["src/index/server/store.ts"]],
    ["src/index/server/store.ts", ["node:sqlite"]],
    ["src/wire/frame.ts", ["src/net/address.ts"]],
  ]);
  assert.equal(violations(modules).length, 2);
});
