import assert from "node:assert/strict";
import { addressKey } from "./throttle.ts";

Deno.test("addressKey() keeps IPv4, groups IPv6 by /64 and unmaps IPv4-mapped addresses", () => {
  const cases: [string, string][] = [
    ["192.0.2.1", "192.0.2.1"],
    ["::1", "0:0:0:0::/64"],
    ["[::1]", "0:0:0:0::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["2001:DB8:0:0:ffff:ffff:ffff:ffff", "2001:db8:0:0::/64"],
    ["2001:db8:0:1::1", "2001:db8:0:1::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["::ffff:198.51.100.7", "198.51.100.7"],
    ["0:0:0:0:0:ffff:c633:6407", "198.51.100.7"],
    ["64:ff9b::198.51.100.7", "64:ff9b:0:0::/64"],
  ];
  for (const [host, key] of cases) assert.equal(addressKey(host), key, host);
  // Distinct /64s stay distinct.
  assert.notEqual(addressKey("2001:db8:0:1::1"), addressKey("2001:db8:0:2::1"));
});
