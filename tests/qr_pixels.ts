/**
 * Reads a QR code printed by `sfs send --qr` (half blocks, light modules drawn) back into RGBA
 * pixels for npm `qr`'s decoder, so a test checks what a phone would scan.
 */
import decodeQR from "qr/decode.js";

/** Pixels per module: the decoder finds its finder patterns only from about 2 on. */
const SCALE = 4;
/** The characters of the drawing: full block, upper half, lower half, space. */
const QR_LINE = /^[█▀▄ ]+$/;

/** The QR code's lines among printed `lines`: the first run of lines made of block characters. */
export function qrLinesIn(lines: readonly string[]): string[] {
  const start = lines.findIndex((line) => QR_LINE.test(line));
  if (start < 0) return [];
  const end = lines.findIndex((line, i) => i > start && !QR_LINE.test(line));
  return lines.slice(start, end < 0 ? undefined : end);
}

/** Decodes printed QR lines: in each character the upper half is one module, the lower another. */
export function decodePrintedQr(lines: readonly string[]): string {
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
      const light = rows[Math.floor(y / SCALE)][Math.floor(x / SCALE)] ?? true;
      const at = (y * width + x) * 4;
      data.fill(light ? 255 : 0, at, at + 3);
      data[at + 3] = 255;
    }
  }
  return decodeQR({ width, height, data });
}
