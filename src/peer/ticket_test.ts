import assert from "node:assert/strict";
import { isSfsError } from "../errors.ts";
import { formatTicket, parseTicket, type Ticket, ticketCandidates } from "./ticket.ts";

const BASE: Ticket = {
  host: "192.0.2.7",
  port: 4444,
  fileId: new Uint8Array(16).fill(1),
  fingerprint: new Uint8Array(32).fill(2),
};

Deno.test("formatTicket() and parseTicket() round-trip the short and the extended form", () => {
  const extended: Ticket = {
    ...BASE,
    alternates: [{ host: "2001:db8::7", port: 4444 }, { host: "files.example.net", port: 1 }],
    relay: { host: "index.example.org", port: 7000, token: new Uint8Array(16).fill(9) },
  };
  for (const ticket of [BASE, extended]) {
    assert.deepEqual(parseTicket(formatTicket(ticket)), ticket);
  }
  assert.equal(ticketCandidates(extended).length, 3);
  assert.match(formatTicket(BASE), /^sfs:\/\/192\.0\.2\.7:4444\/[0-9a-f]{32}#SHA256:/);
});

Deno.test("formatTicket() refuses more than 8 candidates with USAGE", () => {
  const alternates = Array.from({ length: 8 }, (_, i) => ({ host: `10.0.0.${i + 1}`, port: 1 }));
  assert.throws(
    () => formatTicket({ ...BASE, alternates }),
    (err) => isSfsError(err, "USAGE"),
  );
  assert.doesNotThrow(() => formatTicket({ ...BASE, alternates: alternates.slice(1) }));
});
