/** Character-level mutations of text: odd characters, case changes and cuts. */
import fc from "fast-check";

/** Character-level edits of a string. */
export type TextMutation =
  | { op: "set"; at: number; char: string }
  | { op: "insert"; at: number; text: string }
  | { op: "delete"; at: number; count: number }
  | { op: "case"; at: number }
  | { op: "truncate"; keep: number };

const oddCharArb = fc.oneof(
  fc.constantFrom(
    "-",
    ":",
    "/",
    "#",
    "[",
    "]",
    ".",
    " ",
    "\t",
    "\n",
    "\u00a0",
    "\u212a", // KELVIN SIGN, lower-cases to "k"
    "\u0131",
    "\u0130",
    "\uff41", // FULLWIDTH a
    "0",
    "1",
    "8",
    "9",
    "=",
    "%",
    "\u0000",
    "😀",
  ),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz234567ABCDEF"),
);

/** Arbitrary character-level edits. */
export const textMutationArb: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ op: fc.constant("set"), at: fc.nat(), char: oddCharArb }),
  fc.record({ op: fc.constant("insert"), at: fc.nat(), text: fc.oneof(oddCharArb, fc.string()) }),
  fc.record({ op: fc.constant("delete"), at: fc.nat(), count: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ op: fc.constant("case"), at: fc.nat() }),
  fc.record({ op: fc.constant("truncate"), keep: fc.nat() }),
) as fc.Arbitrary<TextMutation>;

/** Applies character-level edits in order. */
export function mutateText(text: string, mutations: readonly TextMutation[]): string {
  let chars = [...text];
  for (const m of mutations) {
    const at = "at" in m ? m.at % (chars.length + 1) : 0;
    switch (m.op) {
      case "set":
        if (chars.length > 0) chars[at % chars.length] = m.char;
        break;
      case "insert":
        chars.splice(at, 0, m.text);
        break;
      case "delete":
        chars.splice(at, m.count);
        break;
      case "case":
        if (chars.length > 0) {
          const c = chars[at % chars.length];
          chars[at % chars.length] = c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
        }
        break;
      case "truncate":
        chars = chars.slice(0, m.keep % (chars.length + 1));
        break;
    }
  }
  return chars.join("");
}
