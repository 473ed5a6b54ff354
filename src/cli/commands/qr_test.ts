import assert from "node:assert/strict";
import decodeQR from "qr/decode.js";
import { qrLines } from "./qr.ts";

/** Pixels per module: the decoder finds its finder patterns only from about 2 on. */
const SCALE = 4;

/**
 * Reads printed half-block lines back into RGBA pixels: in each character the upper half is the
 * upper module and the lower half the lower one, a drawn half being light.
 */
function pixelsOf(lines: string[]): { width: number; height: number; data: Uint8Array } {
  const rows: boolean[][] = [];
  for (const line of lines) {
    const chars = [...line];
    rows.push(chars.map((c) => c === "█" || c === "▀"));
    rows.push(chars.map((c) => c === "█" || c === "▄"));
  }
  const width = rows[0].length * SCALE;
  const height = rows.length * SCALE;
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // A missing half (the last line's lower half) is quiet zone: light.
      const light = rows[Math.floor(y / SCALE)][Math.floor(x / SCALE)] ??
        true;
      const at = (y * width + x) * 4;
      data.fill(light ? 255 : 0, at, at + 3);
      data[at + 3] = 255;
    }
  }
  return { width, height, data };
}

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
      assert.equal(decodeQR(pixelsOf(lines)), text);
      // Fits an 80-column terminal.
      for (const line of lines) assert.ok([...line].length <= 80, `${[...line].length} columns`);
    });
  }
});
