/**
 * Keeps the import rule of the house honest (README, design): imports run one way,
 *
 *   cli → peer | index/client | index/server → index/protocol → wire → crypto → errors | text | net
 *
 * and only the `server` command loads the server side, so `node:sqlite` is never in the graph of
 * a client command. The test walks the static import graph of src/ (every `import … from` and
 * `export … from`, type-only ones included: they are arrows of the design even when erased).
 * main.ts imports every command statically today, so the `node:sqlite` check is made on each
 * command module's own graph rather than on main.ts's.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const SPECIFIER_RE =
  /(?:^|\n)\s*(?:import|export)\b[^"'`;]*?\bfrom\s*["']([^"']+)["']|(?:^|\n)\s*import\s*["']([^"']+)["']/g;

type Layer =
  | "cli"
  | "peer"
  | "index/client"
  | "index/server"
  | "index/protocol"
  | "wire"
  | "crypto"
  | "net"
  | "bottom";

/** What each layer may import besides itself. `bottom` is src/*.ts: errors, text, fs, …. */
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
  if (["cli", "peer", "wire", "crypto", "net"].includes(parts[1])) return parts[1] as Layer;
  throw new Error(`Module in no known layer: ${path}`);
}

/** The import specifiers of one module's source text. */
export function specifiersOf(source: string): string[] {
  return [...source.matchAll(SPECIFIER_RE)].map((m) => m[1] ?? m[2]);
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

/** Every module under `root` (non-test ones unless `tests`) with its resolved imports. */
async function graph(
  root = "src",
  { tests = false }: { tests?: boolean } = {},
): Promise<Map<string, string[]>> {
  const modules = new Map<string, string[]>();
  async function walk(dir: string): Promise<void> {
    for await (const entry of Deno.readDir(new URL(`${dir}/`, ROOT))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (path.endsWith(".ts") && (tests || !path.endsWith("_test.ts"))) {
        const source = await Deno.readTextFile(new URL(path, ROOT));
        modules.set(path, specifiersOf(source).map((s) => resolve(path, s)));
      }
    }
  }
  await walk(root);
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
  assert.deepEqual(intoTests(await graph("scripts", { tests: true })), []);
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
  const crossing = [...modules].flatMap(([from, imports]) =>
    imports.filter((to) => {
      const sides = [layerOf(from), to.startsWith("src/") ? layerOf(to) : ""].sort().join(" ");
      return sides === "index/client index/server";
    }).map((to) => `${from} → ${to}`)
  );
  assert.deepEqual(crossing, []);
});

Deno.test("no client command module reaches node:sqlite", async (t) => {
  const modules = await graph();
  const commands = [...modules.keys()].filter((path) =>
    /^src\/cli\/[^/]+\.ts$/.test(path) && path !== "src/cli/server.ts"
  );
  assert.ok(commands.includes("src/cli/get.ts"), "the walk found the commands");
  for (const command of commands) {
    await t.step(command, () => {
      const graphOf = reachable(modules, command);
      assert.ok(!graphOf.has("node:sqlite"), `${command} reaches node:sqlite`);
      const server = [...graphOf].filter((path) => path.startsWith("src/index/server/"));
      assert.deepEqual(server, [], `${command} reaches the index server`);
    });
  }
  await t.step("the server command does reach it (the walk sees through re-exports)", () => {
    assert.ok(reachable(modules, "src/cli/server.ts").has("node:sqlite"));
  });
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

Deno.test("violations() reports an arrow against the rule", () => {
  const modules = new Map([
    ["src/index/client/client.ts", ["src/index/server/store.ts"]],
    ["src/index/server/store.ts", ["node:sqlite"]],
    ["src/wire/frame.ts", ["src/net/address.ts"]],
  ]);
  assert.equal(violations(modules).length, 2);
});
