import assert from "node:assert/strict";
import { isSfsError } from "../errors.ts";
import { safeFileName } from "./names.ts";

const utf8Length = (s: string): number => new TextEncoder().encode(s).length;

Deno.test("safeFileName() keeps or repairs names with a safe reading", async (t) => {
  const cases: Array<[string, string, string]> = [
    ["a plain name", "report.pdf", "report.pdf"],
    ["a hidden file", ".bashrc", ".bashrc"],
    ["leading dots that are not a directory", "..foo", "..foo"],
    ["unicode", "résumé 2026.txt", "résumé 2026.txt"],
    ["parent traversal", "../../etc/passwd", "passwd"],
    ["an absolute Unix path", "/abs/path", "path"],
    ["a Windows path", "C:\\Windows\\x", "x"],
    ["mixed separators", "a/b\\c.txt", "c.txt"],
    ["a Windows drive-relative name", "C:x", "C_x"],
    ["a NUL byte", "a\u0000b", "ab"],
    ["C0, DEL and C1 controls", "a\tb\nc\u007fd\u0085e\u009ff", "abcdef"],
    ["an ANSI escape", "\u001b[31mred", "[31mred"],
    ["a bidi override", "invoice\u202etxt.exe", "invoicetxt.exe"],
    ["bidi isolates and marks", "\u2066a\u2069\u200eb\u200f\u061c", "ab"],
    ["NFD to NFC", "e\u0301.txt", "\u00e9.txt"],
    ["Windows-forbidden characters", 'a<b>c:d"e|f?g*h', "a_b_c_d_e_f_g_h"],
    ["leading and trailing spaces", "  name.txt  ", "name.txt"],
    ["trailing dots", "name.txt...", "name.txt"],
    ["trailing dots and spaces mixed", "name. . .", "name"],
    ["CON", "CON", "_CON"],
    ["con.txt", "con.txt", "_con.txt"],
    ["nul with two extensions", "nul.tar.gz", "_nul.tar.gz"],
    ["a device name before a space", "aux .txt", "_aux .txt"],
    ["COM1", "com1", "_com1"],
    ["LPT9", "Lpt9.log", "_Lpt9.log"],
    ["COM with a superscript digit", "COM¹", "_COM¹"],
    ["a device name inside a longer name", "console.txt", "console.txt"],
    ["COM10 is not a device", "COM10", "COM10"],
    ["a temp suffix in the middle", "a.sfs-part.txt", "a.sfs-part.txt"],
  ];
  for (const [name, input, want] of cases) {
    await t.step(name, () => assert.equal(safeFileName(input), want));
  }
});

Deno.test("safeFileName() refuses names with no safe reading", async (t) => {
  const cases: Array<[string, string]> = [
    ["empty", ""],
    [".", "."],
    ["..", ".."],
    ["a trailing separator", "dir/"],
    ["a path ending in ..", "a/b/.."],
    ["a Windows path ending in .", "C:\\dir\\."],
    ["only dots", "..."],
    ["only spaces", "   "],
    ["only control characters", "\u0000\u0001\u009f"],
    ["only bidi characters", "\u202e\u2066"],
    ["a space then ..", " .."],
    ["our partial-download suffix", "movie.mkv.sfs-part"],
    ["our state suffix", "movie.mkv.sfs-state"],
    ["our lock suffix", "movie.mkv.sfs-lock"],
    ["our suffix in another case", "x.SFS-Part"],
    ["our suffix hidden by trailing dots", "x.sfs-state. ."],
    ["our suffix behind a path", "../x.sfs-part"],
  ];
  for (const [name, input] of cases) {
    await t.step(name, () => {
      assert.throws(() => safeFileName(input), (e: unknown) => isSfsError(e, "UNSAFE_NAME"));
    });
  }
});

Deno.test("safeFileName() shortens a 300-byte name to 245 bytes, keeping the extension", () => {
  const input = "é".repeat(148) + ".txt"; // 296 + 4 bytes
  assert.equal(utf8Length(input), 300);
  const got = safeFileName(input);
  assert.equal(got, "é".repeat(120) + ".txt");
  assert.ok(utf8Length(got) <= 245);
});

Deno.test("safeFileName() shortens between characters, never inside one", async (t) => {
  const cases: Array<[string, string]> = [
    ["4-byte emoji", "😀".repeat(80) + ".tar.gz"],
    ["3-byte CJK", "漢".repeat(100)],
    ["combining accents", "e\u0301\u0302".repeat(60) + ".md"],
    ["emoji joined by ZWJ", "👩‍👩‍👧".repeat(20) + ".png"],
    ["a long extension is not kept", "a." + "x".repeat(300)],
    ["a cut landing before spaces and dots", "a".repeat(250) + " . . . . . .b.c"],
  ];
  for (const [name, input] of cases) {
    await t.step(name, () => {
      const got = safeFileName(input);
      assert.ok(utf8Length(got) <= 245, `${utf8Length(got)} bytes`);
      assert.ok(utf8Length(got) > 200, `${utf8Length(got)} bytes: cut too much`);
      // Every grapheme of the result is a whole grapheme of the (NFC) input.
      const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
      const whole = new Set(
        Array.from(segmenter.segment(input.normalize("NFC")), (s) => s.segment),
      );
      for (const { segment } of segmenter.segment(got)) assert.ok(whole.has(segment), segment);
      assert.doesNotMatch(got, /[. ]$/);
    });
  }
  assert.ok(safeFileName("😀".repeat(80) + ".tar.gz").endsWith(".gz"));
});

Deno.test("safeFileName() is idempotent on its own output", () => {
  const inputs = ["con.txt", "a<b", "é".repeat(148) + ".txt", "  x. ", "invoice\u202etxt.exe"];
  for (const input of inputs) {
    const once = safeFileName(input);
    assert.equal(safeFileName(once), once, input);
  }
});
