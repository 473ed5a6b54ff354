/**
 * Keeps the code's links to the normative spec honest: every `§x.y` cited in the code, scripts,
 * tests and docs names a heading of docs/PROTOCOL.md, and the label table of §3.1 lists exactly
 * the labels of src/crypto/labels.ts. A section renumbered or a citation mistyped fails here
 * rather than sending a reader to the wrong rule.
 */
import assert from "node:assert/strict";
import { LABEL } from "../src/crypto/labels.ts";

const ROOT = new URL("../", import.meta.url);
const SPEC = "docs/PROTOCOL.md";
/** Folders walked for citations, and single files beside them. */
const FOLDERS = ["src", "scripts", "tests", "docs", "testdata/vectors"];
const FILES = ["main.ts", "README.md"];
const EXTENSIONS = [".ts", ".md"];
/** `§7`, `§ 7.3`, `§12.4`: a section number after the sign. */
const CITATION_RE = /§\s?(\d+(?:\.\d+)*)/g;
/** A citation of another document (`RFC 7748 §6.1`, `RFC 8017, §9.1`) is not ours to check. */
const EXTERNAL_RE = /RFC\s?\d+,?\s?$/;

/** Section numbers of the spec's headings: `## 7. File transfer` → 7, `### 7.3 FINAL` → 7.3. */
function specSections(text: string): Set<string> {
  const sections = new Set<string>();
  for (const line of text.split("\n")) {
    const heading = /^#{2,4} (\d+(?:\.\d+)*)\.? /.exec(line);
    if (heading) sections.add(heading[1]);
  }
  return sections;
}

interface Citation {
  where: string;
  section: string;
}

/** Every spec citation in `text`, skipping those that cite another document. */
function citationsIn(file: string, text: string): Citation[] {
  const found: Citation[] = [];
  for (const [index, line] of text.split("\n").entries()) {
    for (const match of line.matchAll(CITATION_RE)) {
      if (EXTERNAL_RE.test(line.slice(0, match.index))) continue;
      found.push({ where: `${file}:${index + 1}`, section: match[1] });
    }
  }
  return found;
}

async function* sourceFiles(folder: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(new URL(`${folder}/`, ROOT))) {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (entry.isFile && EXTENSIONS.some((ext) => entry.name.endsWith(ext))) yield path;
  }
}

async function allCitations(): Promise<Citation[]> {
  const paths = [...FILES];
  for (const folder of FOLDERS) {
    for await (const path of sourceFiles(folder)) paths.push(path);
  }
  const citations: Citation[] = [];
  for (const path of paths) {
    citations.push(...citationsIn(path, await Deno.readTextFile(new URL(path, ROOT))));
  }
  return citations;
}

Deno.test("every § cited in the repository is a heading of docs/PROTOCOL.md", async () => {
  const sections = specSections(await Deno.readTextFile(new URL(SPEC, ROOT)));
  assert.ok(sections.has("3.1") && sections.has("12.5"), "spec headings not recognised");
  const citations = await allCitations();
  // The code cites the spec all over; finding few means the walk or the pattern broke.
  assert.ok(citations.length >= 100, `only ${citations.length} citations found`);
  const wrong = citations.filter((c) => !sections.has(c.section));
  assert.deepEqual(wrong.map((c) => `${c.where}: §${c.section}`), [], "no such section");
});

Deno.test("citationsIn() finds our sections and skips other documents'", () => {
  const text = "see §7.3 and § 12 (RFC 7748 §6.1, RFC 8017, §9.1.1)\nalso §6–§7";
  assert.deepEqual(citationsIn("x.ts", text).map((c) => `${c.where} ${c.section}`), [
    "x.ts:1 7.3",
    "x.ts:1 12",
    "x.ts:2 6",
    "x.ts:2 7",
  ]);
});

Deno.test("docs/PROTOCOL.md §3.1 lists exactly the labels of src/crypto/labels.ts", async () => {
  const spec = await Deno.readTextFile(new URL(SPEC, ROOT));
  const start = spec.indexOf("### 3.1 Labels");
  const end = spec.indexOf("\n## ", start);
  assert.ok(start >= 0 && end > start, "§3.1 not found");
  const table = [...spec.slice(start, end).matchAll(/^\| `(sfs\/v[0-9]+\/[a-z0-9/-]+)` +\|/gm)]
    .map((m) => m[1]);
  assert.deepEqual([...table].sort(), Object.values(LABEL).sort());
});

Deno.test("every vector file docs/PROTOCOL.md names exists", async () => {
  const spec = await Deno.readTextFile(new URL(SPEC, ROOT));
  const files: string[] = [];
  for await (const entry of Deno.readDir(new URL("testdata/vectors/", ROOT))) {
    files.push(entry.name);
  }
  const paragraphs = spec.split("\n\n").filter((p) => p.startsWith("Vectors: "));
  assert.ok(paragraphs.length >= 10, `only ${paragraphs.length} "Vectors:" lines`);
  for (const paragraph of paragraphs) {
    for (const [, name] of paragraph.matchAll(/`(?:testdata\/vectors\/)?([a-z0-9*-]+\.txt)`/g)) {
      const pattern = new RegExp(`^${name.replaceAll(".", "\\.").replaceAll("*", ".*")}$`);
      assert.ok(files.some((file) => pattern.test(file)), `no vector matches ${name}`);
    }
  }
});
