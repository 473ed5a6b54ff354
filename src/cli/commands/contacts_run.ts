/**
 * `sfs contacts`: every pinned key, servers first, then users, then the contacts met through a
 * short code (`--as NAME`), as tables or one JSON object.
 */
import type { Output } from "../output.ts";
import { readContacts } from "../settings/contacts.ts";
import { listContacts } from "../settings/pin_edits.ts";

/** Prints the pinned server and user keys of `home`. */
export async function runContacts(options: { home: string }, out: Output): Promise<void> {
  const { servers, users } = await listContacts(options.home);
  const contacts = await readContacts(options.home);
  out.result({
    servers: servers.map((s) => ({ server: s.server, fingerprint: s.fingerprint })),
    users: users.map((u) => ({ user: u.user, server: u.server, fingerprint: u.fingerprint })),
    contacts: contacts.map((c) => ({ name: c.name, server: c.server, fingerprint: c.fingerprint })),
  });
  if (servers.length === 0 && users.length === 0 && contacts.length === 0) {
    out.note("No pinned keys yet: they are pinned on first contact");
    return;
  }
  for (
    const line of table(["SERVER", "FINGERPRINT"], servers.map((s) => [s.server, s.fingerprint]))
  ) {
    out.info(line);
  }
  if (users.length > 0) out.info("");
  const rows = users.map((u) => [u.user, u.server, u.fingerprint]);
  for (const line of table(["USER", "SERVER", "FINGERPRINT"], rows)) out.info(line);
  if (contacts.length > 0) out.info("");
  const named = contacts.map((c) => [c.name, c.server, c.fingerprint]);
  for (const line of table(["CONTACT (--as)", "VIA SERVER", "FINGERPRINT"], named)) out.info(line);
}

/** Left-aligned columns two spaces apart; no lines for no rows. */
function table(header: string[], rows: string[][]): string[] {
  if (rows.length === 0) return [];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), ...rows.map(line)];
}
