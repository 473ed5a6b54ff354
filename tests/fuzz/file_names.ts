/** safeFileName() target, and the promises any name it returns must keep. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { utf8 } from "../../src/crypto/bytes.ts";
import { safeFileName } from "../../src/peer/names.ts";
import { expectSfsError } from "./checks.ts";
import { check, type FuzzTarget } from "./run.ts";

/** Pieces that exercise every rule of safeFileName(). */
const NAME_PIECES = [
  "/",
  "\\",
  ".",
  "..",
  " ",
  "a",
  "report",
  "con",
  "CON",
  "nul",
  "Lpt1",
  "com\u00b9",
  "conin$",
  ".txt",
  ".tar.gz",
  ".sfs-part",
  ".SFS-STATE",
  "\u0000",
  "\u001f",
  "\u007f",
  "\u0085",
  "\u202e",
  "\u2066",
  "\u200e",
  "\u061c",
  "<",
  ":",
  '"',
  "|",
  "?",
  "*",
  "e\u0301",
  "\u0301",
  "\u212b",
  "A\u030a",
  "\ufeff",
  "😀",
  "👨‍👩‍👧",
  "\u{10ffff}",
  "C:",
  "x".repeat(100),
  "é".repeat(60),
] as const;

const fileNameArb: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 300 }),
  fc.array(fc.constantFrom(...NAME_PIECES), { maxLength: 8 }).map((parts) => parts.join("")),
  fc.array(
    fc.tuple(
      fc.constantFrom(...NAME_PIECES),
      fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 300 })),
    ),
    { maxLength: 4 },
  ).map((parts) => parts.map(([piece, times]) => piece.repeat(times)).join("")),
);

// deno-lint-ignore no-control-regex -- control characters are what the check looks for
const NAME_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const NAME_BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const WINDOWS_DEVICE = /^(con|prn|aux|nul|conin\$|conout\$|com[1-9¹²³]|lpt[1-9¹²³])$/i;

/** The promises safeFileName() makes about any name it returns. */
export function checkSafeName(name: string): void {
  assert.notEqual(name, "", "empty name");
  assert.ok(name !== "." && name !== "..", "directory reference");
  assert.ok(!/[/\\]/.test(name), "path separator");
  assert.ok(!NAME_CONTROL.test(name), "control character");
  assert.ok(!NAME_BIDI.test(name), "bidi control");
  assert.ok(!/[<>:"|?*]/.test(name), "character forbidden on Windows");
  assert.equal(name, name.normalize("NFC"), "not NFC");
  assert.ok(utf8(name).length <= 245, "longer than 245 bytes");
  assert.ok(!/^ /.test(name) && !/[. ]$/.test(name), "leading space or trailing dot or space");
  assert.ok(!WINDOWS_DEVICE.test(name.split(".")[0].replace(/ +$/, "")), "Windows device name");
  assert.ok(!/\.sfs-(part|state)$/i.test(name), "reserved suffix");
}

/** safeFileName(): a safe, idempotent name, or UNSAFE_NAME. */
export function safeFileNameTarget(): FuzzTarget {
  return {
    name: "safeFileName()",
    ciRuns: 1500,
    run: (p) =>
      check(
        fc.property(fileNameArb, (untrusted) => {
          let name: string;
          try {
            name = safeFileName(untrusted);
          } catch (err) {
            expectSfsError(err, ["UNSAFE_NAME"]);
            p.stats.add("UNSAFE_NAME");
            return;
          }
          checkSafeName(name);
          assert.equal(safeFileName(name), name, "not idempotent");
          p.stats.add(name === untrusted ? "ok unchanged" : "ok repaired");
        }),
        p,
      ),
  };
}
