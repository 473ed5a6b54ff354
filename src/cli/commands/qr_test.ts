import assert from "node:assert/strict";
import { decodePrintedQr } from "../../../tests/qr_pixels.ts";
import { qrLines } from "./qr.ts";

Deno.test("qrLines() prints a QR code that decodes back to the text", async (t) => {
  const texts = [
    "7-crimson-tiger-lamp",
    "sfs://192.0.2.7:4500/0123456789abcdef0123456789abcdef#" + "ab".repeat(32),
    "sfs://192.0.2.7:4500,[2001:db8::7]:4500/0123456789abcdef0123456789abcdef/relay/" +
    "0123456789abcdef0123456789abcdef@index.example.org:4600/" + "cd".repeat(32) + "#" +
    "ab".repeat(32),
  ];
  for (const text of texts) {
    await t.step(`${text.length} characters`, () => {
      const lines = qrLines(text);
      assert.equal(decodePrintedQr(lines), text);
      // Fits an 80-column terminal.
      for (const line of lines) assert.ok([...line].length <= 80, `${[...line].length} columns`);
    });
  }
});
