/**
 * `sfs send --qr`: a ticket or a code as a QR code on the terminal, through npm `qr` (paulmillr's,
 * no dependencies). The payload is the text itself (the ticket URI, or the code), so a phone
 * app or another sfs reads exactly what would be typed.
 *
 * Half blocks draw two modules a character, so a ticket with a relay hint stays within 80
 * columns; light modules are drawn as filled blocks, which reads right on a dark terminal (the
 * usual one), and the quiet zone around the symbol is part of the drawing.
 */
import encodeQR from "qr";
import type { Output } from "../output.ts";

/** The lines of a QR code holding `text`, light modules as blocks (`qr`'s "ascii" form). */
export function qrLines(text: string): string[] {
  return encodeQR(text, "ascii", { ecc: "medium" }).split("\n").filter((line) => line !== "");
}

/** Prints `text` as a QR code (human output only: JSON carries the text itself). */
export function printQr(out: Output, text: string): void {
  for (const line of qrLines(text)) out.info(line);
}
