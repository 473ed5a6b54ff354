/**
 * Who may open short codes on an index server (docs/PROTOCOL.md §14.5), `sfs server --codes`:
 * defined here, below both the command line that parses it and the server that applies it.
 */

/** The modes, in the order `--help` lists them. */
export const CODE_MODES = ["accounts", "open", "off"] as const;

/**
 * Who may open short codes: `accounts`, authenticated senders only; `open`, any connection (an
 * unauthenticated one counted by its address); `off`, nobody (CODES_OFF).
 */
export type CodeMode = typeof CODE_MODES[number];
