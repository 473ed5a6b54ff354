import assert from "node:assert/strict";
import { formatHostPort } from "./address.ts";
import { candidateAddresses, type InterfaceAddress } from "./interfaces.ts";

const LAPTOP: InterfaceAddress[] = [
  { family: "IPv4", address: "127.0.0.1" },
  { family: "IPv6", address: "::1" },
  { family: "IPv4", address: "192.168.1.20" },
  { family: "IPv6", address: "fe80::1c2b:3dff:fe4e:5f60" },
  { family: "IPv6", address: "2001:db8::20" },
  { family: "IPv4", address: "169.254.10.1" },
  { family: "IPv4", address: "10.8.0.2" },
];

const listed = (listen: string, interfaces: InterfaceAddress[], max?: number) =>
  candidateAddresses({ host: listen, port: 0 }, 4444, { interfaces, max }).map(formatHostPort);

Deno.test("candidateAddresses() lists usable IPv4 addresses for 0.0.0.0, in order", () => {
  assert.deepEqual(listed("0.0.0.0", LAPTOP), ["192.168.1.20:4444", "10.8.0.2:4444"]);
});

Deno.test("candidateAddresses() adds global IPv6 addresses for ::, after IPv4", () => {
  assert.deepEqual(listed("::", LAPTOP), [
    "192.168.1.20:4444",
    "10.8.0.2:4444",
    "[2001:db8::20]:4444",
  ]);
});

Deno.test("candidateAddresses() names only the listening host when it is one address", () => {
  assert.deepEqual(listed("127.0.0.1", LAPTOP), ["127.0.0.1:4444"]);
  assert.deepEqual(listed("10.8.0.2", LAPTOP), ["10.8.0.2:4444"]);
});

Deno.test("candidateAddresses() falls back to loopback when nothing else is up", () => {
  assert.deepEqual(listed("0.0.0.0", LAPTOP.slice(0, 2)), ["127.0.0.1:4444"]);
  assert.deepEqual(listed("0.0.0.0", []), ["127.0.0.1:4444"]);
});

Deno.test("candidateAddresses() keeps at most `max`", () => {
  const many: InterfaceAddress[] = Array.from(
    { length: 12 },
    (_, i) => ({ family: "IPv4", address: `10.0.0.${i + 1}` }),
  );
  assert.equal(listed("0.0.0.0", many).length, 12);
  assert.deepEqual(listed("0.0.0.0", many, 2), ["10.0.0.1:4444", "10.0.0.2:4444"]);
});
