/** parseTicket() target: ticket texts that must format and parse back to themselves. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatFingerprint } from "../../src/crypto/identity.ts";
import { formatTicket, parseTicket } from "../../src/peer/ticket.ts";
import { FILE_ID_BYTES } from "../../src/wire/messages.ts";
import { fixed } from "./arbitraries.ts";
import { expectSfsError } from "./checks.ts";
import { fingerprintTextArb } from "./fingerprints.ts";
import { mutateText, textMutationArb } from "./mutate_text.ts";
import { check, type FuzzTarget } from "./run.ts";

const hostArb = fc.oneof(
  fc.constantFrom(
    "127.0.0.1",
    "example.com",
    "[::1]",
    "[fe80::1]",
    "a",
    "[1.2]",
    "sfs.example-1.org",
  ),
  fc.domain(),
);
const portArb = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 65535 }) },
  fc.constantFrom(0, 1, 65535, 65536, 99999),
);
/** Extra direct candidates (§10): none usually, sometimes a few, sometimes too many. */
const alternatesArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant("") },
  fc.array(fc.tuple(hostArb, portArb), { minLength: 1, maxLength: 9 })
    .map((list) => list.map(([h, p]) => `,${h}:${p}`).join("")),
);
/** An optional relay hint (§10): a token of the right or a wrong length and an address. */
const relayArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant("") },
  fc.record({
    token: fc.oneof({ weight: 3, arbitrary: fixed(16) }, fc.uint8Array({ maxLength: 20 })),
    host: hostArb,
    port: portArb,
  }).map(({ token, host, port }) =>
    `/relay/${[...token].map((b) => b.toString(16).padStart(2, "0")).join("")}@${host}:${port}`
  ),
);
const ticketTextArb: fc.Arbitrary<string> = fc.record({
  host: hostArb,
  port: portArb,
  alternates: alternatesArb,
  relay: relayArb,
  id: fc.oneof({ weight: 3, arbitrary: fixed(16) }, fc.uint8Array({ maxLength: 20 })),
  fingerprint: fc.oneof(
    { weight: 3, arbitrary: fixed(32).map(formatFingerprint) },
    fingerprintTextArb,
  ),
  mutations: fc.oneof(
    fc.constant([]),
    fc.array(textMutationArb, { minLength: 1, maxLength: 3 }),
  ),
}).map(({ host, port, alternates, relay, id, fingerprint, mutations }) =>
  mutateText(
    `sfs://${host}:${port}${alternates}/${
      [...id].map((b) => b.toString(16).padStart(2, "0")).join("")
    }${relay}#${fingerprint}`,
    mutations,
  )
);

/** parseTicket(): a ticket that formats and parses back to itself, or BAD_TICKET. */
export function ticketTarget(): FuzzTarget {
  return {
    name: "parseTicket()",
    ciRuns: 700,
    run: (p) =>
      check(
        fc.property(
          fc.oneof(ticketTextArb, fc.string({ unit: "binary", maxLength: 120 })),
          (text) => {
            let ticket;
            try {
              ticket = parseTicket(text);
            } catch (err) {
              expectSfsError(err, ["BAD_TICKET"]);
              p.stats.add("BAD_TICKET");
              return;
            }
            assert.ok(Number.isInteger(ticket.port) && ticket.port >= 1 && ticket.port <= 65535);
            assert.equal(ticket.fileId.length, FILE_ID_BYTES);
            assert.equal(ticket.fingerprint.length, 32);
            assert.deepEqual(
              parseTicket(formatTicket(ticket)),
              ticket,
              "ticket does not round-trip",
            );
            p.stats.add("ok");
          },
        ),
        p,
      ),
  };
}
