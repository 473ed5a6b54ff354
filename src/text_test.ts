import assert from "node:assert/strict";
import { displayExcerpt, escapeForDisplay, isDisplaySafe } from "./text.ts";

Deno.test("isDisplaySafe() refuses controls, bidi controls, separators and lone surrogates", async (t) => {
  const refused: Array<[string, string]> = [
    ["NUL", "\u0000"],
    ["BEL", "\u0007"],
    ["LF", "\n"],
    ["CR", "\r"],
    ["ESC", "\u001b"],
    ["DEL", "\u007f"],
    ["C1 NEL", "\u0085"],
    ["C1 CSI", "\u009b"],
    ["C1 OSC", "\u009d"],
    ["ALM", "\u061c"],
    ["LRM", "\u200e"],
    ["RLM", "\u200f"],
    ["line separator", "\u2028"],
    ["paragraph separator", "\u2029"],
    ["LRE", "\u202a"],
    ["RLO", "\u202e"],
    ["LRI", "\u2066"],
    ["PDI", "\u2069"],
    ["a lone high surrogate", "\ud800"],
    ["a lone low surrogate", "\udc00"],
  ];
  for (const [what, ch] of refused) {
    await t.step(`${what} is refused, and escaped`, () => {
      assert.equal(isDisplaySafe(`a${ch}b`), false);
      const shown = escapeForDisplay(`a${ch}b`);
      assert.equal(isDisplaySafe(shown), true);
      assert.equal(shown, `a\\u{${ch.codePointAt(0)!.toString(16)}}b`);
    });
  }
});

Deno.test("isDisplaySafe() accepts real names, and escapeForDisplay() leaves them alone", async (t) => {
  const accepted: Array<[string, string]> = [
    ["ASCII", "report 2024 (final).pdf"],
    ["accents", "café déjà vu.txt"],
    ["Hebrew", "שלום.txt"],
    ["an emoji with ZWJ", "👩‍💻 notes.md"],
    ["Persian with ZWNJ", "می‌خواهم.txt"],
    ["a no-break space", "a\u00a0b.txt"],
    ["a surrogate pair", "𝄞.mid"],
    ["a tab-free backslash", "a\\u{1b}b"],
  ];
  for (const [what, text] of accepted) {
    await t.step(what, () => {
      assert.equal(isDisplaySafe(text), true);
      assert.equal(escapeForDisplay(text), text);
    });
  }
});

Deno.test("escapeForDisplay() with spaces also escapes look-alike spaces", () => {
  assert.equal(escapeForDisplay("a\u00a0b\u3000c d", { spaces: true }), "a\\u{a0}b\\u{3000}c d");
  assert.equal(escapeForDisplay("a\u200bb\ufeff", { spaces: true }), "a\\u{200b}b\\u{feff}");
  assert.equal(escapeForDisplay("\u001b]52;c;x\u0007", { spaces: true }), "\\u{1b}]52;c;x\\u{7}");
});

Deno.test("escapeForDisplay() with json keeps a JSON text's value", () => {
  const value = { name: "a\u202eb\u0085c\u007f\u2028d\u001b", ok: "é 😀" };
  const line = escapeForDisplay(JSON.stringify(value), { json: true });
  assert.equal(isDisplaySafe(line), true);
  assert.deepEqual(JSON.parse(line), value);
});

Deno.test("displayExcerpt() escapes and cuts a long name to 80 characters", () => {
  assert.equal(displayExcerpt("a\u202eb"), "a\\u{202e}b");
  assert.equal(displayExcerpt("x".repeat(80)), "x".repeat(80));
  assert.equal(displayExcerpt(`${"x".repeat(79)}\u0007yz`), `${"x".repeat(79)}\\u{7}…`);
});
