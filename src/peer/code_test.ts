import assert from "node:assert/strict";
import fc from "fast-check";
import { sha256, toHex, utf8 } from "../crypto/bytes.ts";
import { type ErrorCode, isSfsError } from "../errors.ts";
import {
  codeEntropyBits,
  formatCode,
  looksLikeCode,
  MAX_CODE_WORDS,
  MIN_CODE_WORDS,
  parseCode,
  randomCodeWords,
} from "./code.ts";
import { CODE_WORDS, CODE_WORDS_SHA256 } from "./code_words.ts";

function code(expected: ErrorCode): (err: unknown) => boolean {
  return (err) => isSfsError(err, expected);
}

Deno.test("CODE_WORDS has the recorded hash and the list's properties", async (t) => {
  await t.step("SHA-256 of the words, one a line, is CODE_WORDS_SHA256", async () => {
    assert.equal(toHex(await sha256(utf8(CODE_WORDS.join("\n") + "\n"))), CODE_WORDS_SHA256);
  });
  await t.step("2048 words, so a word is exactly 11 bits", () => {
    assert.equal(CODE_WORDS.length, 2048);
  });
  await t.step("each word is 3 to 8 lower-case ASCII letters", () => {
    for (const word of CODE_WORDS) assert.match(word, /^[a-z]{3,8}$/);
  });
  await t.step("sorted and without duplicates", () => {
    for (let i = 1; i < CODE_WORDS.length; i++) assert.ok(CODE_WORDS[i - 1] < CODE_WORDS[i]);
  });
  await t.step("no word is a prefix of another", () => {
    // Sorted, so a word that is a prefix of another is directly followed by one it prefixes.
    for (let i = 1; i < CODE_WORDS.length; i++) {
      assert.ok(!CODE_WORDS[i].startsWith(CODE_WORDS[i - 1]), CODE_WORDS[i]);
    }
  });
  await t.step("the first four letters identify a word", () => {
    assert.equal(new Set(CODE_WORDS.map((word) => word.slice(0, 4))).size, CODE_WORDS.length);
  });
});

Deno.test("formatCode() writes the canonical form", async (t) => {
  const ok: [number, string[], string][] = [
    [7, ["crimson", "tiger", "lamp"], "7-crimson-tiger-lamp"],
    [1, ["abacus", "abacus", "abacus"], "1-abacus-abacus-abacus"],
    [999999, Array(8).fill("zucchini"), `999999-${Array(8).fill("zucchini").join("-")}`],
  ];
  for (const [nameplate, words, expected] of ok) {
    await t.step(expected, () => assert.equal(formatCode(nameplate, words), expected));
  }
  const bad: [string, number, string[]][] = [
    ["nameplate 0", 0, ["crimson", "tiger", "lamp"]],
    ["negative nameplate", -7, ["crimson", "tiger", "lamp"]],
    ["seven-digit nameplate", 1_000_000, ["crimson", "tiger", "lamp"]],
    ["fractional nameplate", 1.5, ["crimson", "tiger", "lamp"]],
    ["NaN nameplate", NaN, ["crimson", "tiger", "lamp"]],
    ["two words", 7, ["crimson", "tiger"]],
    ["nine words", 7, Array(9).fill("tiger")],
    ["a word not in the list", 7, ["crimson", "tiger", "revenge"]],
    ["an upper-case word", 7, ["crimson", "Tiger", "lamp"]],
    ["a word with a hyphen", 7, ["crimson-tiger", "lamp", "lamb"]],
  ];
  for (const [name, nameplate, words] of bad) {
    await t.step(`${name}: BAD_CODE`, () => {
      assert.throws(() => formatCode(nameplate, words), code("BAD_CODE"));
    });
  }
});

Deno.test("parseCode() forgives case and surrounding space, nothing else", async (t) => {
  const ok: [string, number, string[]][] = [
    ["7-crimson-tiger-lamp", 7, ["crimson", "tiger", "lamp"]],
    ["  7-Crimson-TIGER-lamp\n", 7, ["crimson", "tiger", "lamp"]],
    ["\t42-guitar-lamb-abacus ", 42, ["guitar", "lamb", "abacus"]],
    ["999999-tiger-tiger-tiger-tiger-tiger-tiger-tiger-tiger", 999999, Array(8).fill("tiger")],
  ];
  for (const [text, nameplate, words] of ok) {
    await t.step(JSON.stringify(text), () => {
      assert.deepEqual(parseCode(text), { nameplate, words });
    });
  }
  const bad: string[] = [
    "",
    "   ",
    "7",
    "7-",
    "crimson-tiger-lamp",
    "7-crimson-tiger",
    "7-crimson-tiger-lamp-",
    "-7-crimson-tiger-lamp",
    "07-crimson-tiger-lamp",
    "0-crimson-tiger-lamp",
    "1000000-crimson-tiger-lamp",
    "7-crimson--tiger-lamp",
    "7 crimson tiger lamp",
    "7-crimson tiger-lamp",
    "7_crimson_tiger_lamp",
    "7-crimson-tiger-lamp extra",
    "7-crimson-tiger-revenge",
    "7-crimson-tiger-la",
    "7-crimson-tiger-lampshade",
    "7-crimson-tigér-lamp",
    "７-crimson-tiger-lamp",
    "7-crimson-tiger-lamp-lamp-lamp-lamp-lamp-lamp-lamp",
    "+7-crimson-tiger-lamp",
    "7.0-crimson-tiger-lamp",
    "7-crimson-tiger-lamp\u0000",
  ];
  for (const text of bad) {
    await t.step(`${JSON.stringify(text)}: BAD_CODE`, () => {
      assert.throws(() => parseCode(text), code("BAD_CODE"));
    });
  }
});

Deno.test("parseCode() inverts formatCode() (property)", () => {
  const index = fc.integer({ min: 0, max: CODE_WORDS.length - 1 });
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 999_999 }),
      fc.array(index, { minLength: MIN_CODE_WORDS, maxLength: MAX_CODE_WORDS }),
      (nameplate, indices) => {
        const words = indices.map((i) => CODE_WORDS[i]);
        const text = formatCode(nameplate, words);
        assert.deepEqual(parseCode(text), { nameplate, words });
        assert.equal(formatCode(nameplate, parseCode(` ${text.toUpperCase()} `).words), text);
      },
    ),
  );
});

Deno.test("randomCodeWords() maps 16 random bits to a word through the low 11", async (t) => {
  const cases: [string, number[], string[]][] = [
    ["zero bits: the first word, three times", [0, 0, 0, 0, 0, 0], Array(3).fill(CODE_WORDS[0])],
    [
      "all ones: the last word",
      [0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
      Array(3).fill(CODE_WORDS[2047]),
    ],
    ["high five bits ignored", [0xf8, 0x00, 0x08, 0x01, 0x07, 0xff], [
      CODE_WORDS[0],
      CODE_WORDS[1],
      CODE_WORDS[2047],
    ]],
  ];
  for (const [name, bytes, expected] of cases) {
    await t.step(name, () => {
      assert.deepEqual(randomCodeWords(3, { random: () => Uint8Array.from(bytes) }), expected);
    });
  }
  await t.step("default: three listed words, 33 bits", () => {
    const words = randomCodeWords();
    assert.equal(words.length, 3);
    for (const word of words) assert.ok(CODE_WORDS.includes(word));
    assert.equal(codeEntropyBits(words.length), 33);
  });
  for (const count of [2, 9, 3.5]) {
    await t.step(`${count} words: USAGE`, () => {
      assert.throws(() => randomCodeWords(count), code("USAGE"));
    });
  }
  await t.step("a short read from the random source: INTERNAL", () => {
    assert.throws(() => randomCodeWords(3, { random: () => new Uint8Array(5) }), code("INTERNAL"));
  });
});

Deno.test("looksLikeCode() is true for a code's shape, words unchecked, and nothing else", async (t) => {
  const like = [
    "7-crimson-tiger-lamp",
    " 7-Crimson-TIGER-lamp\n",
    "12-abc-def-ghi-jkl",
    "7-xxx-yyy-zzz",
  ];
  for (const text of like) {
    await t.step(JSON.stringify(text), () => assert.equal(looksLikeCode(text), true));
  }
  const unlike = [
    "sfs://192.0.2.7:4500/0123456789abcdef0123456789abcdef#SHA256:abcd",
    "0123456789abcdef0123456789abcdef",
    "holiday-photos-2024.jpg",
    "7-crimson-tiger",
    "07-crimson-tiger-lamp",
    "7 crimson tiger lamp",
    "7-crimson-tiger-lampshade",
  ];
  for (const text of unlike) {
    await t.step(
      `${JSON.stringify(text)}: not a code`,
      () => assert.equal(looksLikeCode(text), false),
    );
  }
});
