/**
 * The examples each command's `--help` ends with: one or two command lines a new user can copy.
 * Kept in one table beside the registry, so a command without examples shows up in one place
 * (tests/cli_help_test.ts checks every registered command has some).
 */

/** Example command lines by command name. */
export const HELP_EXAMPLES: { readonly [command: string]: readonly string[] } = {
  keygen: ["sfs keygen", "SFS_PASSPHRASE=... sfs keygen --force   # replace, without a prompt"],
  whoami: ["sfs whoami", "sfs whoami --json"],
  send: [
    "sfs send report.pdf                          # prints a ticket for the receiver",
    "sfs send --keyword q3 --to bob report.pdf    # on the index, for bob only",
    "sfs send photo.jpg --code --qr               # a short code such as 7-crimson-tiger-lamp",
    "sfs send photos/ --exclude '*.tmp'           # a folder: one ticket for the whole tree",
    "sfs send a.txt b/ --name bundle              # several paths as one share",
  ],
  get: [
    "sfs get 'sfs://203.0.113.7:40123/…#…' --out ~/Downloads",
    "sfs get report.pdf                           # by name or ID on the index",
    "sfs get 7-crimson-tiger-lamp --server index.example.org   # a short code, no account needed",
    "sfs get - < ticket.txt                       # the ticket or code from stdin (or SFS_TICKET)",
  ],
  server: [
    "sfs server --listen 0.0.0.0:9999",
    "sfs server --codes open --code-ttl 5m     # short codes for anyone, expiring in 5 minutes",
  ],
  register: ["sfs register --server index.example.org:9999 --user alice"],
  login: ["sfs login --user alice", "sfs login --user alice --rotate-keys"],
  search: ["sfs search quarterly report", "sfs search q3 --limit 10 --json"],
  ls: ["sfs ls", "sfs ls --mine    # your files, and with whom each is shared"],
  unshare: ["sfs unshare 3f2a9c0d1e4b5a6978808a9b0c1d2e3f", "sfs unshare report.pdf"],
  contacts: ["sfs contacts", "sfs contacts --json"],
  trust: ["sfs trust bob                  # after bob's key changed: shows both, asks"],
  forget: ["sfs forget bob", "sfs forget index.example.org:9999"],
  verify: [
    "sfs verify report.pdf                  # against report.pdf.sfs-proof",
    "sfs verify report.pdf --proof p.sfs-proof --owner SHA256:vzgp-…",
  ],
};

/** What `sfs --help` ends with: the two commands of a first transfer. */
export const PROGRAM_EXAMPLES: readonly string[] = [
  "sfs send report.pdf                    # on the sending machine: prints a ticket",
  "sfs get 'sfs://…' --out ~/Downloads    # on the receiving machine",
];

/** The text `--help` ends with for `command` (undefined: `sfs` itself); empty without any. */
export function examplesHelp(command?: string): string {
  const lines = command === undefined ? PROGRAM_EXAMPLES : HELP_EXAMPLES[command];
  if (lines === undefined || lines.length === 0) return "";
  return `\nExamples:\n${lines.map((line) => `  ${line}`).join("\n")}\n`;
}
