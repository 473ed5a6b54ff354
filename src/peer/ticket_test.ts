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
  const pinned: Ticket = {
    ...extended,
    relay: { ...extended.relay!, fingerprint: new Uint8Array(32).fill(3) },
  };
  for (const ticket of [BASE, extended, pinned]) {
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

Deno.test("formatTicket() writes the relay's fingerprint after its address, within the bound", () => {
  const server = new Uint8Array(32).fill(3);
  const relay = { host: "index.example.org", port: 7000, token: new Uint8Array(16).fill(9) };
  const text = formatTicket({ ...BASE, relay: { ...relay, fingerprint: server } });
  assert.match(text, /\/relay\/(09){16}@index\.example\.org:7000\/SHA256:[a-z2-7-]+#SHA256:/);
  // Eight of the longest IPv6 candidates and a relay hint with its fingerprint still fit.
  const v6 = (i: number) => ({ host: `2001:db8:ffff:ffff:ffff:ffff:ffff:fff${i}`, port: 65535 });
  const alternates = Array.from({ length: 7 }, (_, i) => v6(i + 1));
  const longest = formatTicket({
    ...BASE,
    ...v6(0),
    alternates,
    relay: { ...relay, fingerprint: server },
  });
  assert.ok(longest.length <= 1024, `${longest.length} characters`);
  assert.throws(
    () => parseTicket(text.replace("/SHA256:", "/SHA256:x")),
    (err) => isSfsError(err, "BAD_TICKET"),
  );
});
